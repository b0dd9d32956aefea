"""The syntax tree of a condition: small frozen records, each knowing its height and source offset.

Heights are stored rather than recomputed so the parser can refuse a too-deep tree as it builds it,
before anything recursive (evaluation, analysis) ever walks it.

>>> Arith("+", Literal(1, 0), Name("orders_total", 4), 1).height
2
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# What a condition computes with. Booleans are the results of comparisons; None is null.
Value = bool | int | float | str | None


@dataclass(frozen=True, slots=True)
class Literal:
    """A number, string, true, false or null written in the condition."""

    value: Value
    offset: int
    height: int = field(default=1, init=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A feature (``orders_total``), trait (``traits.country``) or RFM field (``rfm.r``)."""

    name: str
    offset: int
    height: int = field(default=1, init=False)


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Node
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", self.operand.height + 1)


@dataclass(frozen=True, slots=True)
class Arith:
    """``+ - * /`` on two values; division by zero gives null."""

    op: str
    left: Node
    right: Node
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", max(self.left.height, self.right.height) + 1)


@dataclass(frozen=True, slots=True)
class Compare:
    """``== != < <= > >=``; any comparison with null is null (so not true)."""

    op: str
    left: Node
    right: Node
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", max(self.left.height, self.right.height) + 1)


@dataclass(frozen=True, slots=True)
class Between:
    """``x [not] between low and high``, both ends included."""

    operand: Node
    low: Node
    high: Node
    negated: bool
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        heights = (self.operand.height, self.low.height, self.high.height)
        object.__setattr__(self, "height", max(heights) + 1)


@dataclass(frozen=True, slots=True)
class InList:
    """``x [not] in [literal, ...]``."""

    operand: Node
    items: tuple[Value, ...]
    negated: bool
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", self.operand.height + 1)


@dataclass(frozen=True, slots=True)
class IsNull:
    """``x is [not] null``: the one test that is true for a missing value."""

    operand: Node
    negated: bool
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", self.operand.height + 1)


@dataclass(frozen=True, slots=True)
class Not:
    """Logical ``not`` (null stays null)."""

    operand: Node
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", self.operand.height + 1)


@dataclass(frozen=True, slots=True)
class Logic:
    """``and`` / ``or`` over two or more operands, flattened so long chains stay shallow."""

    op: str
    operands: tuple[Node, ...]
    offset: int
    height: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", max(o.height for o in self.operands) + 1)


Node = Literal | Name | Negate | Arith | Compare | Between | InList | IsNull | Not | Logic

# Nodes whose result is true/false/null, the only ones allowed where a condition is expected.
BOOLEAN_NODES = (Compare, Between, InList, IsNull, Not, Logic)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``.

    >>> children(Not(Literal(True, 4), 0))
    (Literal(value=True, offset=4, height=1),)
    """
    match node:
        case Negate(operand=o) | InList(operand=o) | IsNull(operand=o) | Not(operand=o):
            return (o,)
        case Arith(left=a, right=b) | Compare(left=a, right=b):
            return (a, b)
        case Between(operand=o, low=lo, high=hi):
            return (o, lo, hi)
        case Logic(operands=ops):
            return ops
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents first (iterative: no recursion limit involved).

    >>> [type(n).__name__ for n in walk(Negate(Name("x", 1), 0))]
    ['Negate', 'Name']
    """
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
