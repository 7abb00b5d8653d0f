"""One Snowflake statement -> DuckDB SQL, with Snowflake's name resolution.

sqlglot parses the Snowflake dialect and writes DuckDB's. Around that, this module does what Snowflake's
compiler does before running anything: unquoted identifiers fold to upper case; a table named with one
or two parts is completed with the session's current schema and database (docs.snowflake.com/en/
sql-reference/name-resolution), and must exist (else 002003); a function named like a user function
becomes a call of the DuckDB function that stands for it. Tables live in DuckDB schemas named
``DB.SCHEMA`` (see :func:`storage_schema`), so every name the statement uses is rewritten to that layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from sfduck import errors as E

Key = tuple[str, str, str]
# (stored name parts as written, argument count) -> DuckDB function name, or None: not a user function
FunctionResolver = Callable[[tuple[str, ...], int], "str | None"]
TableResolver = Callable[[Key], None]  # raises SnowflakeError when the table does not exist

_TCL = re.compile(r"^\s*(?P<verb>BEGIN|START|COMMIT|ROLLBACK)\b(?P<rest>[^;]*);?\s*$", re.I | re.S)
CONTEXT = ("CURRENT_DATABASE", "CURRENT_SCHEMA", "CURRENT_ROLE", "CURRENT_WAREHOUSE", "CURRENT_USER",
           "CURRENT_ACCOUNT", "CURRENT_REGION")


@dataclass
class Statement:
    """A statement ready for DuckDB. ``kind``: select, insert, update, delete, begin, commit, rollback,
    use_database, use_schema, or other (DDL and the rest, which callers handle or refuse)."""

    kind: str
    text: str  # the Snowflake statement as given
    sql: str = ""  # DuckDB SQL (select / insert / update / delete)
    tables: list[Key] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)  # DuckDB names of the user functions called
    target: tuple[str, ...] = ()  # use_database / use_schema: the names given
    tree: Any = None  # the parsed Snowflake statement (other), for callers that handle it themselves


def storage_schema(database: str, schema: str) -> str:
    """The DuckDB schema holding Snowflake schema ``database.schema`` (one flat level in DuckDB). A quoted
    database name may hold '.': it is %-escaped (with '%'), so the first '.' always ends the database
    and ``"a.b".S`` and ``a."b.S"`` stay two schemas; names without '.' or '%' map as they always did."""
    return f"{database.replace('%', '%25').replace('.', '%2E')}.{schema}"


def split_storage_schema(name: str) -> tuple[str, str]:
    """(database, schema) of a DuckDB schema named by :func:`storage_schema`."""
    database, _, schema = name.partition(".")
    return database.replace("%2E", ".").replace("%25", "%"), schema


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def storage_name(key: Key) -> str:
    return f"{quote(storage_schema(key[0], key[1]))}.{quote(key[2])}"


def display(key: tuple[str, ...]) -> str:
    """How Snowflake prints a name in messages: plain parts bare, others double-quoted."""
    return ".".join(p if re.match(r"^[A-Z_][A-Z0-9_$]*$", p) else quote(p) for p in key)


def split(sql: str) -> list[str]:
    """The statements of a script, split where sqlglot's tokenizer sees top-level semicolons."""
    try:
        tokens = sqlglot.tokenize(sql, read="snowflake")
    except TokenError as exc:
        raise E.syntax(str(exc)) from None
    out, start = [], 0
    for tok in tokens:
        if tok.token_type.name == "SEMICOLON":
            piece = sql[start:tok.start].strip()
            if piece:
                out.append(piece)
            start = tok.end + 1
    rest = sql[start:].strip()
    if rest:
        out.append(rest)
    return out


def translate(text: str, *, database: str | None, schema: str | None, table: TableResolver,
              function: FunctionResolver, context: Mapping[str, Any] | None = None) -> Statement:
    """Translate one statement (no trailing ``;`` needed). Raises :class:`SnowflakeError`."""
    m = _TCL.match(text)
    if m is not None:
        verb = m.group("verb").upper()
        if verb == "START" and not re.match(r"\s*TRANSACTION\b", m.group("rest"), re.I):
            raise E.syntax(f"line 1 at position {m.end('verb')} unexpected '{m.group('rest').strip()[:20]}'.")
        return Statement({"START": "begin"}.get(verb, verb.lower()), text)
    try:
        trees = [t for t in sqlglot.parse(text, read="snowflake") if t is not None]
    except (ParseError, TokenError) as exc:
        raise E.syntax(_parse_message(exc)) from None
    if len(trees) != 1:
        raise E.syntax("one statement at a time is expected here")
    tree = normalize_identifiers(trees[0], dialect="snowflake")
    for fn in tree.find_all(exp.Anonymous):  # function names fold to upper case like other identifiers
        if isinstance(fn.this, str):
            fn.set("this", fn.this.upper())
    if isinstance(tree, exp.Use):
        kind = (tree.args.get("kind").name.upper() if tree.args.get("kind") else "DATABASE")
        parts = _parts(tree.this)
        return Statement("use_schema" if kind == "SCHEMA" else "use_database", text, target=parts)
    kinds = {exp.Insert: "insert", exp.Update: "update", exp.Delete: "delete"}
    kind = next((k for cls, k in kinds.items() if isinstance(tree, cls)), None)
    if kind is None and isinstance(tree, exp.Query):
        kind = "select"
    if kind is None:
        return Statement("other", text, tree=tree)
    stmt = Statement(kind, text)
    if kind == "select":
        _label_expressions(tree)
    _rewrite_tables(tree, stmt, database, schema, table)
    _rewrite_functions(tree, stmt, function, dict(context or {}))
    stmt.sql = tree.sql(dialect="duckdb", identify=True)
    return stmt


