"""The audiences file: loaded at start, re-read when it changes on disk."""

from __future__ import annotations

import logging
from pathlib import Path

from streamapp.core.audiences import Audience, AudienceError, parse_audiences

log = logging.getLogger("streamapp.worker")


class AudienceFile:
    """One YAML file of audiences (or none), with the modification time it was read at."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None

    def _current_stamp(self) -> tuple[int, int] | None:
        if self.path is None or not self.path.exists():
            return None
        stat = self.path.stat()
        return (stat.st_mtime_ns, stat.st_size)

    def load(self) -> list[Audience]:
        """The audiences in the file; raises ``AudienceError`` saying where a condition is wrong."""
        self._stamp = self._current_stamp()
        if self.path is None:
            return []
        if self._stamp is None:
            raise AudienceError(f"audiences file {self.path} does not exist — create it (see "
                                "audiences.example.yaml) or unset STREAMAPP_AUDIENCES_FILE")
        return parse_audiences(self.path.read_text(encoding="utf-8"))

    def reload_if_changed(self) -> list[Audience] | None:
        """The new audiences when the file changed since the last load, else None.

        A file that no longer parses is reported and ignored: the audiences in force stay.
        """
        if self._current_stamp() == self._stamp:
            return None
        try:
            return self.load()
        except AudienceError as exc:
            log.error("audiences file changed but is not valid, keeping the previous one: %s", exc)
            return None
