"""The worker's supervisor: restarts after failures, stops on request, takes its worker along."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from streamapp.worker.supervisor import supervise


def _flaky(tmp_path: Path, failures: int) -> list[str]:
    """A command that fails ``failures`` times, then succeeds; it counts its starts in a file."""
    starts = tmp_path / "starts"
    script = textwrap.dedent(f"""
        from pathlib import Path
        p = Path({str(starts)!r})
        n = int(p.read_text()) if p.exists() else 0
        p.write_text(str(n + 1))
        raise SystemExit(1 if n < {failures} else 0)
    """)
    return [sys.executable, "-c", script]


def test_restarts_until_a_clean_exit_with_growing_pauses(tmp_path: Path) -> None:
    pauses: list[float] = []
    code = supervise(_flaky(tmp_path, failures=3), pause=lambda s, _stopped: pauses.append(s))
    assert code == 0
    assert (tmp_path / "starts").read_text() == "4"
    assert pauses == [1.0, 2.0, 4.0]


def test_sigterm_is_passed_on_and_ends_the_loop(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = textwrap.dedent(f"""
        import signal, sys, time
        from pathlib import Path
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        Path({str(ready)!r}).write_text("up")
        time.sleep(60)
    """)
    parent = textwrap.dedent(f"""
        import sys
        from streamapp.worker.supervisor import supervise
        sys.exit(supervise([sys.executable, "-c", {child!r}]))
    """)
    process = subprocess.Popen([sys.executable, "-c", parent])
    _wait_for(ready)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_supervisor_takes_its_worker_along(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    child = textwrap.dedent(f"""
        import os, time
        from pathlib import Path
        from streamapp.worker.supervisor import die_with_parent
        die_with_parent()
        Path({str(pid_file)!r}).write_text(str(os.getpid()))
        time.sleep(60)
    """)
    parent = f"import sys\nfrom streamapp.worker.supervisor import supervise\n" \
             f"supervise([sys.executable, '-c', {child!r}])"
    process = subprocess.Popen([sys.executable, "-c", parent])
    _wait_for(pid_file)
    worker = int(pid_file.read_text())
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), "the worker outlived its killed supervisor"


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 20
    while not (path.exists() and path.read_text() != "") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A dead child not yet reaped by init still answers; its state says it is a zombie.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")
