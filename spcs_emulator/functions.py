"""Service functions (CREATE/ALTER/DROP/SHOW/DESC FUNCTION) and SELECT of literals, context functions,
SYSTEM$ service helpers and service-function calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import access
from . import props as P
from .catalog import Obj, fmt_key
from .columns import columns
from .context import Ctx
from .errors import SqlError, does_not_exist, invalid
from .lexer import Token
from .parser import Parser, v_name
from .registry import handles
from .results import BOOLEAN, FIXED, REAL, TEXT, VARIANT, Result, ok
from .runtime import container_logs, container_rows, dns_name, endpoints_of, iso, service_status
from .show import parse_show_tail
from .sqltypes import display_type, parse_arg_types, parse_type

FUNC_SPEC: P.Spec = {
    "SERVICE": (lambda v: list(v_name(v)) if v.kind == "name" else list(Parser(P.v_str(v)).name()), P.REQUIRED),
    "ENDPOINT": (lambda v: P.v_str(v) if v.kind == "str" else v_name(v)[0], P.REQUIRED),
    "COMMENT": (P.c_comment, None),
    "CONTEXT_HEADERS": (lambda v: [v_name(i)[0] for i in P.v_list(v)], None),
    "MAX_BATCH_ROWS": (P.c_int, None),
    "MAX_BATCH_RETRIES": (P.c_int, 3),
    "ON_BATCH_FAILURE": (P.c_kw("ABORT", "RETURN_NULL"), "ABORT"),
    "BATCH_TIMEOUT_SECS": (P.c_int, 3600),
}
RESULT_TYPES = {"NUMBER": FIXED, "FLOAT": REAL, "BOOLEAN": BOOLEAN, "VARIANT": VARIANT, "OBJECT": VARIANT,
                "ARRAY": VARIANT}


def _func_key(ctx: Ctx, p: Parser, action: str) -> tuple[str, ...]:
    parts = p.name()
    return (*ctx.object_key(parts, action), parse_arg_types(p))


def _resolve_service(ctx: Ctx, values: dict[str, Any]) -> None:
    """Resolve SERVICE to a key and ENDPOINT to the spec's spelling (bare identifiers fold to upper case)."""
    key = ctx.object_key(tuple(values["SERVICE"]), "CREATE FUNCTION")
    svc = ctx.cat.require("SERVICE", key)
    endpoint = values["ENDPOINT"]
    names = {str(e.get("name")).lower(): str(e.get("name")) for e in endpoints_of(svc)}
    if endpoint.lower() in names:
        endpoint = names[endpoint.lower()]
    elif svc.props.get("source") == "inline":
        raise invalid(f"Endpoint '{endpoint}' does not exist in service '{fmt_key(key)}'.")
    values["SERVICE"], values["ENDPOINT"] = list(key), endpoint


