"""Tokens of the audience condition language, and the errors that point into the source.

Hand-written rather than Python's ``tokenize``/``ast`` on purpose: the language is not Python, and a
lexer that only knows our few token kinds cannot be talked into anything else.

>>> [(t.kind, t.text) for t in tokenize("traits.country in ['CN', 'US']")]
... # doctest: +NORMALIZE_WHITESPACE
[('name', 'traits.country'), ('in', 'in'), ('[', '['), ('string', 'CN'), (',', ','),
 ('string', 'US'), (']', ']'), ('end', '')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_SOURCE_CHARS = 2_000
MAX_NUMBER_CHARS = 40
MAX_ABS_NUMBER = 1e15
MAX_STRING_CHARS = 256

KEYWORDS = frozenset({"and", "or", "not", "in", "between", "is", "true", "false", "null"})
# Longest first, so "<=" wins over "<".
SYMBOLS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")


class RuleError(ValueError):
    """A condition that cannot be compiled: what was expected, and where (1-based line and column).

    >>> str(RuleError("expected a value", 1, 14))
    'line 1, column 14: expected a value'
    """

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column

    @classmethod
    def at(cls, source: str, offset: int, message: str) -> RuleError:
        """An error at character ``offset`` of ``source``.

        >>> RuleError.at("a >\\n  b !", 8, "unexpected character '!'").column
        5
        """
        offset = max(0, min(offset, len(source)))
        line = source.count("\n", 0, offset) + 1
        column = offset - (source.rfind("\n", 0, offset) + 1) + 1
        return cls(message, line, column)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind (a keyword, a symbol, ``name``, ``number``, ``string`` or ``end``)."""

    kind: str
    text: str
    offset: int
    value: float | int | str | None = None

    def describe(self) -> str:
        """How an error message names this token.

        >>> Token("end", "", 3).describe(), Token("number", "12", 0, 12).describe()
        ('end of input', 'number 12')
        """
        if self.kind == "end":
            return "end of input"
        if self.kind in ("name", "number"):
            return f"{self.kind} {self.text}"
        if self.kind == "string":
            return "a string"
        return f"'{self.text}'"


def _is_name_start(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0

    def fail(self, message: str, offset: int | None = None) -> RuleError:
        return RuleError.at(self.source, self.pos if offset is None else offset, message)

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        src = self.source
        while True:
            while self.pos < len(src) and src[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos >= len(src):
                out.append(Token("end", "", self.pos))
                return out
            ch = src[self.pos]
            if _is_name_start(ch):
                out.append(self.name())
            elif ch.isascii() and ch.isdigit():
                out.append(self.number())
            elif ch in "'\"":
                out.append(self.string(ch))
            else:
                out.append(self.symbol(ch))

    def name(self) -> Token:
        start, src = self.pos, self.source
        while self.pos < len(src) and _is_name_char(src[self.pos]):
            self.pos += 1
        if self.pos < len(src) and src[self.pos] == ".":
            dot = self.pos
            self.pos += 1
            if self.pos >= len(src) or not _is_name_start(src[self.pos]):
                raise self.fail("expected a name after '.' (names start with a letter)", dot + 1)
            while self.pos < len(src) and _is_name_char(src[self.pos]):
                self.pos += 1
            if self.pos < len(src) and src[self.pos] == ".":
                raise self.fail("only one '.' is allowed in a name (as in traits.country)")
        text = src[start:self.pos]
        if text in KEYWORDS:
            return Token(text, text, start)
        return Token("name", text, start, text)

    def number(self) -> Token:
        start, src = self.pos, self.source
        end = start
        while end < len(src) and (_is_name_char(src[end]) or src[end] == "."
                                  or (src[end] in "+-" and src[end - 1] in "eE")):
            end += 1
            if end - start > MAX_NUMBER_CHARS:
                raise self.fail(f"number is longer than {MAX_NUMBER_CHARS} characters", start)
        text = src[start:end]
        if not _is_decimal(text):
            raise self.fail(f"'{text}' is not a number (use digits, an optional fraction and "
                            "exponent, as in 12, 0.5 or 1e6)", start)
        value: float | int = int(text) if text.isdigit() else float(text)
        if not math.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
            raise self.fail(f"number {text} is out of range (at most {MAX_ABS_NUMBER:g})", start)
        self.pos = end
        return Token("number", text, start, value)

    def string(self, quote: str) -> Token:
        start, src = self.pos, self.source
        end = start + 1
        while end < len(src) and src[end] != quote:
            if src[end] == "\\":
                raise self.fail("backslashes are not allowed in strings", end)
            if src[end] == "\n":
                raise self.fail("strings cannot span lines", end)
            end += 1
        if end >= len(src):
            raise self.fail(f"unterminated string: expected a closing {quote}", start)
        text = src[start + 1:end]
        if len(text) > MAX_STRING_CHARS:
            raise self.fail(f"string is longer than {MAX_STRING_CHARS} characters", start)
        self.pos = end + 1
        return Token("string", text, start, text)

    def symbol(self, ch: str) -> Token:
        for symbol in SYMBOLS:
            if self.source.startswith(symbol, self.pos):
                self.pos += len(symbol)
                return Token(symbol, symbol, self.pos - len(symbol))
        if ch == "=":
            raise self.fail("unexpected '=': use '==' to compare")
        if ch == "_":
            raise self.fail("names cannot start with '_'")
        shown = ch if ch.isprintable() else repr(ch)
        raise self.fail(f"unexpected character '{shown}'")


def _is_decimal(text: str) -> bool:
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    if not whole.isdigit() or not whole.isascii():
        return False
    if "." in mantissa and not (fraction.isdigit() and fraction.isascii()):
        return False
    if "e" not in text.lower():
        return True
    digits = exponent[1:] if exponent[:1] in "+-" else exponent
    return digits.isdigit() and digits.isascii()


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an ``end`` token; ``RuleError`` on anything else.

    >>> try:
    ...     tokenize("x.__class__")
    ... except RuleError as error:
    ...     print(error.line, error.column, error.message)
    1 3 expected a name after '.' (names start with a letter)
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise RuleError.at(source, MAX_SOURCE_CHARS,
                           f"condition is longer than {MAX_SOURCE_CHARS} characters")
    return _Lexer(source).tokens()
