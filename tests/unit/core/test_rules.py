"""The rule language: parsing, precedence, null semantics, limits and analysis."""

from __future__ import annotations

import pytest

from streamapp.core.rules import RuleError, Value, compile_rule, referenced_names, time_dependent
from streamapp.core.rules.parser import MAX_DEPTH


def value(source: str, **env: Value) -> Value:
    return compile_rule(source).evaluate({k.replace("__", "."): v for k, v in env.items()})


@pytest.mark.parametrize(("source", "expected"), [
    ("1 + 2 * 3 == 7", True),
    ("(1 + 2) * 3 == 9", True),
    ("10 - 4 - 3 == 3", True),
    ("12 / 3 / 2 == 2", True),
    ("-2 * -3 == 6", True),
    ("- (1 + 2) == -3", True),
    ("2 * 3 > 5 and 1 < 2", True),
    ("true or false and false", True),
    ("(true or false) and false", False),
    ("not 1 > 2 and 2 > 1", True),
    ("not (1 > 2 and 2 > 1)", True),
    ("1 between 0 and 2 and 5 between 6 and 7", False),
    ("3 not between 1 and 2", True),
    ("'CN' in ['US', 'CN']", True),
    ("'CN' not in ['US', 'CN']", False),
    ("-3 in [1, -3]", True),
    ("'b' > 'a'", True),
    ("1e3 == 1000", True),
    ("0.5 * 4 == 2", True),
])
def test_operators_and_precedence(source: str, expected: Value) -> None:
    assert value(source) is expected


def test_names_read_features_traits_and_rfm() -> None:
    rule = compile_rule("orders_total >= 2 and traits.country == 'CN' and rfm.segment != 'Lost'")
    env: dict[str, Value] = {"orders_total": 2, "traits.country": "CN", "rfm.segment": "Champions"}
    assert rule.matches(env)
    assert not rule.matches({**env, "traits.country": "US"})


@pytest.mark.parametrize(("source", "expected"), [
    ("x > 1", None),
    ("x != 1", None),
    ("x == null", None),
    ("not x > 1", None),
    ("x > 1 and false", False),
    ("x > 1 or true", True),
    ("x > 1 and true", None),
    ("x > 1 or false", None),
    ("x is null", True),
    ("x is not null", False),
    ("x in [1, 2]", None),
    ("x not in [1, 2]", None),
    ("x between 1 and 2", None),
    ("1 / 0 > 0", None),
    ("1 / 0 is null", True),
    ("(1 - 1) / (2 - 2) is null", True),
])
def test_null_semantics(source: str, expected: Value) -> None:
    assert value(source) is expected


def test_missing_values_are_never_members() -> None:
    assert not compile_rule("not days_since_last_order > 60").matches({})
    assert compile_rule("days_since_last_order is null").matches({})


def test_numeric_strings_compare_as_numbers() -> None:
    assert value("traits.age between 30 and 40", traits__age="34") is True
    assert value("traits.age == 34", traits__age="34.0") is True
    assert value("traits.age > 3", traits__age="unknown") is None
    assert value("traits.age == 3", traits__age="unknown") is False
    assert value("traits.plan + 1 > 0", traits__plan="pro") is None


def test_overflow_is_null() -> None:
    assert value("x * x * x > 0", x=1e200) is None


def test_multiline_positions() -> None:
    with pytest.raises(RuleError) as caught:
        compile_rule("orders_total > 1\n  and revenue_total >")
    assert (caught.value.line, caught.value.column) == (2, 22)
    assert "expected a value after '>', found end of input" in str(caught.value)


@pytest.mark.parametrize(("source", "fragment"), [
    ("", "expected a value, found end of input"),
    ("orders_total", "expected a condition"),
    ("1 < x < 3", "cannot be chained"),
    ("x = 1", "use '=='"),
    ("(x > 1", "expected ')'"),
    ("x > 1)", "expected an operator"),
    ("x in 1", "expected '['"),
    ("x in [1, y]", "expected a number, a string"),
    ("x between 1 or 2", "'and' between the two bounds"),
    ("x is 5", "expected null"),
    ("(x > 1) + 1 > 0", "expected a value, found a condition"),
    ("x > 'abc", "unterminated string"),
    ("x > 12abc", "is not a number"),
    ("x > 1e999", "out of range"),
    ("x > 1e16", "out of range"),
    ("x == '" + "a" * 257 + "'", "longer than 256"),
    ("x in [" + ",".join(["1"] * 101) + "]", "at most 100"),
    ("x > 1 & y", "unexpected character '&'"),
])
def test_errors_say_what_was_expected(source: str, fragment: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rule(source)
    assert fragment in str(caught.value)


def test_depth_limits() -> None:
    ok = "(" * (MAX_DEPTH - 1) + "x > 1" + ")" * (MAX_DEPTH - 1)
    assert compile_rule(ok).evaluate({"x": 2}) is True
    for deep in ["(" * (MAX_DEPTH + 1) + "x > 1" + ")" * (MAX_DEPTH + 1),
                 "-" * (MAX_DEPTH + 1) + "x > 1", "not " * (MAX_DEPTH + 1) + "x > 1",
                 "+".join(["1"] * (MAX_DEPTH + 2)) + " > 0"]:
        with pytest.raises(RuleError, match="nested more than"):
            compile_rule(deep)


def test_long_or_chains_stay_shallow() -> None:
    source = " or ".join(f"x == {i}" for i in range(150))
    assert compile_rule(source).matches({"x": 149})


def test_referenced_names_and_time_dependence() -> None:
    rule = compile_rule("traits.city == 'Shanghai' and (orders_30d > 1 or rfm.r >= 4)")
    assert referenced_names(rule) == {"traits.city", "orders_30d", "rfm.r"}
    assert time_dependent(rule)
    assert not time_dependent(compile_rule("revenue_total > 500 and rfm.segment == 'Lost'"))
    assert compile_rule("tenure_days < 7").time_dependent
