"""The one error the dev services raise: a message that tells the user what to do next.

Callers (``streamapp dev``, ``streamapp demo``, test fixtures) catch it and show the message as it
is; it never needs a stack trace to be understood.

>>> str(ServiceError("Kafka did not answer"))
'Kafka did not answer'
"""

from __future__ import annotations

import os


class ServiceError(RuntimeError):
    """A local service could not be installed, started, reached or stopped."""


def apt_hint(package: str) -> str:
    """The command that installs a Debian package, with sudo when we are not root.

    >>> apt_hint("maven") in ("sudo apt-get install -y maven", "apt-get install -y maven")
    True
    """
    sudo = "" if os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install -y {package}"
