"""When a time-dependent condition could next change truth value, with no new events.

Two things move with time alone: recency and tenure (``days_since_*``, ``tenure_days``) grow by one
per day, and windowed features (``orders_30d`` …) drop an order when it gets too old. So between
events a condition's truth value can only flip

* where a comparison over recency/tenure crosses its threshold: each side of each comparison is
  treated as ``value + slope × days`` and the crossing solved for; and
* when an order leaves a window the condition reads (``windows.window_changes``).

Each candidate instant is checked by evaluating the condition there (features are rounded to
1/1000 day, so candidates are spread around each exact crossing), and the first millisecond at
which the answer differs is returned: re-evaluating at that instant sees the change, and at any
earlier instant would not. The answer is conservative
(earlier than the change, never later) in two cases, where the caller just re-evaluates and asks
again: a condition that mixes windowed with recency/tenure features gets at most the next window
change (the crossings move when a window does); and a comparison that is not linear in time
(``days_since_last_order * tenure_days``, dividing by a time-dependent value) gets at most one day
ahead. A flip that flips back between two candidates (``days_since_last_order == 60`` is true for
only 1/1000 day) may be missed; ``>=``/``between`` say the same thing robustly. Instants more than
``MAX_HORIZON_DAYS`` away are ignored.

>>> from streamapp.core.rules import compile_rule
>>> rule = compile_rule("days_since_last_order > 60")
>>> c = Counters(events_total=1, orders_total=1, revenue_cents=100, first_seen_ms=0,
...              last_seen_ms=DAY_MS, last_order_ms=DAY_MS)
>>> t = next_transition(rule, c, now_ms=10 * DAY_MS)
>>> t - DAY_MS == 60 * DAY_MS + DAY_MS // 2000
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from streamapp.core.audiences import customer_env, moving_values
from streamapp.core.features import DAY_MS, Counters
from streamapp.core.rfm import RfmScore
from streamapp.core.rules import TIME_DEPENDENT_NAMES, Rule, Value
from streamapp.core.rules.evaluate import number
from streamapp.core.rules.nodes import (
    Arith,
    Between,
    Compare,
    InList,
    Literal,
    Name,
    Negate,
    Node,
)
from streamapp.core.windows import WINDOW_NAMES, Buckets, window_changes

MAX_HORIZON_DAYS = 36_500
ROUNDING_MS = DAY_MS // 1000  # derive() rounds days to 3 decimals
MAX_ROUNDING_STEPS = 50
_WINDOW_NAMES = frozenset(WINDOW_NAMES)

# value now, slope per day, sum of |slopes| of the time-dependent terms (for rounding error).
Affine = tuple[float, float, float]


class _NotLinear(Exception):
    pass


def _anchors(counters: Counters) -> dict[str, int]:
    return {"days_since_last_order": counters.last_order_ms,
            "days_since_last_seen": counters.last_seen_ms,
            "tenure_days": counters.first_seen_ms}


def _affine(node: Node, env: Mapping[str, object], now_ms: int,
            anchors: Mapping[str, int]) -> Affine | None:
    match node:
        case Literal(value=value):
            n = number(value)
            return None if n is None else (float(n), 0.0, 0.0)
        case Name(name=name) if anchors.get(name):
            return ((now_ms - anchors[name]) / DAY_MS, 1.0, 1.0)
        case Name(name=name):
            raw = env.get(name)
            n = number(raw) if isinstance(raw, int | float | str) else None
            return None if n is None else (float(n), 0.0, 0.0)
        case Negate(operand=operand):
            inner = _affine(operand, env, now_ms, anchors)
            return None if inner is None else (-inner[0], -inner[1], inner[2])
        case Arith(op=op, left=left, right=right):
            a = _affine(left, env, now_ms, anchors)
            b = _affine(right, env, now_ms, anchors)
            if a is None or b is None:
                return None
            if op in ("+", "-"):
                sign = 1.0 if op == "+" else -1.0
                return (a[0] + sign * b[0], a[1] + sign * b[1], a[2] + b[2])
            if op == "*" and (a[1] == 0 or b[1] == 0):
                (k, _, _), var = (a, b) if a[1] == 0 else (b, a)
                return (k * var[0], k * var[1], abs(k) * var[2])
            if op == "/" and b[1] == 0 and b[0] != 0:
                return (a[0] / b[0], a[1] / b[0], a[2] / abs(b[0]))
            raise _NotLinear
    return None


def _pairs(node: Node) -> list[tuple[Node, Node]]:
    match node:
        case Compare(left=left, right=right):
            return [(left, right)]
        case Between(operand=operand, low=low, high=high):
            return [(operand, low), (operand, high)]
        case InList(operand=operand, items=items, offset=offset):
            return [(operand, Literal(item, offset)) for item in items]
    return []


def _crossings(rule: Rule, env: Mapping[str, object], now_ms: int,
               counters: Counters) -> tuple[set[int], bool]:
    """Candidate instants where a comparison crosses, and whether any was not linear in time."""
    anchors = _anchors(counters)
    found: set[int] = set()
    not_linear = False
    for node in rule.nodes:
        for left, right in _pairs(node):
            try:
                a = _affine(left, env, now_ms, anchors)
                b = _affine(right, env, now_ms, anchors)
            except _NotLinear:
                not_linear = True
                continue
            if a is None or b is None or a[1] == b[1]:
                continue
            gap, slope, spread = a[0] - b[0], a[1] - b[1], a[2] + b[2]
            days = -gap / slope
            if not math.isfinite(days) or days > MAX_HORIZON_DAYS:
                continue
            root = now_ms + math.ceil(days * DAY_MS)
            steps = min(MAX_ROUNDING_STEPS, math.ceil(spread / abs(slope)) + 1)
            found.update(root + k * ROUNDING_MS for k in range(-steps, steps + 1))
    return found, not_linear


def next_transition(rule: Rule, counters: Counters, now_ms: int, buckets: Buckets = (),
                    traits: Mapping[str, str] | None = None,
                    rfm: RfmScore | None = None, *,
                    env: Mapping[str, Value] | None = None) -> int | None:
    """The next instant (epoch ms, after ``now_ms``) to re-evaluate ``rule`` for this customer
    with no new events, or None if time alone cannot change it. ``env`` is the customer's
    ``customer_env`` as of ``now_ms`` from these same arguments, when the caller has it already.

    >>> from streamapp.core.rules import compile_rule
    >>> next_transition(compile_rule("orders_total > 1"), Counters(), 0) is None
    True
    """
    names = rule.names
    if names.isdisjoint(TIME_DEPENDENT_NAMES):
        return None
    if env is None:
        env = customer_env(counters, now_ms, buckets, traits, rfm)
    windows_names = names & _WINDOW_NAMES
    reads_windows = bool(windows_names)
    # Only the names the rule reads, and of those only the time-dependent ones, differ from one
    # instant to another: the search below asks dozens of instants, and building the whole env
    # for each was most of its cost. Each call overwrites every moving entry, so one dict serves.
    moving_env = {name: env[name] for name in names if name in env}

    def matches(at_ms: int) -> bool:
        moving_env.update(moving_values(counters, at_ms, buckets, windows=reads_windows))
        return rule.matches(moving_env)

    current = rule.matches(env)
    crossings, not_linear = _crossings(rule, env, now_ms, counters)
    windows_read = tuple(sorted({int(n.split("_")[1][:-1]) for n in windows_names}))
    window_times = window_changes(buckets, now_ms, windows_read) if windows_read else []
    # Crossings were solved with today's window values; past a window change they may be stale.
    mixed = bool(window_times) and bool(crossings)
    bound = window_times[0] if mixed else None
    if not_linear:
        bound = min(bound or now_ms + DAY_MS, now_ms + DAY_MS)
    horizon = now_ms + MAX_HORIZON_DAYS * DAY_MS
    unchanged = now_ms
    for at in sorted({t for t in crossings | set(window_times) if now_ms < t <= horizon}):
        if bound is not None and at >= bound:
            return bound
        if matches(at) != current:
            return _first_change(matches, current, unchanged, at)
        unchanged = at
    return bound


def _first_change(matches: Callable[[int], bool], current: bool, before: int, after: int) -> int:
    """The first millisecond in (before, after] where the answer differs (one flip assumed)."""
    while after - before > 1:
        middle = (before + after) // 2
        if matches(middle) == current:
            before = middle
        else:
            after = middle
    return after
