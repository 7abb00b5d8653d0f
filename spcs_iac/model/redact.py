"""Secret values out of text that may quote them: error messages, logs and diagnostics.

A server error can quote the statement as it was written, so a secret shows in whatever form the writer
gave it: raw; as the body of a SQL string literal (quotes and backslashes doubled:
``identifiers.string_literal``); as the body of a JSON string (specs and ``PARSE_JSON`` arguments, with
or without ``\\uXXXX`` escapes, ``$$`` runs written ``\\u0024$`` as in the Snowflake target's
``spec_text``); JSON inside a SQL literal; a Python repr in a traceback; a statement folded onto one
line (the connector's query log). Servers also change the case of a value they quote (an invalid
keyword comes back upper-cased), so matching ignores case. Messages are often cut short, so every
prefix and suffix of :data:`MIN_FRAGMENT` characters or more of each form goes too (a shorter form only
whole).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

HIDDEN = "(sensitive)"
MIN_FRAGMENT = 8
_DOLLAR_RUN = re.compile(r"\$(?=\$)")


def _sql_body(text: str) -> str:
    """The inside of ``identifiers.string_literal(text)`` (which also refuses NUL: not our concern here)."""
    return text.replace("\\", "\\\\").replace("'", "''")


def _json_bodies(text: str) -> set[str]:
    bodies = {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    return bodies | {_DOLLAR_RUN.sub(r"\\u0024", b) for b in bodies}


def encoded_forms(value: str) -> set[str]:
    """Every form in which the statements and documents we write can carry ``value``."""
    if not value:
        return set()
    # Folded onto one line, and with every run of whitespace (tabs, double spaces) as one space: error
    # messages and the connector's query log print statements so.
    plain = {value, " ".join(line.strip() for line in value.split("\n")), " ".join(value.split())}
    written = plain | {j for p in plain for j in _json_bodies(p)}
    written |= {_sql_body(w) for w in written}
    shown = {repr(w)[1:-1] for w in written} | {ascii(w)[1:-1] for w in written}
    return {f for f in written | shown if f}


def scrub(text: str, secrets: Iterable[str | None], hidden: str = HIDDEN) -> str:
    """``text`` with every encoded form of every secret, and every long enough piece of one cut at
    either end, replaced by ``hidden``."""
    forms = {_fold(f) for s in secrets if isinstance(s, str) for f in encoded_forms(s)}
    if not forms or not text:
        return text
    folded = _fold(text)  # same length as text: positions found in one are positions in the other
    spans: list[tuple[int, int]] = []
    for form in forms:
        if len(form) < MIN_FRAGMENT:
            spans += [(i, i + len(form)) for i in _find_all(folded, form)]
            continue
        head, tail = form[:MIN_FRAGMENT], form[-MIN_FRAGMENT:]
        for i in _find_all(folded, head):  # a prefix: extend it as far as the form goes on
            spans.append((i, i + _common_prefix(folded, i, form)))
        for i in _find_all(folded, tail):  # a suffix: extend it back as far as the form goes
            end = i + MIN_FRAGMENT
            spans.append((end - _common_suffix(folded, end, form), end))
    return _replace(text, spans, hidden)


def _fold(text: str) -> str:
    """Upper case, one character for one (a character whose upper case is longer, like ß, stays)."""
    return "".join(u if len(u := c.upper()) == 1 else c for c in text)


def _find_all(text: str, part: str) -> Iterable[int]:
    i = text.find(part)
    while i >= 0:
        yield i
        i = text.find(part, i + 1)


def _common_prefix(text: str, start: int, form: str) -> int:
    n = 0
    while n < len(form) and start + n < len(text) and text[start + n] == form[n]:
        n += 1
    return n


def _common_suffix(text: str, end: int, form: str) -> int:
    n = 0
    while n < len(form) and end - n > 0 and text[end - n - 1] == form[-n - 1]:
        n += 1
    return n


def _replace(text: str, spans: list[tuple[int, int]], hidden: str) -> str:
    if not spans:
        return text
    out: list[str] = []
    at = 0
    for start, end in _merged(spans):
        out += [text[at:start], hidden]
        at = end
    return "".join(out) + text[at:]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
