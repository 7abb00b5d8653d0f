"""Token cursor plus the generic pieces every statement parser needs (names, properties, values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import SqlError, invalid, syntax_error
from .lexer import Token, tokenize


@dataclass
class Val:
    """A parsed property value.

    kind: ``str`` (quoted or dollar literal), ``num``, ``name`` (identifier, possibly qualified; also bare
    keywords such as TRUE/NULL/XSMALL), ``list`` (parenthesised list) or ``props`` (parenthesised
    ``KEY = value`` group such as ``ENCRYPTION = (TYPE = 'X')``).
    """

    kind: str
    value: Any
    tok: Token
    quoted: bool = False
    items: list[Val] = field(default_factory=list)


class Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.toks = tokenize(sql)
        self.i = 0

    # -- cursor ---------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        if tok.kind != "eof":
            self.i += 1
        return tok

    def error(self, tok: Token | None = None) -> SqlError:
        tok = tok or self.peek()
        text = self.sql[tok.pos : tok.end] if tok.kind != "eof" else ""
        if tok.kind in ("string", "dollar") and len(text) > 40:
            text = text[:40]
        return syntax_error(self.sql, tok.pos, text)

    def at_kw(self, *words: str) -> bool:
        return all(self.peek(k).is_kw(w) for k, w in enumerate(words))

    def accept_kw(self, *words: str) -> bool:
        if self.at_kw(*words):
            self.i += len(words)
            return True
        return False

    def expect_kw(self, *words: str) -> None:
        for w in words:
            if not self.peek().is_kw(w):
                raise self.error()
            self.i += 1

    def at_punct(self, ch: str) -> bool:
        tok = self.peek()
        return tok.kind == "punct" and tok.value == ch

    def accept_punct(self, ch: str) -> bool:
        if self.at_punct(ch):
            self.i += 1
            return True
        return False

    def expect_punct(self, ch: str) -> None:
        if not self.accept_punct(ch):
            raise self.error()

    def end(self) -> None:
        self.accept_punct(";")
        if self.peek().kind != "eof":
            raise self.error()

    def at_end(self) -> bool:
        tok = self.peek()
        return tok.kind == "eof" or (tok.kind == "punct" and tok.value == ";")

    # -- identifiers ----------------------------------------------------------------------------
    def ident(self) -> str:
        tok = self.peek()
        if self._at_identifier_function():
            parts = self._identifier_function(1)
            return parts[0]
        if tok.kind in ("ident", "qident"):
            self.i += 1
            return tok.value
        raise self.error()

    def _at_identifier_function(self) -> bool:
        return self.at_kw("IDENTIFIER") and self.peek(1).kind == "punct" and self.peek(1).value == "(" \
            and self.peek(2).kind == "string"

    def _identifier_function(self, max_parts: int) -> tuple[str, ...]:
        """``IDENTIFIER('db.schema."Name"')``: a name given as a string literal
        (https://docs.snowflake.com/en/sql-reference/identifier-literal)."""
        self.i += 2
        text = self.next()
        self.expect_punct(")")
        inner = Parser(text.value)
        parts = inner.name(max_parts)
        if inner.peek().kind != "eof":
            raise self.error(text)
        return parts

    def name(self, max_parts: int = 3) -> tuple[str, ...]:
        if self._at_identifier_function():
            return self._identifier_function(max_parts)
        parts = [self.ident()]
        while self.at_punct(".") and len(parts) < max_parts:
            self.i += 1
            parts.append(self.ident())
        return tuple(parts)

    def if_not_exists(self) -> bool:
        return self.accept_kw("IF", "NOT", "EXISTS")

    def if_exists(self) -> bool:
        return self.accept_kw("IF", "EXISTS")

    # -- literals -------------------------------------------------------------------------------
    def string(self) -> str:
        tok = self.peek()
        if tok.kind in ("string", "dollar"):
            self.i += 1
            return tok.value
        raise self.error()

    def integer(self) -> int:
        tok = self.peek()
        if tok.kind == "number" and tok.value.isdigit():
            self.i += 1
            return int(tok.value)
        raise self.error()

    def stage_location(self) -> tuple[tuple[str, ...], str]:
        """``@db.s.stage[/path]`` or the quoted literal form ``'@"DB"."S"."STG"/path'``."""
        tok = self.peek()
        if tok.kind == "string" and tok.value.startswith("@"):
            self.i += 1
            sub = Parser(tok.value[1:].replace("/", " /", 1))
            parts = sub.name()
            path = ""
            if sub.at_punct("/"):
                path = sub.sql[sub.peek().pos :].strip()
            return parts, path
        self.expect_punct("@")
        parts = self.name()
        path = ""
        slash = self.peek()
        if slash.kind == "punct" and slash.value == "/" and slash.pos == self.toks[self.i - 1].end:
            j = slash.pos
            while j < len(self.sql) and not self.sql[j].isspace() and self.sql[j] != ";":
                j += 1
            path = self.sql[slash.pos : j]
            while self.peek().kind != "eof" and self.peek().pos < j:
                self.i += 1
        return parts, path

    # -- property lists -------------------------------------------------------------------------
    def value(self) -> Val:
        tok = self.peek()
        if tok.kind in ("string", "dollar"):
            self.i += 1
            return Val("str", tok.value, tok)
        if tok.kind == "number":
            self.i += 1
            return Val("num", tok.value, tok)
        if tok.kind == "punct" and tok.value == "-" and self.peek(1).kind == "number":
            self.i += 2
            return Val("num", "-" + self.toks[self.i - 1].value, tok)
        if tok.kind in ("ident", "qident"):
            parts = self.name()
            return Val("name", parts, tok, quoted=tok.kind == "qident")
        if tok.kind == "punct" and tok.value == "(":
            self.i += 1
            if self.peek().kind == "ident" and self.peek(1).kind == "punct" and self.peek(1).value == "=":
                group = self.props_any()
                self.expect_punct(")")
                return Val("props", group, tok)
            items: list[Val] = []
            if not self.accept_punct(")"):
                while True:
                    items.append(self.value())
                    if self.accept_punct(")"):
                        break
                    self.expect_punct(",")
            return Val("list", None, tok, items=items)
        raise self.error()

    def props_any(self) -> dict[str, Val]:
        out: dict[str, Val] = {}
        while self.peek().kind == "ident" and self.peek(1).kind == "punct" and self.peek(1).value == "=":
            key = self.next().value
            self.next()
            out[key] = self.value()
        return out

    def props(self, allowed: set[str] | frozenset[str], stop: tuple[str, ...] = ()) -> dict[str, Val]:
        """Parse ``KEY = value`` pairs in any order until a token that is not an allowed key."""
        out: dict[str, Val] = {}
        while True:
            tok = self.peek()
            if tok.kind != "ident" or tok.value in stop:
                return out
            if tok.value not in allowed:
                return out
            nxt = self.peek(1)
            if not (nxt.kind == "punct" and nxt.value == "="):
                raise self.error(nxt)
            if tok.value in out:
                raise invalid(f"duplicate property '{tok.value}'")
            self.i += 2
            out[tok.value] = self.value()


# -- value conversion helpers -------------------------------------------------------------------
def v_str(v: Val) -> str:
    if v.kind != "str":
        raise syntax_error_at(v)
    return str(v.value)


def v_int(v: Val) -> int:
    if v.kind != "num" or not str(v.value).lstrip("-").isdigit():
        raise syntax_error_at(v)
    return int(v.value)


def v_kw(v: Val) -> str:
    """A bare keyword or a string used as keyword (``'SNOWPARK-OPTIMIZED'``), upper-cased."""
    if v.kind == "str":
        return str(v.value).upper()
    if v.kind == "name" and len(v.value) == 1:
        return str(v.value[0]).upper()
    raise syntax_error_at(v)


def v_bool(v: Val) -> bool:
    word = v_kw(v) if v.kind in ("name", "str") else ""
    if word in ("TRUE", "YES", "ON", "Y"):
        return True
    if word in ("FALSE", "NO", "OFF", "N"):
        return False
    raise syntax_error_at(v)


def v_is_null(v: Val) -> bool:
    return v.kind == "name" and not v.quoted and v.value == ("NULL",)


def v_name(v: Val) -> tuple[str, ...]:
    if v.kind != "name":
        raise syntax_error_at(v)
    return tuple(v.value)


def v_list(v: Val) -> list[Val]:
    if v.kind != "list":
        raise syntax_error_at(v)
    return v.items


def syntax_error_at(v: Val) -> SqlError:
    tok = v.tok
    return SqlError("001003", "42000", f"SQL compilation error:\ninvalid value [{_show(v)}] at position {tok.pos}")


def _show(v: Val) -> str:
    if v.kind == "name":
        return ".".join(v.value)
    if v.kind in ("list", "props"):
        return "(...)"
    return str(v.value)
