"""Recursive-descent parser from tokens to the syntax tree, with hard limits on depth and size.

Grammar, loosest binding first::

    condition   := disjunction
    disjunction := conjunction ("or" conjunction)*
    conjunction := negation ("and" negation)*
    negation    := "not" negation | comparison
    comparison  := sum [ ("=="|"!="|"<"|"<="|">"|">=") sum
                       | ["not"] "in" "[" [item ("," item)*] "]"
                       | ["not"] "between" sum "and" sum
                       | "is" ["not"] "null" ]
    sum         := product (("+"|"-") product)*
    product     := unary (("*"|"/") unary)*
    unary       := "-" unary | primary
    primary     := number | string | "true" | "false" | "null" | name | "(" disjunction ")"
    item        := ["-"] number | string | "true" | "false"

Nesting (parentheses, ``not``, unary minus) and the height of the tree are both capped at
``MAX_DEPTH``, so hostile input fails with a ``RuleError`` long before Python's recursion limit.

>>> parse("orders_total >= 2 and not traits.country in ['CN']").op
'and'
>>> try:
...     parse("revenue_90d > ")
... except RuleError as error:
...     print(error)
line 1, column 15: expected a value after '>', found end of input
"""

from __future__ import annotations

from collections.abc import Callable

from streamapp.core.rules.lexer import RuleError, Token, tokenize
from streamapp.core.rules.nodes import (
    BOOLEAN_NODES,
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

MAX_DEPTH = 32
MAX_LIST_ITEMS = 100
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_LITERAL_KEYWORDS: dict[str, Value] = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.nesting = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def fail(self, message: str, offset: int | None = None) -> RuleError:
        return RuleError.at(self.source, self.peek().offset if offset is None else offset, message)

    def expected(self, what: str) -> RuleError:
        found = self.peek().describe()
        if self.index == 0:
            return self.fail(f"expected {what}, found {found}")
        return self.fail(f"expected {what} after {self.tokens[self.index - 1].describe()}, "
                         f"found {found}")

    def expect(self, kind: str, what: str) -> Token:
        if self.peek().kind != kind:
            raise self.expected(what)
        return self.advance()

    def deeper(self, offset: int) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.fail(f"expression is nested more than {MAX_DEPTH} levels deep", offset)

    def built(self, node: Node) -> Node:
        if node.height > MAX_DEPTH:
            raise self.fail(f"expression is nested more than {MAX_DEPTH} levels deep", node.offset)
        return node

    def need_condition(self, node: Node) -> Node:
        if isinstance(node, BOOLEAN_NODES):
            return node
        if isinstance(node, Literal) and (node.value is None or isinstance(node.value, bool)):
            return node
        raise self.fail("expected a condition (a comparison such as orders_total > 0), "
                        "found a value", node.offset)

    def need_value(self, node: Node) -> Node:
        if isinstance(node, BOOLEAN_NODES):
            raise self.fail("expected a value, found a condition (put comparisons together "
                            "with 'and' or 'or')", node.offset)
        return node

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self.need_condition(self.disjunction())
        if self.peek().kind != "end":
            if self.peek().kind in COMPARISONS:
                raise self.fail("comparisons cannot be chained: combine them with 'and'")
            if self.peek().kind == "(":
                raise self.fail("function calls are not supported")
            raise self.expected("an operator, 'and', 'or' or end of input")
        return node

    def logic(self, op: str) -> Node:
        start = self.peek().offset
        part = self.conjunction if op == "or" else self.negation
        operands = [part()]
        while self.peek().kind == op:
            self.advance()
            operands.append(part())
        if len(operands) == 1:
            return operands[0]
        return self.built(Logic(op, tuple(self.need_condition(o) for o in operands), start))

    def disjunction(self) -> Node:
        return self.logic("or")

    def conjunction(self) -> Node:
        return self.logic("and")

    def negation(self) -> Node:
        if self.peek().kind != "not":
            return self.comparison()
        token = self.advance()
        self.deeper(token.offset)
        operand = self.need_condition(self.negation())
        self.nesting -= 1
        return self.built(Not(operand, token.offset))

    def comparison(self) -> Node:
        left = self.sum()
        kind = self.peek().kind
        negated = kind == "not" and self.peek(1).kind in ("in", "between")
        if negated:
            self.advance()
            kind = self.peek().kind
        if kind in COMPARISONS:
            op = self.advance()
            right = self.need_value(self.sum())
            node: Node = Compare(op.kind, self.need_value(left), right, op.offset)
        elif kind == "in":
            at = self.advance().offset
            node = InList(self.need_value(left), self.items(), negated, at)
        elif kind == "between":
            at = self.advance().offset
            low = self.need_value(self.sum())
            self.expect("and", "'and' between the two bounds")
            high = self.need_value(self.sum())
            node = Between(self.need_value(left), low, high, negated, at)
        elif kind == "is":
            at = self.advance().offset
            is_not = self.peek().kind == "not"
            if is_not:
                self.advance()
            self.expect("null", "null")
            node = IsNull(self.need_value(left), is_not, at)
        else:
            return left
        if self.peek().kind in COMPARISONS:
            raise self.fail("comparisons cannot be chained: combine them with 'and'")
        return self.built(node)

    def items(self) -> tuple[Value, ...]:
        self.expect("[", "'[' starting a list of values")
        items: list[Value] = []
        while self.peek().kind != "]":
            if items:
                self.expect(",", "',' or ']'")
            items.append(self.item())
            if len(items) > MAX_LIST_ITEMS:
                raise self.fail(f"a list holds at most {MAX_LIST_ITEMS} values")
        self.advance()
        return tuple(items)

    def item(self) -> Value:
        sign = 1
        if self.peek().kind == "-":
            self.advance()
            sign = -1
            if self.peek().kind != "number":
                raise self.expected("a number")
        token = self.peek()
        if token.kind in ("number", "string"):
            self.advance()
            value = token.value
            return -value if sign < 0 and isinstance(value, int | float) else value
        if token.kind in ("true", "false"):
            self.advance()
            return token.kind == "true"
        raise self.expected("a number, a string, true or false in the list")

    def sum(self) -> Node:
        return self.arith(("+", "-"), self.product)

    def product(self) -> Node:
        return self.arith(("*", "/"), self.unary)

    def arith(self, ops: tuple[str, str], operand: Callable[[], Node]) -> Node:
        left: Node = operand()
        while self.peek().kind in ops:
            op = self.advance()
            right = self.need_value(operand())
            left = self.built(Arith(op.kind, self.need_value(left), right, op.offset))
        return left

    def unary(self) -> Node:
        if self.peek().kind != "-":
            return self.primary()
        token = self.advance()
        self.deeper(token.offset)
        operand = self.need_value(self.unary())
        self.nesting -= 1
        return self.built(Negate(operand, token.offset))

    def primary(self) -> Node:
        token = self.peek()
        if token.kind in ("number", "string"):
            self.advance()
            return Literal(token.value, token.offset)
        if token.kind in _LITERAL_KEYWORDS:
            self.advance()
            return Literal(_LITERAL_KEYWORDS[token.kind], token.offset)
        if token.kind == "name":
            self.advance()
            if self.peek().kind == "(":
                raise self.fail("function calls are not supported", token.offset)
            return Name(token.text, token.offset)
        if token.kind == "(":
            self.advance()
            self.deeper(token.offset)
            inner = self.disjunction()
            self.expect(")", "')'")
            self.nesting -= 1
            return inner
        raise self.expected("a value")


def parse(source: str) -> Node:
    """The syntax tree of a condition, or ``RuleError`` saying where and what was expected.

    >>> parse("1 + 2 * 3 > 6").left.right.op
    '*'
    """
    return _Parser(source).parse()
