"""Background server processes that outlive the command that started them, tracked by pid files.

A pid alone is not proof: after a reboot or a crash the number may belong to another program. So a
pid counts as "our server" only while its command line still contains a marker we chose (the
path of the server's own config file, or the server's program name).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from streamapp.dev.errors import ServiceError


def read_pid(pid_file: Path) -> int | None:
    """The pid written in ``pid_file``, or None when there is no usable one.

    >>> read_pid(Path("no-such.pid")) is None
    True
    """
    try:
        text = pid_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def is_running(pid: int, marker: str) -> bool:
    """Whether process ``pid`` is alive (not a zombie) and its command line contains ``marker``."""
    _reap(pid)
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():  # no procfs (macOS): fall back on "the pid exists"
        return _pid_exists(pid)
    # The command line reads empty for a zombie (dead, not yet waited for) and, for a moment,
    # for a process in the middle of exec: wait that moment out before deciding.
    for _ in range(50):
        try:
            if proc.joinpath("stat").read_text().rpartition(")")[2].split()[0] == "Z":
                return False
            raw = proc.joinpath("cmdline").read_bytes()
        except (OSError, IndexError):
            return False
        if raw:
            return marker in raw.replace(b"\0", b" ").decode(errors="replace")
        time.sleep(0.01)
    return False


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in ``pid_file`` if that process is still our server; a stale file is removed."""
    pid = read_pid(pid_file)
    if pid is not None and is_running(pid, marker):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def spawn_detached(
    argv: Sequence[str], log_file: Path, pid_file: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session (so Ctrl-C in this terminal does not reach it) and
    record its pid; its stdout and stderr go to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n", encoding="ascii")
    return process


def stop(pid: int, marker: str, grace: float) -> str:
    """Stop our server ``pid``: SIGTERM, up to ``grace`` seconds to exit, then SIGKILL.

    Returns how it ended: ``"stopped"`` (it exited on SIGTERM) or ``"killed"``.
    """
    if not _signal(pid, signal.SIGTERM):
        return "stopped"
    if _wait_gone(pid, marker, grace):
        return "stopped"
    _signal(pid, signal.SIGKILL)
    if _wait_gone(pid, marker, 10.0):
        return "killed"
    raise ServiceError(f"process {pid} survived SIGKILL; stop it by hand")


def stop_children(processes: Sequence[subprocess.Popen[bytes]], grace: float) -> None:
    """Terminate child processes together, killing those still running after ``grace`` s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_gone(pid: int, marker: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while is_running(pid, marker):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _signal(pid: int, signum: signal.Signals) -> bool:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> None:
    # When this very process started the server (tests, `demo`), its exit leaves a zombie until
    # someone waits for it; waiting here lets is_running see it as gone.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(text: str, lines: int = 8) -> str:
    """The last ``lines`` non-blank lines of ``text``, indented, for an error message.

    >>> print(tail("a\\n\\nb\\nc\\n", lines=2))
        b
        c
    """
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in kept)


def log_size(log_file: Path) -> int:
    """How many bytes ``log_file`` holds now (0 when missing): where a new run's lines start."""
    try:
        return log_file.stat().st_size
    except OSError:
        return 0


def log_tail(log_file: Path, lines: int = 8, since: int = 0) -> str:
    """The end of a log file after byte ``since``, or an empty string when there is none."""
    try:
        with log_file.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(since, log.tell() - 16384))  # the end is all an error message needs
            return tail(log.read().decode(errors="replace"), lines)
    except OSError:
        return ""
