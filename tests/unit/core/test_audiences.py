"""Loading and validating audiences files, and evaluating them on customers."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamapp.core.audiences import (
    DEFAULT_ALLOWED_NAMES,
    AudienceError,
    customer_env,
    memberships,
    parse_audiences,
)
from streamapp.core.features import DAY_MS, Counters
from streamapp.core.rfm import RfmScore
from streamapp.core.windows import add_order

EXAMPLE = Path(__file__).resolve().parents[3] / "audiences.example.yaml"


def one(condition: str, name: str = "big_spenders") -> str:
    return f"audiences:\n  - name: {name}\n    condition: {condition!r}\n"


def error_of(text: str) -> AudienceError:
    with pytest.raises(AudienceError) as caught:
        parse_audiences(text)
    return caught.value


def test_the_example_file_loads_and_evaluates() -> None:
    audiences = parse_audiences(EXAMPLE.read_text())
    assert [a.name for a in audiences][:2] == ["big_spenders", "at_risk"]
    counters = Counters(events_total=3, orders_total=2, revenue_cents=70_000,
                        first_seen_ms=DAY_MS, last_seen_ms=10 * DAY_MS, last_order_ms=10 * DAY_MS)
    buckets = add_order(add_order((), 9, 30_000), 10, 40_000)
    traits = {"city": "Shanghai", "age": "35", "country": "US"}
    rfm = RfmScore(2, 5, 5, "Can't Lose Them")
    env = customer_env(counters, 80 * DAY_MS, buckets, traits, rfm)
    assert memberships(audiences, env) == ["big_spenders", "at_risk", "shanghai_thirties",
                                          "cant_lose_them_abroad"]
    # An unknown country is null, and "null not in [...]" is not true.
    del traits["country"]
    assert "cant_lose_them_abroad" not in memberships(
        audiences, customer_env(counters, 80 * DAY_MS, buckets, traits, rfm))


def test_the_brief_error_message_shape() -> None:
    error = error_of(one("revenue_total >"))
    assert str(error) == ("audience 'big_spenders': condition line 1, column 16: expected a value "
                          "after '>', found end of input")
    assert (error.audience, error.line, error.column) == ("big_spenders", 1, 16)


def test_positions_inside_multiline_conditions() -> None:
    text = "audiences:\n  - name: a\n    condition: |\n      orders_total > 1\n      and x > 2\n"
    error = error_of(text)
    assert (error.line, error.column) == (2, 5)
    assert "unknown name 'x'" in error.message


def test_unknown_names_are_errors_with_a_hint() -> None:
    assert "did you mean 'orders_30d'" in str(error_of(one("order_30d > 1")))
    assert "unknown name 'rfm.x'" in str(error_of(one("rfm.x > 1")))
    assert "unknown name 'traits'" in str(error_of(one("traits == 1")))
    assert parse_audiences(one("traits.anything == 'x'"))


def test_allowed_names_are_a_parameter() -> None:
    assert parse_audiences(one("score > 1"), allowed_names=("score",))
    with pytest.raises(AudienceError):
        parse_audiences(one("orders_total > 1"), allowed_names=("score",))
    assert "orders_90d" in DEFAULT_ALLOWED_NAMES


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "'audiences' list"),
    ("audiences: 5", "'audiences' list"),
    ("audiences: [1]", "entry 1 must be a mapping"),
    ("audiences: [{condition: 'true'}]", "name must match"),
    ("audiences: [{name: Big, condition: 'true'}]", "name must match"),
    ("audiences: [{name: 1abc, condition: 'true'}]", "name must match"),
    ("audiences: [{name: a}]", "missing condition"),
    ("audiences: [{name: a, condition: 5}]", "condition must be text"),
    ("audiences: [{name: a, condition: 'true', when: x}]", "unknown keys"),
    ("audiences: [{name: a, condition: 'true', description: [1]}]", "description must be text"),
    ("audiences: [{name: a, condition: 'true'}, {name: a, condition: 'true'}]",
     "used by an earlier audience"),
    ("audiences: [", "not valid YAML"),
    ("audiences: " + "[" * 100_000, "nested too deeply"),
])
def test_file_structure_errors(text: str, fragment: str) -> None:
    assert fragment in str(error_of(text))


HOSTILE = [
    "__import__('os')",
    "().__class__",
    "a.b.c.d > 1",
    "x.__class__ == 1",
    "traits.__class__ == 1",
    "orders_total > " + "9" * 1000,
    "orders_total > 1" + "0" * 10_000,
    "(" * 10_000 + "orders_total > 1" + ")" * 10_000,
    "orders_total > 1 and " * 200 + "orders_total > 1",
    "lambda: orders_total",
    "[o for o in orders_total]",
    "f'{orders_total}' == '1'",
    "traits.city == 'a\\nb'",
    "open('/etc/passwd')",
]


@pytest.mark.parametrize("condition", HOSTILE)
def test_hostile_conditions_are_rejected(condition: str) -> None:
    error = error_of(one(condition, name="hostile"))
    assert error.audience == "hostile"


def test_billion_laughs_is_rejected_quickly() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        levels.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{', '.join(['*' + prev] * 9)}]")
    text = "\n".join(levels) + "\naudiences: [{name: *i, condition: 'true'}]\n"
    assert "name must match" in str(error_of(text))


def test_customer_env_shape() -> None:
    env = customer_env(Counters(events_total=1, first_seen_ms=DAY_MS, last_seen_ms=DAY_MS),
                       3 * DAY_MS, traits={"country": "CN"}, rfm=RfmScore(1, 2, 3, "Lost"))
    assert env["tenure_days"] == 2.0
    assert env["days_since_last_order"] is None
    assert env["traits.country"] == "CN"
    assert (env["rfm.r"], env["rfm.segment"]) == (1, "Lost")
    assert env["revenue_90d"] == 0.0
    assert "first_seen_at" not in env
