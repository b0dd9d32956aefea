"""Compiling a syntax tree into a tree of closures: compiled once, called per customer.

Null semantics (SQL's three-valued logic): a missing name is null; arithmetic with null is null,
and so is division by zero or any result that is not a finite number (results are rounded to 9
decimal places, so ``0.1 + 0.2 == 0.3``); every comparison with null
is null, including ``!=``; ``not null`` is null; ``false and null`` is false and ``true or null``
is true, otherwise ``and``/``or`` with null is null. A customer is in an audience only when the
condition is exactly true, so a null result means "not a member". ``x is null`` and
``x is not null`` are the tests for missing values (``days_since_last_order is null``: never
ordered).

Strings that look like numbers compare as numbers with numbers, so a trait ``age: "34"`` satisfies
``traits.age between 30 and 40``; a string that is not a number compared with a number is null for
``< <= > >=`` and simply unequal for ``==``/``!=``.

>>> from streamapp.core.rules.parser import parse
>>> fn = compile_node(parse("traits.age between 30 and 40 and revenue_total / orders_total > 10"))
>>> fn({"traits.age": "34", "revenue_total": 50.0, "orders_total": 2})
True
>>> fn({"traits.age": "34", "revenue_total": 50.0, "orders_total": 0}) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from streamapp.core.rules.nodes import (
    Arith,
    Between,
    Compare,
    InList,
    IsNull,
    Literal,
    Logic,
    Name,
    Negate,
    Node,
    Not,
    Value,
)

Env = Mapping[str, Value]
Compiled = Callable[[Env], Value]
DECIMALS = 9  # places arithmetic results keep: far finer than any feature, coarser than float noise


def number(value: Value) -> float | int | None:
    """``value`` as a number when it is one (or a string spelling one), else None.

    >>> number(3), number("2.5"), number("CN"), number(True), number(None)
    (3, 2.5, None, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    try:
        parsed = float(value)
    except ValueError:
        return None
    return parsed if math.isfinite(parsed) else None


def equal(a: Value, b: Value) -> bool | None:
    """Equality under the language's rules (null if either side is null).

    >>> equal("30", 30), equal("CN", "CN"), equal("CN", 1), equal(None, None)
    (True, True, False, None)
    """
    if a is None or b is None:
        return None
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    x, y = number(a), number(b)
    return x is not None and y is not None and x == y


def order(op: str, a: Value, b: Value) -> bool | None:
    """``< <= > >=``: numbers (and numeric strings) numerically, other strings alphabetically,
    anything else null.

    >>> order("<", "9", 10), order(">", "b", "a"), order("<", "CN", 3)
    (True, True, None)
    """
    x: float | int | str | None
    y: float | int | str | None
    if isinstance(a, str) and isinstance(b, str) and (number(a) is None or number(b) is None):
        x, y = a, b
    else:
        x, y = number(a), number(b)
    if x is None or y is None:
        return None
    if op == "<":
        return x < y  # type: ignore[operator]  # both numbers or both strings, checked above
    if op == "<=":
        return x <= y  # type: ignore[operator]  # same
    if op == ">":
        return x > y  # type: ignore[operator]  # same
    return x >= y  # type: ignore[operator]  # same


def arithmetic(op: str, a: Value, b: Value) -> float | int | None:
    """``+ - * /`` with null for missing operands, division by zero and overflow.

    Results are rounded to ``DECIMALS`` places: features are decimals (days to 1/1000), and in
    binary floats two that differ by exactly 9 days may subtract to 9.000000000000002, so a
    condition ``> 9`` would flip back and forth as time passes with nothing happening.

    >>> arithmetic("/", 1, 0), arithmetic("*", 1e15, 1e300), arithmetic("-", "5", 2)
    (None, None, 3.0)
    >>> arithmetic("-", 12.345, 3.345), arithmetic("+", 0.1, 0.2), arithmetic("/", 1, 3)
    (9.0, 0.3, 0.333333333)
    """
    x, y = number(a), number(b)
    if x is None or y is None:
        return None
    if op == "+":
        result = x + y
    elif op == "-":
        result = x - y
    elif op == "*":
        result = x * y
    elif y == 0:
        return None
    else:
        result = x / y
    return round(result, DECIMALS) if math.isfinite(result) else None


def _compare(op: str, a: Value, b: Value) -> bool | None:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        same = equal(a, b)
        return None if same is None else not same
    return order(op, a, b)


def _negate(value: Value) -> Value:
    return None if value is None else not value


def compile_node(node: Node) -> Compiled:
    """A function from a customer's values (see ``customer_env``) to true, false or null.

    >>> from streamapp.core.rules.parser import parse
    >>> compile_node(parse("orders_total > 1 or null"))({"orders_total": 0}) is None
    True
    """
    match node:
        case Literal(value=value):
            return lambda env: value
        case Name(name=name):
            return lambda env: env.get(name)
        case Negate(operand=operand):
            inner = compile_node(operand)
            return lambda env: arithmetic("-", 0, inner(env))
        case Arith(op=op, left=left, right=right):
            lf, rf = compile_node(left), compile_node(right)
            return lambda env: arithmetic(op, lf(env), rf(env))
        case Compare(op=op, left=left, right=right):
            lf, rf = compile_node(left), compile_node(right)
            return lambda env: _compare(op, lf(env), rf(env))
        case Between(operand=operand, low=low, high=high, negated=negated):
            return _between(compile_node(operand), compile_node(low), compile_node(high), negated)
        case InList(operand=operand, items=items, negated=negated):
            return _in_list(compile_node(operand), items, negated)
        case IsNull(operand=operand, negated=negated):
            inner = compile_node(operand)
            return lambda env: (inner(env) is None) != negated
        case Not(operand=operand):
            inner = compile_node(operand)
            return lambda env: _negate(inner(env))
        case Logic(op=op, operands=operands):
            return _logic(op, tuple(compile_node(o) for o in operands))
    raise TypeError(f"not a condition node: {node!r}")


def _between(value: Compiled, low: Compiled, high: Compiled, negated: bool) -> Compiled:
    def run(env: Env) -> Value:
        x = value(env)
        inside = _logic_values("and", (order(">=", x, low(env)), order("<=", x, high(env))))
        return _negate(inside) if negated else inside

    return run


def _in_list(value: Compiled, items: tuple[Value, ...], negated: bool) -> Compiled:
    def run(env: Env) -> Value:
        x = value(env)
        if x is None:
            return None
        found = any(equal(x, item) for item in items)
        return found != negated

    return run


def _logic_values(op: str, values: tuple[Value, ...]) -> Value:
    decisive = op == "or"
    if any(v is decisive for v in values):
        return decisive
    return None if any(v is None for v in values) else not decisive


def _logic(op: str, operands: tuple[Compiled, ...]) -> Compiled:
    decisive = op == "or"

    def run(env: Env) -> Value:
        unknown = False
        for operand in operands:
            result = operand(env)
            if result is decisive:
                return decisive
            unknown = unknown or result is None
        return None if unknown else not decisive

    return run
