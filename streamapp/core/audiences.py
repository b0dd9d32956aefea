"""Audiences: named, described conditions loaded from an ``audiences.yaml`` text and validated.

The file holds ``audiences: [{name, description, condition}, ...]``. Names are identifiers
(``[a-z][a-z0-9_]*``, unique); a condition is in the rule language of ``streamapp.core.rules`` and
may read only known names: the features, the windowed features, ``rfm.r``/``rfm.f``/``rfm.m``/
``rfm.segment`` and any ``traits.<key>``. Every error names the audience, the line and column
within its condition, and what was expected.

>>> audiences = parse_audiences('''
... audiences:
...   - name: big_spenders
...     description: Spent over 500 in the last 90 days
...     condition: revenue_90d > 500
... ''')
>>> env = customer_env(Counters(), now_ms=0, traits={"country": "CN"})
>>> audiences[0].name, audiences[0].rule.matches(env)
('big_spenders', False)
>>> try:
...     parse_audiences("audiences: [{name: big_spenders, condition: 'revenue_total >'}]")
... except AudienceError as error:
...     print(error)
audience 'big_spenders': condition line 1, column 16: expected a value after '>', found end of input
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import yaml

from streamapp.core.features import Counters, numeric_features, recency_features
from streamapp.core.rfm import RfmScore
from streamapp.core.rules import Rule, RuleError, Value, compile_rule
from streamapp.core.rules.nodes import Name, walk
from streamapp.core.windows import WINDOW_NAMES, Buckets, window_totals

FEATURE_NAMES = ("events_total", "orders_total", "revenue_total", "page_views", "avg_order_value",
                 "days_since_last_order", "days_since_last_seen", "tenure_days")
RFM_NAMES = ("rfm.r", "rfm.f", "rfm.m", "rfm.segment")
# A name ending in ".*" allows any key under that prefix.
DEFAULT_ALLOWED_NAMES = (*FEATURE_NAMES, *WINDOW_NAMES, *RFM_NAMES, "traits.*")
MAX_FILE_CHARS = 1_000_000
MAX_AUDIENCES = 1_000
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")


class AudienceError(ValueError):
    """An audiences file that cannot be used, with the audience and condition position if known."""

    def __init__(self, message: str, audience: str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        where = f"audience '{audience}': " if audience else ""
        at = f"condition line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where}{at}{message}")
        self.message = message
        self.audience = audience
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Audience:
    """One audience: its name, description and compiled condition."""

    name: str
    description: str
    rule: Rule

    @property
    def condition(self) -> str:
        """The condition's source text."""
        return self.rule.source


