"""CREATE / ALTER / DROP / SHOW TABLES, SHOW COLUMNS, and the data statements routed to ``data.py``.

The catalog object (kind TABLE) keeps how the table was declared: columns with their canonical types,
nullability, default expression and comment; comment, clustering key, change tracking and retention.
Its rows live in the data engine. Shapes: docs.snowflake.com/en/sql-reference/sql/create-table,
alter-table, alter-table-column, show-tables, show-columns.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sfduck import types as sftypes
from sfduck.errors import SnowflakeError
from sfduck.warehouse import Column

from .catalog import Obj, fmt_key
from .context import Ctx
from .data import sql_error
from .errors import already_exists, invalid, syntax_error, unsupported
from .parser import Parser
from .registry import handles
from .results import FIXED, TEXT, TIMESTAMP, Result, ok
from .show import parse_show_tail

TABLE_PROPS = ("COMMENT", "CHANGE_TRACKING", "DATA_RETENTION_TIME_IN_DAYS")


# ---- parsing column definitions --------------------------------------------------------------------------
def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _default_text(node: exp.Expression) -> str:
    """A default as SHOW COLUMNS prints it: string literals quoted and escaped, expressions upper-cased."""
    if isinstance(node, exp.Literal):
        return _literal(node.this) if node.is_string else str(node.this)
    if isinstance(node, exp.Boolean):
        return "TRUE" if node.this else "FALSE"
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + str(node.this.this)
    return node.sql(dialect="snowflake").upper()


def _column(cd: exp.ColumnDef) -> dict[str, Any]:
    name = cd.this.name if cd.this.quoted else cd.this.name.upper()
    kind = cd.args.get("kind")
    if kind is None:
        raise invalid(f"column '{name}' needs a data type")
    try:
        datatype = sftypes.canonical(kind.sql(dialect="snowflake"))
    except sftypes.TypeSpellingError:
        raise invalid(f"Unsupported data type '{kind.sql(dialect='snowflake')}'.") from None
    col: dict[str, Any] = {"name": name, "type": datatype, "nullable": True, "default": None, "comment": None}
    for c in cd.constraints:
        k = c.args.get("kind")
        if isinstance(k, exp.NotNullColumnConstraint):
            col["nullable"] = bool(k.args.get("allow_null"))
        elif isinstance(k, exp.DefaultColumnConstraint):
            col["default"] = _default_text(k.this)
        elif isinstance(k, exp.CommentColumnConstraint):
            col["comment"] = k.this.this if isinstance(k.this, exp.Literal) else k.this.sql()
        else:
            raise unsupported(f"column constraint {k.sql(dialect='snowflake') if k else '?'}")
    return col


def _parse(sql: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(sql, read="snowflake")
    except (ParseError, TokenError) as exc:
        errors = getattr(exc, "errors", None) or [{}]
        raise syntax_error(sql, 0, str(errors[0].get("highlight", ""))) from None
    return tree


def _name_parts(table: exp.Table) -> tuple[str, ...]:
    out = []
    for part in (table.args.get("catalog"), table.args.get("db"), table.this):
        if isinstance(part, exp.Identifier) and part.name:
            out.append(part.name if part.quoted else part.name.upper())
    return tuple(out)


def storage_columns(obj: Obj) -> list[Column]:
    return [Column(c["name"], c["type"], c["nullable"], c["default"], c["comment"]) for c in obj.props["columns"]]


# ---- CREATE / DROP ---------------------------------------------------------------------------------------
@handles("CREATE TABLE")
def create_table(ctx: Ctx, p: Parser) -> Result:
    tree = _parse(ctx.sql)
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
        raise unsupported("CREATE TABLE without a column list")
    key = ctx.object_key(_name_parts(tree.this.this), "CREATE TABLE")
    ctx.require_schema(*key[:2])
    columns = [_column(cd) for cd in tree.this.expressions if isinstance(cd, exp.ColumnDef)]
    if not columns:
        raise invalid("a table needs at least one column")
    names = [c["name"] for c in columns]
    if len(set(names)) != len(names):
        raise invalid(f"duplicate column name '{next(n for n in names if names.count(n) > 1)}'")
    props: dict[str, Any] = {"columns": columns, "cluster_by": [], "change_tracking": False, "retention_time": 1}
    comment = None
    for prop in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions:
        if isinstance(prop, exp.ClusterProperty):
            props["cluster_by"] = [_name_parts(exp.Table(this=c.this))[0] for c in prop.expressions]
        elif isinstance(prop, exp.SchemaCommentProperty):
            comment = prop.this.this
        elif isinstance(prop, exp.Property) and prop.name.upper() == "CHANGE_TRACKING":
            props["change_tracking"] = prop.args["value"].sql().upper() == "TRUE"
        elif isinstance(prop, exp.Property) and prop.name.upper() == "DATA_RETENTION_TIME_IN_DAYS":
            props["retention_time"] = int(prop.args["value"].name)
        else:
            raise unsupported(f"table property {prop.sql(dialect='snowflake')}")
    exists = ctx.cat.get("TABLE", key)
    result = ctx.create(ctx.new_obj("TABLE", key, comment, **props), bool(tree.args.get("exists")), "Table")
    created = ctx.cat.get("TABLE", key)
    if created is not exists:  # new (or replaced): fresh storage
        _storage(ctx, lambda w: w.create_table(key, storage_columns(created), replace=True))
    return result


@handles("DROP TABLE")
def drop_table(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.object_key(p.name(), "DROP TABLE")
    p.accept_kw("CASCADE") or p.accept_kw("RESTRICT")
    p.end()
    result = ctx.drop("TABLE", key, ine)
    _storage(ctx, lambda w: w.drop_table(key))
    return result


def _storage(ctx: Ctx, change: Any) -> None:
    try:
        change(ctx.emu.data.warehouse)
    except SnowflakeError as exc:
        raise sql_error(exc) from None


# ---- ALTER ------------------------------------------------------------------------------------------------
@handles("ALTER TABLE")
def alter_table(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.object_key(p.name(), "ALTER TABLE")
    obj = ctx.alter_target("TABLE", key, ine)
    if obj is None:
        return ok()
    cols: list[dict[str, Any]] = obj.props["columns"]

    def column(name: str) -> dict[str, Any]:
        found = next((c for c in cols if c["name"] == name), None)
        if found is None:
            raise SqlError_invalid_identifier(name)
        return found

    if p.accept_kw("RENAME", "COLUMN"):
        old, _, new = p.ident(), p.expect_kw("TO"), p.ident()
        p.end()
        if any(c["name"] == new for c in cols):
            raise already_exists(new)
        column(old)["name"] = new
        _storage(ctx, lambda w: w.alter(key, "rename", old, new))
    elif p.accept_kw("DROP", "CLUSTERING", "KEY"):
        p.end()
        obj.props["cluster_by"] = []
    elif p.accept_kw("DROP"):
        p.accept_kw("COLUMN")
        names = [p.ident()]
        while p.accept_punct(","):
            names.append(p.ident())
        p.end()
        for n in names:
            column(n)
        if len(names) >= len(cols):
            raise invalid("Cannot drop all the columns of a table.")
        obj.props["columns"] = [c for c in cols if c["name"] not in names]
        for n in names:
            _storage(ctx, lambda w, n=n: w.alter(key, "drop", n))
    elif p.accept_kw("ADD"):
        p.accept_kw("COLUMN")
        start = p.peek().pos
        tree = _parse(f"CREATE TABLE x ({ctx.sql[start:].rstrip().rstrip(';')})")
        new_cols = [_column(cd) for cd in tree.this.expressions]
        for c in new_cols:
            if any(x["name"] == c["name"] for x in cols):
                raise already_exists(c["name"])
            cols.append(c)
            _storage(ctx, lambda w, c=c: w.alter(key, "add", c["name"], Column(**c)))
    elif p.accept_kw("ALTER") or p.accept_kw("MODIFY"):
        p.accept_kw("COLUMN")
        _alter_column(ctx, p, key, column(p.ident()))
    elif p.accept_kw("CLUSTER", "BY"):
        p.expect_punct("(")
        names = [p.ident()]
        while p.accept_punct(","):
            names.append(p.ident())
        p.expect_punct(")")
        p.end()
        for n in names:
            column(n)
        obj.props["cluster_by"] = names
    elif p.accept_kw("SET"):
        _set(p, obj)
    elif p.accept_kw("UNSET"):
        names = [p.ident()]
        while p.accept_punct(","):
            names.append(p.ident())
        p.end()
        for n in names:
            if n not in TABLE_PROPS:
                raise p.error()
            _set_prop(obj, n, None)
    else:
        raise p.error()
    return ok()


def SqlError_invalid_identifier(name: str) -> Exception:  # noqa: N802 - reads like the error it builds
    from .errors import SqlError

    return SqlError("000904", "42000", f"SQL compilation error:\nerror line 1 at position 0\ninvalid identifier '{name}'")


def _alter_column(ctx: Ctx, p: Parser, key: tuple[str, ...], col: dict[str, Any]) -> None:
    name = col["name"]
    if p.accept_kw("SET", "DATA", "TYPE") or p.accept_kw("TYPE") or p.accept_kw("SET", "TYPE"):
        start = p.peek().pos
        text = ctx.sql[start:].rstrip().rstrip(";")
        try:
            new = sftypes.canonical(text)
        except sftypes.TypeSpellingError:
            raise invalid(f"Unsupported data type '{text}'.") from None
        if not sftypes.in_place_change(col["type"], new):
            raise invalid(f"cannot change column {name} from type {col['type']} to {new}")
        col["type"] = new
        _storage(ctx, lambda w: w.alter(key, "type", name, new))
        return
    if p.accept_kw("SET", "NOT", "NULL") or p.accept_kw("DROP", "NOT", "NULL"):
        nullable = p.toks[p.i - 3].is_kw("DROP")
        p.end()
        col["nullable"] = nullable
        _storage(ctx, lambda w: w.alter(key, "nullable", name, nullable))
    elif p.accept_kw("DROP", "DEFAULT"):
        p.end()
        col["default"] = None
        _storage(ctx, lambda w: w.alter(key, "drop_default", name))
    elif p.accept_kw("COMMENT"):
        col["comment"] = p.string()
        p.end()
    elif p.accept_kw("UNSET", "COMMENT"):
        p.end()
        col["comment"] = None
    else:
        raise p.error()


def _set(p: Parser, obj: Obj) -> None:
    seen = False
    while p.peek().kind == "ident" and p.peek().value in TABLE_PROPS:
        name = p.next().value
        p.expect_punct("=")
        v = p.value()
        if name == "COMMENT":
            value: Any = None if v.kind == "name" and v.value == ("NULL",) else str(v.value)
        elif name == "CHANGE_TRACKING":
            value = v.kind == "name" and v.value[0] in ("TRUE", "ON")
        else:
            value = int(v.value)
        _set_prop(obj, name, value)
        seen = True
    p.end()
    if not seen:
        raise p.error()


def _set_prop(obj: Obj, name: str, value: Any) -> None:
    if name == "COMMENT":
        obj.comment = value
    elif name == "CHANGE_TRACKING":
        obj.props["change_tracking"] = bool(value)
    else:
        obj.props["retention_time"] = 1 if value is None else value


# ---- SHOW ---------------------------------------------------------------------------------------------------
TABLE_COLUMNS = [("created_on", TIMESTAMP), ("name", TEXT), ("database_name", TEXT), ("schema_name", TEXT),
                 ("kind", TEXT), ("comment", TEXT), ("cluster_by", TEXT), ("rows", FIXED), ("bytes", FIXED),
                 ("owner", TEXT), ("retention_time", TEXT), ("automatic_clustering", TEXT),
                 ("change_tracking", TEXT), ("search_optimization", TEXT), ("is_external", TEXT),
                 ("enable_schema_evolution", TEXT), ("owner_role_type", TEXT), ("is_event", TEXT),
                 ("budget", TEXT), ("is_hybrid", TEXT), ("is_iceberg", TEXT), ("is_dynamic", TEXT)]


@handles("SHOW TABLES")
def show_tables(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p)
    counts = {k: len(c) for k, c in ctx.emu.data.warehouse.tables().items()}
    rows = []
    for t in f.apply(ctx.cat.list("TABLE")):
        cluster = t.props.get("cluster_by") or []
        rows.append([t.created_on, t.key[2], t.key[0], t.key[1], "TABLE", t.comment or "",
                     f"LINEAR({', '.join(fmt_key((c,)) for c in cluster)})" if cluster else "",
                     _row_count(ctx, t) if tuple(t.key) in counts else 0, 0, t.owner,
                     str(t.props.get("retention_time", 1)), "OFF" if not cluster else "ON",
                     "ON" if t.props.get("change_tracking") else "OFF", "OFF", "N", "N", "ROLE", "N", None, "N", "N",
                     "N"])
    return Result(TABLE_COLUMNS, rows)


def _row_count(ctx: Ctx, t: Obj) -> int:
    from sfduck.translate import storage_name

    warehouse = ctx.emu.data.warehouse
    try:
        with warehouse.lock:
            found = warehouse.root.execute(f"SELECT COUNT(*) FROM {storage_name(tuple(t.key))}").fetchone()
        return int(found[0]) if found else 0
    except Exception:  # the count is informational: never fail SHOW over it
        return 0


COLUMN_COLUMNS = [("table_name", TEXT), ("schema_name", TEXT), ("column_name", TEXT), ("data_type", TEXT),
                  ("null?", TEXT), ("default", TEXT), ("kind", TEXT), ("expression", TEXT), ("comment", TEXT),
                  ("database_name", TEXT), ("autoincrement", TEXT), ("schema_evolution_record", TEXT)]


@handles("SHOW COLUMNS")
def show_columns(ctx: Ctx, p: Parser) -> Result:
    like, scope = None, ("ACCOUNT", ())
    if p.accept_kw("LIKE"):
        like = p.string()
    if p.accept_kw("IN"):
        if p.accept_kw("ACCOUNT"):
            scope = ("ACCOUNT", ())
        elif p.accept_kw("DATABASE"):
            scope = ("DATABASE", (p.ident(),) if not p.at_end() else (ctx.schema_key(("X",), "SHOW")[0],))
            ctx.cat.require("DATABASE", scope[1])
        elif p.accept_kw("SCHEMA"):
            scope = ("SCHEMA", ctx.schema_key(p.name(2), "SHOW"))
            ctx.require_schema(*scope[1])
        else:
            p.accept_kw("TABLE")
            key = ctx.object_key(p.name(), "SHOW")
            ctx.cat.require("TABLE", key)
            scope = ("TABLE", key)
    elif ctx.session.database:
        scope = ("DATABASE", (ctx.session.database,))
    p.end()
    from .results import like_match

    rows = []
    for t in ctx.cat.list("TABLE"):
        if tuple(t.key[: len(scope[1])]) != tuple(scope[1]):
            continue
        for c in t.props["columns"]:
            if like is not None and not like_match(like, c["name"]):
                continue
            rows.append([t.key[2], t.key[1], c["name"], sftypes.show_columns_type(c["type"], c["nullable"]),
                         "true" if c["nullable"] else "false", c["default"] or "", "COLUMN", "", c["comment"] or "",
                         t.key[0], "", None])
    return Result(COLUMN_COLUMNS, rows)


# ---- data statements ------------------------------------------------------------------------------------------
@handles("INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK")
def data_statement(ctx: Ctx, p: Parser) -> Result:
    return ctx.emu.data.handle(ctx)


def reads_tables(p: Parser) -> bool:
    """Whether a SELECT has a FROM clause (the literal SELECT handler reads no tables)."""
    return any(t.is_kw("FROM") for t in p.toks)


def select_rows(ctx: Ctx) -> Result:
    """A SELECT that reads tables (or that only DuckDB can evaluate)."""
    return ctx.emu.data.handle(ctx)

