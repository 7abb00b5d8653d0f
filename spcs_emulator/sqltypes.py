"""SQL data type parsing and canonicalisation (function signatures and return types)."""

from __future__ import annotations

from .parser import Parser

_ALIASES = {
    "NUMBER": "NUMBER", "DECIMAL": "NUMBER", "NUMERIC": "NUMBER", "INT": "NUMBER", "INTEGER": "NUMBER",
    "BIGINT": "NUMBER", "SMALLINT": "NUMBER", "TINYINT": "NUMBER", "BYTEINT": "NUMBER",
    "FLOAT": "FLOAT", "FLOAT4": "FLOAT", "FLOAT8": "FLOAT", "DOUBLE": "FLOAT", "REAL": "FLOAT",
    "VARCHAR": "VARCHAR", "STRING": "VARCHAR", "TEXT": "VARCHAR", "CHAR": "VARCHAR", "CHARACTER": "VARCHAR",
    "NCHAR": "VARCHAR", "NVARCHAR": "VARCHAR", "NVARCHAR2": "VARCHAR", "CHAR VARYING": "VARCHAR",
    "BOOLEAN": "BOOLEAN", "VARIANT": "VARIANT", "OBJECT": "OBJECT", "ARRAY": "ARRAY", "DATE": "DATE",
    "TIME": "TIME", "TIMESTAMP": "TIMESTAMP_NTZ", "DATETIME": "TIMESTAMP_NTZ", "TIMESTAMP_NTZ": "TIMESTAMP_NTZ",
    "TIMESTAMP_LTZ": "TIMESTAMP_LTZ", "TIMESTAMP_TZ": "TIMESTAMP_TZ", "BINARY": "BINARY", "VARBINARY": "BINARY",
    "GEOGRAPHY": "GEOGRAPHY", "GEOMETRY": "GEOMETRY", "VECTOR": "VECTOR",
}


def parse_type(p: Parser) -> str:
    """Parse a data type (with optional ``(p[, s])``) and return its canonical base name."""
    tok = p.peek()
    if tok.kind != "ident":
        raise p.error()
    word = p.next().value
    if word == "DOUBLE":
        p.accept_kw("PRECISION")
    if word == "CHAR" and p.accept_kw("VARYING"):
        word = "CHAR VARYING"
    if word not in _ALIASES:
        raise p.error(tok)
    if p.accept_punct("("):
        depth = 1
        while depth:
            t = p.next()
            if t.kind == "eof":
                raise p.error(t)
            if t.kind == "punct" and t.value == "(":
                depth += 1
            elif t.kind == "punct" and t.value == ")":
                depth -= 1
    return _ALIASES[word]


def display_type(canonical: str) -> str:
    """How DESC FUNCTION / SHOW FUNCTIONS print a return type."""
    return {"NUMBER": "NUMBER(38,0)", "VARCHAR": "VARCHAR(16777216)"}.get(canonical, canonical)


def arg_display_type(canonical: str) -> str:
    """How SHOW GRANTS prints an argument's type inside a function's name (NUMBER with its scale)."""
    return "NUMBER(38,0)" if canonical == "NUMBER" else canonical


def parse_arg_types(p: Parser) -> str:
    """``( <type>, ... )`` as used by ALTER/DROP/GRANT ... FUNCTION; returns ``"T1,T2"``."""
    p.expect_punct("(")
    types: list[str] = []
    if not p.accept_punct(")"):
        while True:
            types.append(parse_type(p))
            if p.accept_punct(")"):
                break
            p.expect_punct(",")
    return ",".join(types)
