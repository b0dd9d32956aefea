"""Signatures a receiver can check, filters, and the retry schedule."""

from __future__ import annotations

import hashlib
import hmac

from streamapp.forwarder.signing import backoff, permanent_failure, signature, verify, wanted


def test_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"event_id":"x"}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert signature(body, "k") == f"sha256={expected}"
    assert verify(body, signature(body, "k"), "k")
    assert not verify(body, signature(body, "other"), "k")


def test_filters() -> None:
    audience = {"kind": "audience", "segment": "high_value", "previous_segment": None}
    cluster = {"kind": "cluster", "segment": "seg-1", "previous_segment": "seg-2"}
    assert wanted(audience, ["audience"], [])
    assert not wanted(cluster, ["audience"], [])
    assert wanted(cluster, [], ["seg-2"]) and not wanted(cluster, [], ["seg-3"])
    assert not wanted(cluster, ["cluster"], ["seg-3"])


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(n, 4.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_which_answers_are_worth_retrying() -> None:
    assert [permanent_failure(s) for s in (200, 404, 408, 429, 500)] == [
        False, True, False, False, False]
