"""Object parameters and SHOW PARAMETERS (https://docs.snowflake.com/en/sql-reference/sql/show-parameters,
https://docs.snowflake.com/en/sql-reference/parameters).

Databases, schemas and warehouses carry the parameters below, settable in CREATE / ALTER ... SET and
reset by UNSET; ``SHOW PARAMETERS IN DATABASE d`` (and ``FOR WAREHOUSE w``) lists them with their level:
the object's kind when set on it, empty when at the default. Only the parameters these kinds are
documented with, and which clients such as Titan read, are modelled.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from .catalog import Obj
from .columns import columns
from .context import Ctx
from .parser import Parser, Val, v_bool, v_int, v_kw, v_str
from .registry import handles
from .results import Result, like_match

# name -> (type, default, description) per object kind
Param = tuple[str, Any, str]
CONTAINER: dict[str, Param] = {
    "DATA_RETENTION_TIME_IN_DAYS": ("NUMBER", 1, "number of days to retain the old version of deleted/updated data"),
    "MAX_DATA_EXTENSION_TIME_IN_DAYS": ("NUMBER", 14, "Maximum number of days to extend data retention beyond "
                                        "the retention period to prevent a stream becoming stale."),
    "DEFAULT_DDL_COLLATION": ("STRING", "", "Collation that is used for all the new columns created by the DDL "
                              "statements (if not specified)"),
    "EXTERNAL_VOLUME": ("STRING", "", "The name of an external volume that will be used for persisting Iceberg "
                        "metadata and data files."),
    "CATALOG": ("STRING", "", "Name of the catalog integration to use for iceberg tables"),
    "LOG_LEVEL": ("STRING", "OFF", "LOG_LEVEL to use when filtering events"),
    "TRACE_LEVEL": ("STRING", "OFF", "Trace level value to use when generating/filtering trace events"),
    "SUSPEND_TASK_AFTER_NUM_FAILURES": ("NUMBER", 10, "How many times a task must fail in a row before it is "
                                        "automatically suspended. 0 disables auto-suspending."),
    "USER_TASK_TIMEOUT_MS": ("NUMBER", 3600000, "User task execution timeout in milliseconds"),
    "QUOTED_IDENTIFIERS_IGNORE_CASE": ("BOOLEAN", False, "If true, the case of quoted identifiers is ignored"),
    "ENABLE_CONSOLE_OUTPUT": ("BOOLEAN", False, "Enable stdout/stderr fast path logging for anonyous stored procs."),
}
PARAMETERS: dict[str, dict[str, Param]] = {
    "DATABASE": CONTAINER,
    "SCHEMA": {**CONTAINER, "PIPE_EXECUTION_PAUSED": ("BOOLEAN", False, "Pause the execution of a pipe")},
    "WAREHOUSE": {
        "MAX_CONCURRENCY_LEVEL": ("NUMBER", 8, "Concurrency level for SQL statements (i.e. queries and DML) "
                                  "executed by a warehouse cluster"),
        "STATEMENT_QUEUED_TIMEOUT_IN_SECONDS": ("NUMBER", 0, "Timeout in seconds for queued statements: statements "
                                                "will automatically be canceled if they are queued on a warehouse "
                                                "for longer than this amount of time; disabled if set to zero."),
        "STATEMENT_TIMEOUT_IN_SECONDS": ("NUMBER", 172800, "Timeout in seconds for statements: statements are "
                                         "automatically canceled if they run for longer; if set to zero, max "
                                         "value (604800) is enforced."),
    },
}


def names(kind: str) -> set[str]:
    return set(PARAMETERS.get(kind, {}))


def spec(kind: str) -> dict[str, tuple[Callable[[Val], Any], Any]]:
    """``KEY = value`` entries for CREATE / ALTER ... SET / UNSET of the kind's parameters (props.Spec)."""
    return {name: (partial(_convert, typ), default) for name, (typ, default, _) in PARAMETERS[kind].items()}


def _convert(typ: str, v: Val) -> Any:
    if typ == "NUMBER":
        return v_int(v)
    if typ == "BOOLEAN":
        return v_bool(v)
    return v_str(v) if v.kind == "str" else v_kw(v)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def rows_for(obj: Obj, like: str | None = None) -> list[list[Any]]:
    out = []
    for key, (typ, default, description) in sorted(PARAMETERS[obj.kind].items()):
        if like is not None and not like_match(like, key):
            continue
        value = obj.props.get(key.lower(), default)
        level = obj.kind if value != default else ""
        out.append([key, _text(value), _text(default), level, description, typ])
    return out


@handles("SHOW PARAMETERS")
def show_parameters(ctx: Ctx, p: Parser) -> Result:
    like = p.string() if p.accept_kw("LIKE") else None
    if p.accept_kw("IN", "ACCOUNT") or p.accept_kw("IN", "SESSION") or p.at_end():
        p.end()
        return Result(columns("SHOW PARAMETERS"), [])  # account and session parameters are not modelled
    if not (p.accept_kw("IN") or p.accept_kw("FOR")):
        raise p.error()
    if p.accept_kw("DATABASE"):
        obj = ctx.cat.require("DATABASE", ctx.account_key(p.name()))
    elif p.accept_kw("SCHEMA"):
        db, schema = ctx.schema_key(p.name(2), "SHOW PARAMETERS")
        obj = ctx.require_schema(db, schema)
    elif p.accept_kw("WAREHOUSE"):
        obj = ctx.cat.require("WAREHOUSE", ctx.account_key(p.name()))
    else:
        raise p.error()
    p.end()
    return Result(columns("SHOW PARAMETERS"), rows_for(obj, like))
