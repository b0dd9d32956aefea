"""A generated corpus of hostile input, each record with what the worker must do with it.

Every record is either rejected to the DLQ with a stated ``error_type``, or accepted (with the
clamping documented in README's "Event format") as the single event of a customer of its own, so a
test can check each one. Deterministic for a seed; ``python -m tests.hostile_corpus`` prints a
summary.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

# Below the broker's default 1 MB message limit, far above STREAMAPP_MAX_EVENT_BYTES (64 KB). A 10
# MB payload cannot be produced to a default broker at all; tests/unit/test_properties.py sends
# one through the decoder instead.
HUGE_BYTES = 900_000
TEN_MB = 10 * 1024 * 1024


class Hostile(NamedTuple):
    kind: str
    key: bytes
    value: bytes
    expect: str  # "dlq" or "accepted"
    error_type: str | None  # the DLQ reason, when expected there
    customer_id: str | None  # the profile an accepted record creates


def _event(customer: str, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "userId": customer, "event": "Order Completed",
            "messageId": f"m-{customer}", "timestamp": "2026-01-02T03:04:05Z",
            "properties": {"revenue": 10}, **extra}


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _truncated(rng: random.Random, i: int) -> Hostile:
    body = _dumps(_event(f"trunc-{i}"))
    return Hostile("truncated json", b"k", body[: rng.randrange(1, len(body) - 1)], "dlq",
                   "invalid_json", None)


def _garbage(rng: random.Random, i: int) -> Hostile:
    choices = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), b"", b"\xff\xfe{}",
               b"{'single': 'quotes'}", b'{"type": "track",}', b"nul\x00l", b'{"a":1}{"b":2}',
               '{"userId": "\udc80"}'.encode("utf-8", "surrogatepass")]
    return Hostile("invalid json", b"k", rng.choice(choices), "dlq", "invalid_json", None)


def _non_finite(rng: random.Random, i: int) -> Hostile:
    word = rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e999"])
    body = (b'{"type":"track","userId":"nf-%d","event":"Order Completed",'
            b'"properties":{"revenue":%s}}')
    # orjson reads 1e999 as infinity and rejects it too: all are invalid JSON, never a number.
    return Hostile("NaN/Infinity", b"k", body % (i, word), "dlq", "invalid_json", None)


def _wrong_types(rng: random.Random, i: int) -> Hostile:
    broken = rng.choice([
        {"userId": ["u"]}, {"userId": {"id": 1}}, {"userId": True}, {"userId": 1.5},
        {"timestamp": [12345]}, {"timestamp": "yesterday"}, {"timestamp": "2026-01-01T00:00:00"},
        {"properties": ["revenue", 1]}, {"properties": {"revenue": "12.00"}},
        {"properties": {"revenue": True}}, {"event": 7}, {"event": ""}, {"context": "str"},
        {"messageId": ["m"]},
    ])
    return Hostile("wrong types", b"k", _dumps(_event(f"wt-{i}", **broken)), "dlq",
                   "invalid_event", None)


def _missing_ids(rng: random.Random, i: int) -> Hostile:
    event = _event("x")
    del event["userId"]
    if rng.random() < 0.5:
        event["userId"] = None
    if rng.random() < 0.3:
        event["anonymousId"] = rng.choice(["", "   ", None])
    return Hostile("missing ids", b"", _dumps(event), "dlq", "invalid_event", None)


def _bad_revenue(rng: random.Random, i: int) -> Hostile:
    amount = rng.choice([-0.01, -1, -1e9, 10_000_000.01, 1e18, 2**63, -(2**63)])
    event = _event(f"rev-{i}", properties={rng.choice(["revenue", "total", "value"]): amount})
    return Hostile("negative or absurd revenue", b"k", _dumps(event), "dlq", "invalid_event", None)


def _too_large(rng: random.Random, i: int) -> Hostile:
    size = HUGE_BYTES if i % 20 == 0 else rng.randrange(65_537, 200_000)
    event = _event(f"big-{i}", properties={"revenue": 1, "blob": "x" * size})
    return Hostile("too large", b"k", _dumps(event), "dlq", "too_large", None)


def _deep(rng: random.Random, i: int) -> Hostile:
    depth = rng.choice([2_000, 5_000, 20_000])
    body = (b'{"type":"page","userId":"deep-%d","properties":' % i
            + b"[" * depth + b"]" * depth + b"}")
    # orjson refuses nesting deeper than 1024: invalid JSON, not a stack overflow.
    return Hostile("deeply nested", b"k", body, "dlq", "invalid_json", None)


def _control_ids(rng: random.Random, i: int) -> Hostile:
    bad = rng.choice(["\x00", "\n", "\r", "\t", "\x1b[31m", "\u200b\u2028", "\x7f", "\ufeff"])
    customer = f"ctl{bad}{i}"
    return Hostile("control characters in ids", customer.encode(), _dumps(_event(customer)),
                   "dlq", "invalid_event", None)


def _long_ids(rng: random.Random, i: int) -> Hostile:
    customer = "L" * rng.randrange(257, 5_000)
    return Hostile("ids over 256 characters", b"k", _dumps(_event(customer)), "dlq",
                   "invalid_event", None)


def _unknown_types(rng: random.Random, i: int) -> Hostile:
    event = _event(f"ut-{i}", type=rng.choice(["group", "TRACK", "", "purge", "eval", None, 3]))
    return Hostile("unknown event types", b"k", _dumps(event), "dlq", "invalid_event", None)


def _not_objects(rng: random.Random, i: int) -> Hostile:
    body = rng.choice([b"[]", b"null", b"42", b'"track"', b"true", b'[{"type":"page"}]'])
    return Hostile("not an object", b"k", body, "dlq", "invalid_event", None)


def _accepted(kind: str, make_id: Callable[[int], str], **extra: Any) -> Callable[
        [random.Random, int], Hostile]:
    def build(rng: random.Random, i: int) -> Hostile:
        customer = make_id(i)
        return Hostile(kind, customer.encode(), _dumps(_event(customer, **extra)), "accepted",
                       None, customer)
    return build


GENERATORS: dict[str, Callable[[random.Random, int], Hostile]] = {
    "truncated": _truncated,
    "garbage": _garbage,
    "non_finite": _non_finite,
    "wrong_types": _wrong_types,
    "missing_ids": _missing_ids,
    "bad_revenue": _bad_revenue,
    "too_large": _too_large,
    "deep": _deep,
    "control_ids": _control_ids,
    "long_ids": _long_ids,
    "unknown_types": _unknown_types,
    "not_objects": _not_objects,
    # Accepted, each the only event of its own customer:
    "unicode_ids": _accepted("unicode ids", lambda i: f"ünïcødé-客户-🙂-{i}"),
    "separator_ids": _accepted("Redis key separators in ids", lambda i: f"a:b:{i}:p:*"),
    "glob_ids": _accepted("glob characters in ids", lambda i: f"glob*?[^x]\\{i}"),
    "far_future": _accepted("timestamps far in the future",
                            lambda i: f"future-{i}", timestamp="9999-12-31T23:59:59Z"),
    "far_past": _accepted("timestamps far in the past",
                          lambda i: f"past-{i}", timestamp="0001-01-01T00:00:00Z"),
    "pii_traits": _accepted("e-mail and phone in traits", lambda i: f"pii-{i}", type="identify",
                            traits={"email": "someone@example.com", "phone": "+49 30 1234567",
                                    "country": "DE"}),
}


def corpus(size: int = 1_080, seed: int = 7) -> list[Hostile]:
    """``size`` hostile records, spread evenly over every kind, in a shuffled order."""
    rng = random.Random(seed)
    names = list(GENERATORS)
    out = [GENERATORS[names[i % len(names)]](rng, i) for i in range(size)]
    rng.shuffle(out)
    return out


if __name__ == "__main__":
    records = corpus()
    for (kind, expect), n in sorted(Counter((r.kind, r.expect) for r in records).items()):
        print(f"{n:5d}  {expect:8s}  {kind}")
    print(f"{len(records):5d}  total")