def _parse_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        return (f"line {first.get('line', 1)} at position {first.get('col', 0)} unexpected "
                f"'{first.get('highlight', '')}'.")
    return str(exc).splitlines()[0]


def _parts(node: exp.Expression) -> tuple[str, ...]:
    if isinstance(node, exp.Table):
        return tuple(p.name for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p is not None
                     and p.name)
    return tuple(node.name.split(".")) if node is not None else ()


def resolve(parts: tuple[str, ...], database: str | None, schema: str | None, action: str) -> Key:
    """Complete a 1-, 2- or 3-part name with the session's current database and schema."""
    if len(parts) == 3:
        return parts  # type: ignore[return-value]
    if database is None:
        raise E.no_database(action)
    if len(parts) == 2:
        return (database, parts[0], parts[1])
    if schema is None:
        raise E.no_schema(action)
    return (database, schema, parts[0])


def _rewrite_tables(tree: exp.Expression, stmt: Statement, database: str | None, schema: str | None,
                    table: TableResolver) -> None:
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    action = {"select": "query", "insert": "insert", "update": "update", "delete": "delete"}[stmt.kind]
    for node in list(tree.find_all(exp.Table)):
        if not isinstance(node.this, exp.Identifier):
            continue  # a table function (RANGE(3), FLATTEN(...)): DuckDB's own
        parts = _parts(node)
        if len(parts) == 1 and parts[0] in ctes:
            continue
        key = resolve(parts, database, schema, action)
        table(key)
        stmt.tables.append(key)
        node.set("catalog", None)
        node.set("db", exp.Identifier(this=storage_schema(key[0], key[1]), quoted=True))
        node.set("this", exp.Identifier(this=key[2], quoted=True))


def _rewrite_functions(tree: exp.Expression, stmt: Statement, function: FunctionResolver,
                       context: dict[str, Any]) -> None:
    # Session context functions (CURRENT_DATABASE() ...) are the session's values, not DuckDB's.
    for node in list(tree.find_all(exp.Func)):
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(node).__name__).upper()
        if name in CONTEXT and name in context and not isinstance(node, exp.Anonymous):
            value = context[name]
            node.replace(exp.null() if value is None else exp.Literal.string(str(value)))
    for node in list(tree.find_all(exp.Anonymous)):
        name = node.this.name if isinstance(node.this, exp.Identifier) else str(node.this)
        qualifier: list[str] = []
        top: exp.Expression = node
        while isinstance(top.parent, exp.Dot) and top.parent.expression is top:
            left = top.parent.this
            qualifier = [*_dot_parts(left), *qualifier]
            top = top.parent
        parts = (*qualifier, name)
        args = list(node.expressions)
        if len(parts) == 1 and name.upper() in CONTEXT and not args and name.upper() in context:
            value = context[name.upper()]
            top.replace(exp.null() if value is None else exp.Literal.string(str(value)))
            continue
        duck = function(tuple(parts), len(args))
        if duck is None:
            if qualifier:
                raise E.unknown_function(display(tuple(parts)))
            continue
        stmt.functions.append(duck)
        top.replace(exp.Anonymous(this=duck, expressions=args))


def _dot_parts(node: exp.Expression) -> list[str]:
    if isinstance(node, exp.Dot):
        return [*_dot_parts(node.this), *_dot_parts(node.expression)]
    if isinstance(node, exp.Identifier | exp.Column):
        return [node.name]
    return [node.sql()]


def _label_expressions(tree: exp.Expression) -> None:
    """Snowflake names an unaliased result column by the expression's text (``CONVERT_UDF(TEMP_C)``);
    give such expressions that name before they are rewritten."""
    select = tree if isinstance(tree, exp.Select) else None
    if select is None:
        return
    for e in list(select.expressions):
        if isinstance(e, exp.Alias | exp.Column | exp.Star) or isinstance(e, exp.Dot) and isinstance(
                e.expression, exp.Star):
            continue
        label = e.sql(dialect="snowflake")
        e.replace(exp.alias_(e.copy(), exp.Identifier(this=label, quoted=True)))
