"""The load generator runs aside: its own thread and loop, at a lower priority than the caller."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from streamapp.bench.aside import run_aside


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_work_runs_on_a_lowered_thread_and_its_result_comes_back() -> None:
    async def work() -> tuple[str, int, asyncio.AbstractEventLoop]:
        await asyncio.sleep(0.01)
        return threading.current_thread().name, _priority(), asyncio.get_running_loop()

    async def main() -> None:
        caller = _priority()
        name, priority, loop = await run_aside(work, nice=3)
        assert name == "latency-load"
        assert loop is not asyncio.get_running_loop()
        if sys.platform.startswith("linux"):
            assert priority == min(caller + 3, 19)
        # Only the load's thread was lowered: processes started from here keep the priority.
        assert _priority() == caller

    asyncio.run(main())


def test_an_error_of_the_work_is_raised_to_the_caller() -> None:
    async def work() -> None:
        raise RuntimeError("broker gone")

    with pytest.raises(RuntimeError, match="broker gone"):
        asyncio.run(run_aside(work))


def test_work_that_outlives_its_caller_ends_quietly() -> None:
    finished = threading.Event()
    errors: list[BaseException | None] = []

    async def work() -> None:
        await asyncio.sleep(0.2)
        finished.set()

    async def impatient() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(run_aside(work), 0.01)

    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        asyncio.run(impatient())  # closes the loop the work would report to
        assert finished.wait(5)
        for thread in threading.enumerate():
            if thread.name == "latency-load":
                thread.join(5)
    finally:
        threading.excepthook = previous
    assert errors == []
