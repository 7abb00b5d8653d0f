"""Tokenizer for the SQL subset the emulator understands.

Token kinds:
  ``ident``  unquoted identifier/keyword; ``value`` is folded to upper case
  ``qident`` double-quoted identifier; ``value`` keeps case, ``""`` unescaped
  ``string`` single-quoted literal, backslash escapes resolved (reference §1.3)
  ``dollar`` ``$$...$$`` literal, content verbatim
  ``number`` integer or decimal literal (``value`` is the text)
  ``punct``  one of ``( ) , . ; = @ / * ! - + : < >``
  ``eof``    end of input
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import syntax_error

_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | set("0123456789$")
_PUNCT = set("(),.;=@/*!-+:<>")
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "0": "\0"}


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    pos: int
    end: int

    def is_kw(self, *words: str) -> bool:
        return self.kind == "ident" and self.value in words


def _read_string(sql: str, i: int) -> tuple[str, int]:
    """Read a single-quoted literal starting at ``sql[i] == "'"``; returns (value, index after)."""
    out: list[str] = []
    n = len(sql)
    j = i + 1
    while j < n:
        c = sql[j]
        if c == "'":
            if j + 1 < n and sql[j + 1] == "'":
                out.append("'")
                j += 2
                continue
            return "".join(out), j + 1
        if c == "\\" and j + 1 < n:
            e = sql[j + 1]
            if e in _SIMPLE_ESCAPES and not (e == "0" and j + 2 < n and sql[j + 2] in "01234567"):
                out.append(_SIMPLE_ESCAPES[e])
                j += 2
            elif e in "01234567":
                k = j + 1
                while k < n and k < j + 4 and sql[k] in "01234567":
                    k += 1
                out.append(chr(int(sql[j + 1 : k], 8)))
                j = k
            elif e == "x" and _is_hex(sql[j + 2 : j + 4], 2):
                out.append(chr(int(sql[j + 2 : j + 4], 16)))
                j += 4
            elif e == "u" and _is_hex(sql[j + 2 : j + 6], 4):
                out.append(chr(int(sql[j + 2 : j + 6], 16)))
                j += 6
            else:
                out.append(e)
                j += 2
            continue
        out.append(c)
        j += 1
    raise syntax_error(sql, i, "'")


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdefABCDEF" for c in text)


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
            continue
        if sql.startswith("--", i) or sql.startswith("//", i):
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        if sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            if close < 0:
                raise syntax_error(sql, i, "/*")
            i = close + 2
            continue
        if c in _IDENT_START:
            j = i + 1
            while j < n and sql[j] in _IDENT_CHARS:
                j += 1
            tokens.append(Token("ident", sql[i:j].upper(), i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            out: list[str] = []
            while True:
                if j >= n:
                    raise syntax_error(sql, i, '"')
                if sql[j] == '"':
                    if j + 1 < n and sql[j + 1] == '"':
                        out.append('"')
                        j += 2
                        continue
                    break
                out.append(sql[j])
                j += 1
            if not out:
                raise syntax_error(sql, i, '""')
            tokens.append(Token("qident", "".join(out), i, j + 1))
            i = j + 1
            continue
        if c == "'":
            value, j = _read_string(sql, i)
            tokens.append(Token("string", value, i, j))
            i = j
            continue
        if sql.startswith("$$", i):
            close = sql.find("$$", i + 2)
            if close < 0:
                raise syntax_error(sql, i, "$$")
            tokens.append(Token("dollar", sql[i + 2 : close], i, close + 2))
            i = close + 2
            continue
        if c.isdigit():
            j = i
            while j < n and (sql[j].isdigit() or sql[j] == "."):
                j += 1
            tokens.append(Token("number", sql[i:j], i, j))
            i = j
            continue
        if c in _PUNCT:
            tokens.append(Token("punct", c, i, i + 1))
            i += 1
            continue
        raise syntax_error(sql, i, c)
    tokens.append(Token("eof", "", n, n))
    return tokens
