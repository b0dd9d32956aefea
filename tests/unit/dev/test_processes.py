"""Pid files and graceful stops, with a harmless ``sleep`` standing in for a server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamapp.dev.processes import (
    is_running,
    log_size,
    log_tail,
    read_pid,
    running_pid,
    spawn_detached,
    stop,
)

# A marker unique to this test's child, as a server's config path is unique to its server.
SLEEPER = "import time; time.sleep(60)  # streamapp-dev-test"


def _spawn_sleeper(tmp_path: Path) -> subprocess.Popen[bytes]:
    return spawn_detached(
        [sys.executable, "-c", SLEEPER], tmp_path / "out.log", tmp_path / "s.pid", tmp_path
    )


def test_spawned_process_is_tracked_and_stopped_by_sigterm(tmp_path: Path) -> None:
    process = _spawn_sleeper(tmp_path)
    try:
        assert read_pid(tmp_path / "s.pid") == process.pid
        assert running_pid(tmp_path / "s.pid", "streamapp-dev-test") == process.pid
        assert stop(process.pid, "streamapp-dev-test", grace=10) == "stopped"
        assert not is_running(process.pid, "streamapp-dev-test")
    finally:
        process.kill()
        process.wait()


def test_a_pid_whose_command_line_lacks_the_marker_is_not_ours(tmp_path: Path) -> None:
    process = _spawn_sleeper(tmp_path)
    try:
        assert not is_running(process.pid, "some-other-server.properties")
        assert running_pid(tmp_path / "s.pid", "some-other-server.properties") is None
        assert not (tmp_path / "s.pid").exists()  # a stale pid file is cleaned up
        assert process.poll() is None  # and the process was left alone
    finally:
        process.kill()
        process.wait()


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    code += "print('ready', flush=True); time.sleep(60)  # stubborn-test"
    process = spawn_detached(
        [sys.executable, "-c", code], tmp_path / "out.log", tmp_path / "s.pid", tmp_path
    )
    try:
        while "ready" not in (tmp_path / "out.log").read_text():
            assert process.poll() is None
        assert stop(process.pid, "stubborn-test", grace=0.3) == "killed"
    finally:
        process.kill()
        process.wait()


def test_missing_or_garbled_pid_files_read_as_none(tmp_path: Path) -> None:
    assert read_pid(tmp_path / "none.pid") is None
    (tmp_path / "bad.pid").write_text("not a pid\n")
    assert read_pid(tmp_path / "bad.pid") is None
    (tmp_path / "zero.pid").write_text("0\n")
    assert read_pid(tmp_path / "zero.pid") is None


def test_log_tail_quotes_only_what_a_run_added(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("old run\n")
    start = log_size(log)
    with log.open("a") as handle:
        handle.write("new run failed\n\n")
    assert log_tail(log, since=start) == "    new run failed"
    assert log_tail(tmp_path / "missing.log") == ""
    assert log_size(tmp_path / "missing.log") == 0
