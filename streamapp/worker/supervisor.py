"""Keeping a worker running: restart its process when Kafka or Redis took it down.

The worker's process ends when a service it needs fails at the wrong moment (a broker that stays
away while the process starts, for one). Nothing is lost then, because offsets are committed only
after a batch is applied, so the cure is simply to start again, after a pause that grows while the
failures repeat.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

log = logging.getLogger("streamapp.worker")

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
# A process that ran this long had recovered; its failure starts the pauses from the beginning.
HEALTHY_SECONDS = 60.0
_PR_SET_PDEATHSIG = 1


def restart_delay(previous: float | None, ran_seconds: float) -> float:
    """The pause before the next start: doubling while failures repeat, reset by a long run.

    >>> restart_delay(None, 3.0), restart_delay(1.0, 3.0), restart_delay(16.0, 3.0)
    (1.0, 2.0, 30.0)
    >>> restart_delay(30.0, 600.0)
    1.0
    """
    if previous is None or ran_seconds >= HEALTHY_SECONDS:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


def die_with_parent() -> None:
    """Have the kernel kill this process when its supervisor dies, even by SIGKILL.

    Without it a killed supervisor would leave a worker consuming on its own, and the restarted
    supervisor would start a second one. Linux only; elsewhere the process lives on.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the supervisor died before the line above took effect
        os._exit(1)


def supervise(command: Sequence[str], *, pause: Callable[[float, Callable[[], bool]], None]
              | None = None) -> int:
    """Run ``command`` until it exits cleanly or this process is asked to stop; return its code.

    SIGTERM and SIGINT are passed on to the running process, which then stops as it would alone.
    """
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous_handlers = {sig: signal.signal(sig, forward)
                         for sig in (signal.SIGTERM, signal.SIGINT)}
    delay: float | None = None
    restarts = 0
    try:
        while True:
            started = time.monotonic()
            child = subprocess.Popen(list(command))
            code = child.wait()
            if stopping or code == 0:
                return code
            delay = restart_delay(delay, time.monotonic() - started)
            restarts += 1
            log.warning("the worker process exited with code %d; starting it again in %.0f s "
                        "(restart %d)", code, delay, restarts)
            (pause or _pause)(delay, lambda: stopping)
            if stopping:
                return code
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)


def _pause(seconds: float, stopped: Callable[[], bool]) -> None:
    # In steps: a stop request during a 30-second pause should not wait for its end.
    until = time.monotonic() + seconds
    while not stopped() and time.monotonic() < until:
        time.sleep(min(0.2, until - time.monotonic()))
