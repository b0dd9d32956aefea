"""Signing and filtering forwarded change events; pure functions a receiver can mirror.

The signature is the GitHub-webhook convention receivers already know: a header
``X-Streamapp-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret>``.
A receiver recomputes it over the bytes it received and compares in constant time.

>>> body = b'{"event_id":"e1"}'
>>> header = signature(body, "s3cret")
>>> header[:7], verify(body, header, "s3cret"), verify(body + b" ", header, "s3cret")
('sha256=', True, False)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from typing import Any

SIGNATURE_HEADER = "X-Streamapp-Signature-256"
EVENT_ID_HEADER = "X-Streamapp-Event-Id"


def signature(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, secret: str) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant time)."""
    return hmac.compare_digest(signature(body, secret), header)


def wanted(change: Mapping[str, Any], kinds: Collection[str], segments: Collection[str]) -> bool:
    """Whether a change passes the filters; an empty filter lets everything through.

    A segment filter matches changes into and out of the segment.

    >>> c = {"kind": "cluster", "segment": "seg-2", "previous_segment": "seg-1"}
    >>> wanted(c, [], []), wanted(c, ["audience"], []), wanted(c, [], ["seg-1"])
    (True, False, True)
    """
    if kinds and change.get("kind") not in kinds:
        return False
    return not segments or bool(
        {change.get("segment"), change.get("previous_segment")} & set(segments))


def backoff(attempt: int, longest: float, first: float = 0.5) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...): doubling, capped.

    >>> [backoff(n, 10.0) for n in (1, 2, 3, 6)]
    [0.5, 1.0, 2.0, 10.0]
    """
    return float(min(first * 2 ** (attempt - 1), longest))


def permanent_failure(status: int) -> bool:
    """A receiver's answer that retrying will not change (a 4xx other than 408 and 429).

    >>> permanent_failure(400), permanent_failure(429), permanent_failure(503)
    (True, False, False)
    """
    return 400 <= status < 500 and status not in (408, 429)
