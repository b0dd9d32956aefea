"""Running the benchmark's load generator aside: in a thread of its own, at a lower CPU priority.

The load generator and the changes reader stand for producers and consumers that run on other
machines. On the benchmark's 2-core machine they competed with the worker, the broker and Redis
for a core. Lowered in priority, they get a core only when those do not need it. That can only
delay their own sends and reads, which count against the measured latency, never for it.

Only the thread is lowered (Linux gives every thread its own nice value), not the process: the
contenders it starts later keep the ordinary priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger("streamapp.bench")
T = TypeVar("T")
# Linux's nice 10 weighs about a tenth of nice 0 when the two want the same core.
NICE = 10


def lower_this_thread(nice: int = NICE) -> bool:
    """Lower the calling thread's CPU priority by ``nice``; False where that cannot be done
    per thread (not Linux) or is not allowed.

    >>> import threading
    >>> result: list[bool] = []
    >>> t = threading.Thread(target=lambda: result.append(lower_this_thread(0)))
    >>> t.start(); t.join()
    >>> result == [sys.platform.startswith("linux")]
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError as exc:
        log.warning("could not lower the load generator's CPU priority: %s", exc)
        return False
    return True


async def run_aside(work: Callable[[], Coroutine[Any, Any, T]], nice: int = NICE) -> T:
    """Run ``work()`` on an event loop of its own, in a daemon thread lowered by ``nice``; the
    caller's loop waits for its result without taking CPU from it."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if outcome.done():  # the caller was cancelled meanwhile
            return
        if error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(value)  # type: ignore[arg-type]  # set only with a T

    def run() -> None:
        lower_this_thread(nice)
        error: BaseException | None = None
        value: T | None = None
        try:
            value = asyncio.run(work())
        except BaseException as exc:  # handed to the caller, whatever it is
            error = exc
        # The caller's loop is closed when the benchmark was stopped meanwhile: nobody waits.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, value, error)

    # A daemon: a benchmark stopped with Ctrl-C does not wait out the window.
    threading.Thread(target=run, name="latency-load", daemon=True).start()
    return await outcome
