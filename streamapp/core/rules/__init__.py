"""A small, safe language for audience conditions: compiled once, evaluated per customer.

The language has numbers, strings, ``true``/``false``/``null``, names (``orders_total``, and one
dot for ``traits.country`` or ``rfm.segment``: a dot is part of a name, never attribute access),
comparisons, ``and``/``or``/``not``, ``in [...]``, ``between ... and ...``, ``is [not] null`` and
``+ - * /`` with the usual precedence. It is tokenized and parsed by hand into a small tree and
never reaches Python's ``eval``; see ``evaluate`` for how null behaves.

>>> rule = compile_rule("orders_90d >= 2 and days_since_last_order > 60")
>>> rule.matches({"orders_90d": 3, "days_since_last_order": 61.5})
True
>>> sorted(rule.names), rule.time_dependent
(['days_since_last_order', 'orders_90d'], True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from streamapp.core.rules.evaluate import Compiled, Env, compile_node
from streamapp.core.rules.lexer import RuleError
from streamapp.core.rules.nodes import Name, Node, Value, walk
from streamapp.core.rules.parser import parse

__all__ = ["TIME_DEPENDENT_NAMES", "Env", "Rule", "RuleError", "Value", "compile_rule",
           "referenced_names", "time_dependent"]

# Features that change as time passes with no new events: recency and tenure grow, and windows
# lose old orders. A condition using one of them needs a timer, not just the next event.
TIME_DEPENDENT_NAMES = frozenset({
    "days_since_last_order", "days_since_last_seen", "tenure_days",
    "orders_7d", "orders_30d", "orders_90d", "revenue_7d", "revenue_30d", "revenue_90d",
})


@dataclass(frozen=True)
class Rule:
    """A compiled condition: its source, its tree and the function that evaluates it."""

    source: str
    tree: Node
    function: Compiled = field(repr=False, compare=False)

    # Cached: the pipeline asks these once per customer and audience, and a tree never changes.
    @cached_property
    def nodes(self) -> tuple[Node, ...]:
        """Every node of the tree, parents first."""
        return tuple(walk(self.tree))

    @cached_property
    def names(self) -> frozenset[str]:
        """The names the condition reads."""
        return frozenset(node.name for node in self.nodes if isinstance(node, Name))

    @cached_property
    def time_dependent(self) -> bool:
        """Whether the condition can change truth value as time passes with no new events."""
        return not self.names.isdisjoint(TIME_DEPENDENT_NAMES)

    def evaluate(self, env: Env) -> Value:
        """The condition's value for one customer: true, false or null.

        >>> compile_rule("revenue_total > 100").evaluate({}) is None
        True
        """
        return self.function(env)

    def matches(self, env: Env) -> bool:
        """Whether the customer is in the audience: the condition is exactly true.

        >>> compile_rule("not revenue_total > 100").matches({})
        False
        """
        return self.function(env) is True


def compile_rule(source: str) -> Rule:
    """Parse and compile a condition; ``RuleError`` tells where and what was expected.

    >>> try:
    ...     compile_rule("tenure_days > 30 and")
    ... except RuleError as error:
    ...     print(error)
    line 1, column 21: expected a value after 'and', found end of input
    """
    tree = parse(source)
    return Rule(source, tree, compile_node(tree))


def referenced_names(rule: Rule | Node) -> frozenset[str]:
    """Every name a condition reads.

    >>> sorted(referenced_names(compile_rule("traits.city == 'Shanghai' or rfm.r >= 4")))
    ['rfm.r', 'traits.city']
    """
    if isinstance(rule, Rule):
        return rule.names
    return frozenset(node.name for node in walk(rule) if isinstance(node, Name))


def time_dependent(rule: Rule | Node) -> bool:
    """Whether a condition reads a feature that moves with time alone (``TIME_DEPENDENT_NAMES``).

    >>> time_dependent(compile_rule("orders_total > 3"))
    False
    >>> time_dependent(compile_rule("tenure_days < 7"))
    True
    """
    return not referenced_names(rule).isdisjoint(TIME_DEPENDENT_NAMES)