def _check_names(rule: Rule, allowed: Collection[str]) -> None:
    prefixes = tuple(a[:-1] for a in allowed if a.endswith(".*"))
    exact = {a for a in allowed if not a.endswith(".*")}
    for node in walk(rule.tree):
        if not isinstance(node, Name) or node.name in exact or node.name.startswith(prefixes):
            continue
        close = difflib.get_close_matches(node.name, sorted(exact), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise RuleError.at(rule.source, node.offset, f"unknown name '{node.name}'{hint}")


def compile_condition(name: str, condition: object,
                      allowed_names: Collection[str] = DEFAULT_ALLOWED_NAMES) -> Rule:
    """Compile one audience's condition, or raise ``AudienceError`` saying where and why.

    >>> try:
    ...     compile_condition("x", "1 < ordrs_total")
    ... except AudienceError as error:
    ...     print(error.line, error.column, error.message)
    1 5 unknown name 'ordrs_total' (did you mean 'orders_total'?)
    """
    if not isinstance(condition, str):
        raise AudienceError("condition must be text (quote it in YAML if needed)", name)
    try:
        rule = compile_rule(condition)
        _check_names(rule, allowed_names)
    except RuleError as error:
        raise AudienceError(error.message, name, error.line, error.column) from None
    return rule


def _audience(entry: object, index: int, allowed_names: Collection[str]) -> Audience:
    if not isinstance(entry, dict):
        raise AudienceError(f"entry {index + 1} must be a mapping with name, description and "
                            "condition")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        found = repr(name[:80]) if isinstance(name, str) else type(name).__name__
        raise AudienceError(f"entry {index + 1}: name must match [a-z][a-z0-9_]* (at most 64 "
                            f"characters), found {found}")
    unknown = sorted(repr(k)[:40] for k in entry if k not in ("name", "description", "condition"))
    if unknown:
        raise AudienceError(f"unknown keys {', '.join(unknown)}; expected name, description, "
                            "condition", name)
    if "condition" not in entry:
        raise AudienceError("missing condition", name)
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise AudienceError("description must be text", name)
    return Audience(name, description, compile_condition(name, entry["condition"], allowed_names))


def parse_audiences(text: str,
                    allowed_names: Collection[str] = DEFAULT_ALLOWED_NAMES) -> list[Audience]:
    """Every audience in an ``audiences.yaml`` text, validated; ``AudienceError`` otherwise.

    >>> parse_audiences("audiences: []")
    []
    """
    if len(text) > MAX_FILE_CHARS:
        raise AudienceError(f"audiences file is larger than {MAX_FILE_CHARS} characters")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at file line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise AudienceError(f"not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    except RecursionError:
        # PyYAML's composer recurses once per nesting level; a hostile file must not crash us.
        raise AudienceError("audiences file is nested too deeply") from None
    if not isinstance(document, dict) or not isinstance(document.get("audiences"), list):
        raise AudienceError("expected a mapping with an 'audiences' list at the top")
    entries = document["audiences"]
    if len(entries) > MAX_AUDIENCES:
        raise AudienceError(f"more than {MAX_AUDIENCES} audiences")
    audiences: list[Audience] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        audience = _audience(entry, index, allowed_names)
        if audience.name in seen:
            raise AudienceError("name is used by an earlier audience", audience.name)
        seen.add(audience.name)
        audiences.append(audience)
    return audiences


def customer_env(counters: Counters, now_ms: int, buckets: Buckets = (),
                 traits: Mapping[str, str] | None = None,
                 rfm: RfmScore | None = None) -> dict[str, Value]:
    """What a condition sees for one customer as of ``now_ms``: a flat mapping of names.

    >>> env = customer_env(Counters(orders_total=1), 0, traits={"plan": "pro"})
    >>> env["orders_total"], env["traits.plan"], env["orders_7d"], env.get("rfm.r")
    (1, 'pro', 0, None)
    """
    env: dict[str, Value] = {**numeric_features(counters, now_ms),
                             **window_totals(buckets, now_ms)}
    if traits:
        for key, value in traits.items():
            env[f"traits.{key}"] = value
    if rfm is not None:
        env["rfm.r"], env["rfm.f"], env["rfm.m"], env["rfm.segment"] = rfm
    return env


def moving_values(counters: Counters, now_ms: int, buckets: Buckets = (),
                  windows: bool = True) -> dict[str, Value]:
    """The entries of ``customer_env`` that change with time alone, as of ``now_ms``; the order
    windows only when ``windows``. Updating an env with them moves it to ``now_ms``.

    >>> moving_values(Counters(first_seen_ms=1), 2 * 86_400_000 + 1, windows=False)
    {'days_since_last_order': None, 'days_since_last_seen': None, 'tenure_days': 2.0}
    """
    if windows:
        return {**recency_features(counters, now_ms), **window_totals(buckets, now_ms)}
    return {**recency_features(counters, now_ms)}


def memberships(audiences: Collection[Audience], env: Mapping[str, Value]) -> list[str]:
    """The names of the audiences a customer is in, in file order.

    >>> memberships(parse_audiences("audiences: [{name: a, condition: 'true'}]"), {})
    ['a']
    """
    return [a.name for a in audiences if a.rule.matches(env)]