@handles("CREATE FUNCTION")
def create_function(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_not_exists()
    parts = p.name()
    key3 = ctx.object_key(parts, "CREATE FUNCTION")
    p.expect_punct("(")
    args: list[list[str]] = []
    if not p.accept_punct(")"):
        while True:
            args.append([p.ident(), parse_type(p)])
            if p.accept_punct(")"):
                break
            p.expect_punct(",")
    p.expect_kw("RETURNS")
    returns = parse_type(p)
    not_null = p.accept_kw("NOT", "NULL")
    if not not_null:
        p.accept_kw("NULL")
    null_handling = "CALLED ON NULL INPUT"
    if p.accept_kw("CALLED", "ON", "NULL", "INPUT"):
        pass
    elif p.accept_kw("RETURNS", "NULL", "ON", "NULL", "INPUT") or p.accept_kw("STRICT"):
        null_handling = "RETURNS NULL ON NULL INPUT"
    volatility = "VOLATILE"
    if p.accept_kw("IMMUTABLE"):
        volatility = "IMMUTABLE"
    else:
        p.accept_kw("VOLATILE")
    values = P.with_defaults(FUNC_SPEC, P.parse(p, FUNC_SPEC, required=["SERVICE", "ENDPOINT"]))
    p.expect_kw("AS")
    path = p.string()
    p.end()
    ctx.require_schema(*key3[:2])
    _resolve_service(ctx, values)
    comment, pr = P.split_create(values)
    key = (*key3, ",".join(t for _, t in args))
    obj = ctx.new_obj("FUNCTION", key, comment, args=args, returns=returns, not_null=not_null,
                      null_handling=null_handling, volatility=volatility, path=path, **pr)
    return ctx.create(obj, ine, "Function")


@handles("ALTER FUNCTION")
def alter_function(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = _func_key(ctx, p, "ALTER FUNCTION")
    spec = {k: v for k, v in FUNC_SPEC.items()}
    if p.accept_kw("SET"):
        values = P.parse(p, spec)
        if not values:
            raise p.error()
        p.end()
        fn = ctx.alter_target("FUNCTION", key, ine)
        if fn is not None:
            if "SERVICE" in values or "ENDPOINT" in values:
                values.setdefault("SERVICE", fn.props["service"])
                values.setdefault("ENDPOINT", fn.props["endpoint"])
                _resolve_service(ctx, values)
            P.apply(fn, values)
        return ok()
    p.expect_kw("UNSET")
    names = P.parse_unset(p, spec, ["COMMENT", "CONTEXT_HEADERS", "MAX_BATCH_ROWS", "MAX_BATCH_RETRIES",
                                    "ON_BATCH_FAILURE", "BATCH_TIMEOUT_SECS"])
    p.end()
    fn = ctx.alter_target("FUNCTION", key, ine)
    if fn is not None:
        P.unset(fn, spec, names)
    return ok()


@handles("DROP FUNCTION")
def drop_function(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = _func_key(ctx, p, "DROP FUNCTION")
    p.end()
    return ctx.drop("FUNCTION", key, ine)


def _signature(fn: Obj) -> str:
    return f"{fn.key[2]}({', '.join(t for _, t in fn.props['args'])}) RETURN {display_type(fn.props['returns'])}"


@handles("SHOW USER FUNCTIONS", "SHOW FUNCTIONS")
def show_functions(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p)
    cols = columns("SHOW USER FUNCTIONS")
    rows = []
    for fn in ctx.cat.list("FUNCTION"):
        if not f.keep(fn.key[2], fn.key) or not f.sees(fn):
            continue
        n = len(fn.props["args"])
        rows.append([fn.created_on, fn.key[2], fn.key[1], "N", "N", "N", n, n, _signature(fn),
                     fn.comment or "user-defined function", fn.key[0], "N", "N", "N", None, None, "Y",
                     "EXTERNAL", "N", "N"])
    return Result(cols, rows[: f.limit] if f.limit is not None else rows)


@handles("DESC FUNCTION")
def desc_function(ctx: Ctx, p: Parser) -> Result:
    key = _func_key(ctx, p, "DESCRIBE FUNCTION")
    p.end()
    fn = ctx.cat.require("FUNCTION", key)
    pr = fn.props
    signature = "(" + ", ".join(f"{n} {t}" for n, t in pr["args"]) + ")"
    rows = [
        ["signature", signature], ["returns", display_type(pr["returns"])], ["language", None],
        ["null handling", pr["null_handling"]], ["volatility", pr["volatility"]], ["body", pr["path"]],
        ["headers", None], ["context_headers", ",".join(pr.get("context_headers") or []) or None],
        ["max_batch_rows", "not set" if pr.get("max_batch_rows") is None else str(pr["max_batch_rows"])],
        ["service", fmt_key(tuple(pr["service"]))], ["service_endpoint", pr["endpoint"]],
        ["max_batch_retries", str(pr["max_batch_retries"])], ["on_batch_failure", pr["on_batch_failure"]],
        ["batch_timeout_secs", str(pr["batch_timeout_secs"])],
    ]
    return Result(columns("DESC FUNCTION"), rows)


# -- SELECT -------------------------------------------------------------------------------------
@dataclass
class Deferred:
    """A service-function call to perform after the catalog lock is released."""

    handler: Any
    args: list[Any]
    returns: str


CONTEXT_FUNCS = {"CURRENT_ROLE", "CURRENT_ACCOUNT", "CURRENT_REGION", "CURRENT_VERSION", "CURRENT_WAREHOUSE",
                 "CURRENT_DATABASE", "CURRENT_SCHEMA", "CURRENT_USER", "CURRENT_SESSION",
                 "CURRENT_ACCOUNT_NAME", "CURRENT_ORGANIZATION_NAME", "CURRENT_AVAILABLE_ROLES",
                 "CURRENT_SECONDARY_ROLES", "CURRENT_SCHEMAS"}


@handles("SELECT")
def select(ctx: Ctx, p: Parser) -> Result:
    cols: list[tuple[str, str]] = []
    row: list[Any] = []
    while True:
        start = p.i
        value, typ = _expr(ctx, p)
        label = _label(p.toks[start:p.i])
        if p.accept_kw("AS"):
            label = p.ident()
        elif p.peek().kind in ("ident", "qident") and not p.peek().is_kw("FROM"):
            label = p.ident()
        cols.append((label, typ))
        row.append(value)
        if not p.accept_punct(","):
            break
    p.end()
    result = Result(cols, [row])
    if any(isinstance(v, Deferred) for v in row):
        ctx.after = lambda: _run_deferred(result)
    return result


@handles("CALL")
def call(ctx: Ctx, p: Parser) -> Result:
    """``CALL SYSTEM$...(...)``: one column named after the function (what the Snowflake CLI calls)."""
    tok = p.peek()
    if tok.kind != "ident" or not tok.value.startswith("SYSTEM$"):
        raise p.error()
    value, typ = _expr(ctx, p)
    p.end()
    return Result([(tok.value, typ)], [[value]])


def _label(toks: list[Token]) -> str:
    out = []
    for t in toks:
        if t.kind == "string":
            out.append("'" + t.value.replace("'", "''") + "'")
        elif t.kind == "qident":
            out.append('"' + t.value.replace('"', '""') + '"')
        elif t.kind == "dollar":
            out.append("$$" + t.value + "$$")
        else:
            out.append(t.value)
        if t.kind == "punct" and t.value == ",":
            out.append(" ")
    return "".join(out)


def _run_deferred(result: Result) -> Result:
    row = result.rows[0]
    for i, v in enumerate(row):
        if isinstance(v, Deferred):
            reply = v.handler({"data": [[0, *v.args]]})
            try:
                value = reply["data"][0][1]
            except (KeyError, IndexError, TypeError):
                raise SqlError("100351", "22000", "Request failed for external function: invalid response "
                               "body (expected {\"data\": [[0, value]]}).") from None
            row[i] = _coerce(value, v.returns)
    return result


def _coerce(value: Any, returns: str) -> Any:
    if value is None:
        return None
    if returns in ("VARIANT", "OBJECT", "ARRAY"):
        return json.dumps(value)
    if returns == "NUMBER" and isinstance(value, float) and value.is_integer():
        return int(value)
    if returns == "VARCHAR" and not isinstance(value, str):
        return json.dumps(value)
    return value


def _expr(ctx: Ctx, p: Parser) -> tuple[Any, str]:
    tok = p.peek()
    if tok.kind == "number" or (tok.kind == "punct" and tok.value == "-" and p.peek(1).kind == "number"):
        text = p.value().value
        return (int(text), FIXED) if text.lstrip("-").isdigit() else (float(text), REAL)
    if tok.kind in ("string", "dollar"):
        return p.string(), TEXT
    if tok.is_kw("NULL"):
        p.next()
        return None, TEXT
    if tok.is_kw("TRUE", "FALSE"):
        p.next()
        return tok.value == "TRUE", BOOLEAN
    if tok.kind not in ("ident", "qident"):
        raise p.error()
    parts = p.name()
    if not p.at_punct("("):
        raise p.error()
    p.next()
    args: list[Any] = []
    if not p.accept_punct(")"):
        while True:
            args.append(_expr(ctx, p)[0])
            if p.accept_punct(")"):
                break
            p.expect_punct(",")
    if len(parts) == 1 and tok.kind == "ident" and parts[0] in CONTEXT_FUNCS:
        if args:
            raise p.error(tok)
        return _context_value(ctx, parts[0]), TEXT
    if len(parts) == 1 and tok.kind == "ident" and parts[0].startswith("SYSTEM$"):
        return _system(ctx, parts[0], args), TEXT
    return _call_user_function(ctx, parts, args)


def _context_value(ctx: Ctx, name: str) -> str | None:
    s = ctx.session
    return {
        "CURRENT_ROLE": s.role, "CURRENT_ACCOUNT": ctx.emu.account, "CURRENT_REGION": ctx.emu.region,
        "CURRENT_VERSION": ctx.emu.version, "CURRENT_WAREHOUSE": s.warehouse, "CURRENT_DATABASE": s.database,
        "CURRENT_SCHEMA": s.schema, "CURRENT_USER": s.user.upper(), "CURRENT_SESSION": str(s.session_id),
        "CURRENT_ACCOUNT_NAME": ctx.emu.account, "CURRENT_ORGANIZATION_NAME": "EMU_ORG",
        # JSON text, as documented: https://docs.snowflake.com/en/sql-reference/functions/current_available_roles
        "CURRENT_AVAILABLE_ROLES": json.dumps(sorted(ctx.emu.usable_roles(s.user))),
        # https://docs.snowflake.com/en/sql-reference/functions/current_secondary_roles
        "CURRENT_SECONDARY_ROLES": json.dumps({"roles": ",".join(access.secondary_roles(ctx)),
                                               "value": ",".join(s.secondary)}, separators=(",", ":")),
        # https://docs.snowflake.com/en/sql-reference/functions/current_schemas: the search path's schemas
        "CURRENT_SCHEMAS": json.dumps([f"{s.database}.{s.schema}"] if s.database and s.schema else []),
    }[name]


def _service_arg(ctx: Ctx, value: Any) -> Obj:
    if not isinstance(value, str):
        raise invalid("argument 1 must be a service name string")
    key = ctx.object_key(Parser(value).name(), "SELECT")
    return ctx.cat.require("SERVICE", key)


def _system(ctx: Ctx, name: str, args: list[Any]) -> str:
    if name == "SYSTEM$GET_SERVICE_LOGS":
        if len(args) < 3:
            raise invalid("SYSTEM$GET_SERVICE_LOGS requires (service, instance_id, container_name [, lines]).")
        svc = _service_arg(ctx, args[0])
        ctx.check_owner_or_priv(svc, "MONITOR")
        if service_status(svc, ctx.now) == "SUSPENDED":
            raise SqlError("395020", "22023", f"Service '{svc.key[2]}' is suspended; no running container logs.")
        # (service, instance, container [, lines [, previous_logs [, since_timestamp [, include_timestamps]]]])
        lines = container_logs(svc, ctx.now, int(args[1]), str(args[2]))
        if len(args) > 3 and args[3] is not None:
            lines = lines[-int(args[3]):] if int(args[3]) > 0 else []
        return "\n".join(lines) + "\n"
    if name == "SYSTEM$GET_SERVICE_STATUS":
        if not args:
            raise invalid("SYSTEM$GET_SERVICE_STATUS requires a service name.")
        svc = _service_arg(ctx, args[0])
        ctx.check_owner_or_priv(svc, "MONITOR")
        out = [{"status": c["status"], "message": c["message"], "containerName": c["container_name"],
                "instanceId": c["instance_id"], "serviceName": svc.key[2], "image": c["image_name"],
                "restartCount": c["restart_count"], "startTime": iso(c["start_time"]) or ""}
               for c in container_rows(svc, ctx.now)]
        return json.dumps(out)
    if name == "SYSTEM$BOOTSTRAP_DATA_REQUEST":
        # What clients read of it (Titan: the edition); the real reply carries much more.
        return json.dumps({"accountInfo": {"serviceLevelName": ctx.emu.edition, "accountName": ctx.emu.account,
                                           "regionGroup": "PUBLIC", "cloudRegion": ctx.emu.region}})
    if name == "SYSTEM$GET_SERVICE_DNS_DOMAIN" and args:
        db, schema = ctx.schema_key(Parser(str(args[0])).name(2), "SELECT")
        return dns_name((db, schema, "X")).split(".", 1)[1].replace(".svc.spcs.internal", "")
    raise does_not_exist("Function", name)


def _call_user_function(ctx: Ctx, parts: tuple[str, ...], args: list[Any]) -> tuple[Any, str]:
    key3 = ctx.object_key(parts, "SELECT")
    candidates = [fn for fn in ctx.cat.list("FUNCTION") if fn.key[:3] == key3 and len(fn.props["args"]) == len(args)]
    if not candidates:
        raise SqlError("002141", "42601", f"SQL compilation error:\nUnknown user-defined function {fmt_key(key3)}.")
    fn = candidates[0]
    typ = RESULT_TYPES.get(fn.props["returns"], TEXT)
    svc = ctx.cat.get("SERVICE", tuple(fn.props["service"]))
    if svc is None:
        raise does_not_exist("Service", fmt_key(tuple(fn.props["service"])))
    if svc.props.get("suspended"):
        if not svc.props.get("auto_resume", True):
            raise SqlError("395030", "22000", f"Service '{svc.key[2]}' is suspended and AUTO_RESUME is FALSE.")
        svc.props.update(suspended=False, ready_at=ctx.now, resumed_on=ctx.now)
    if fn.props["null_handling"] == "RETURNS NULL ON NULL INPUT" and any(a is None for a in args):
        return None, typ
    handler = ctx.emu.endpoint_handlers.get((tuple(fn.props["service"]), fn.props["endpoint"], fn.props["path"]))
    if handler is None:
        return None, typ
    return Deferred(handler, args, fn.props["returns"]), typ


