"""STAGE, SECRET, NETWORK RULE, EXTERNAL ACCESS INTEGRATION and IMAGE REPOSITORY statements."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from . import props as P
from .catalog import Obj, fmt_key
from .columns import columns
from .context import Ctx
from .errors import invalid
from .parser import Parser, Val, syntax_error_at, v_bool, v_kw, v_list, v_name, v_str
from .registry import handles
from .results import Result, ok, tf, yn
from .show import parse_show_tail

_PLAIN = re.compile(r"^[A-Z_][A-Z0-9_$]*$")


def require_plain(key: tuple[str, ...], what: str) -> None:
    """SPCS objects (and their db/schema) may not use quoted special-character/case-sensitive names."""
    for part in key:
        if not _PLAIN.match(part):
            raise invalid(f"Invalid {what} name '{fmt_key(key)}': quoted names for special characters or "
                          "case-sensitive names are not supported.")


def create_schema_obj(ctx: Ctx, p: Parser, kind: str) -> tuple[bool, tuple[str, str, str]]:
    ine = p.if_not_exists()
    key = ctx.object_key(p.name(), f"CREATE {kind}")
    return ine, key


def c_encryption(v: Val) -> str:
    if v.kind != "props" or "TYPE" not in v.value:
        raise syntax_error_at(v)
    enc = v_str(v.value["TYPE"]).upper()
    if enc not in ("SNOWFLAKE_FULL", "SNOWFLAKE_SSE"):
        raise invalid(f"invalid value [{enc}] for parameter 'ENCRYPTION TYPE'")
    return enc


def c_directory(v: Val) -> bool:
    if v.kind != "props" or "ENABLE" not in v.value:
        raise syntax_error_at(v)
    return v_bool(v.value["ENABLE"])


def c_any(v: Val) -> Any:
    return None


def _drop_schema_obj(ctx: Ctx, p: Parser, kind: str) -> Result:
    ine = p.if_exists()
    key = ctx.object_key(p.name(), f"DROP {kind}")
    p.end()
    return ctx.drop(kind, key, ine)


def _alter_head(ctx: Ctx, p: Parser, kind: str) -> tuple[bool, tuple[str, str, str]]:
    ine = p.if_exists()
    return ine, ctx.object_key(p.name(), f"ALTER {kind}")


def _simple_alter(ctx: Ctx, p: Parser, kind: str, set_spec: P.Spec, unset_spec: P.Spec) -> tuple[Obj | None, str]:
    ine, key = _alter_head(ctx, p, kind)
    if p.accept_kw("SET"):
        values = P.parse(p, set_spec)
        if not values:
            raise p.error()
        p.end()
        obj = ctx.alter_target(kind, key, ine)
        if obj:
            P.apply(obj, values)
        return obj, "SET"
    p.expect_kw("UNSET")
    names = P.parse_unset(p, unset_spec)
    p.end()
    obj = ctx.alter_target(kind, key, ine)
    if obj:
        P.unset(obj, unset_spec, names)
    return obj, "UNSET"


def schema_show(ctx: Ctx, p: Parser, kind: str) -> list[Obj]:
    f = parse_show_tail(ctx, p)
    return f.apply(ctx.cat.list(kind))


# -- STAGE --------------------------------------------------------------------------------------
STAGE_SPEC: P.Spec = {
    "ENCRYPTION": (c_encryption, "SNOWFLAKE_FULL"),
    "DIRECTORY": (c_directory, False),
    "FILE_FORMAT": (c_any, None),
    "COMMENT": (P.c_comment, None),
}


@handles("CREATE STAGE")
def create_stage(ctx: Ctx, p: Parser) -> Result:
    ine, key = create_schema_obj(ctx, p, "STAGE")
    values = P.with_defaults(STAGE_SPEC, P.parse(p, STAGE_SPEC))
    p.end()
    ctx.require_schema(*key[:2])
    comment, pr = P.split_create(values)
    return ctx.create(ctx.new_obj("STAGE", key, comment, **pr), ine, "Stage area")


@handles("ALTER STAGE")
def alter_stage(ctx: Ctx, p: Parser) -> Result:
    set_spec = {k: STAGE_SPEC[k] for k in ("DIRECTORY", "FILE_FORMAT", "COMMENT")}
    _simple_alter(ctx, p, "STAGE", set_spec, {"COMMENT": STAGE_SPEC["COMMENT"]})
    return ok()


@handles("DROP STAGE")
def drop_stage(ctx: Ctx, p: Parser) -> Result:
    return _drop_schema_obj(ctx, p, "STAGE")


@handles("SHOW STAGES")
def show_stages(ctx: Ctx, p: Parser) -> Result:
    cols = columns("SHOW STAGES")
    rows = []
    for s in schema_show(ctx, p, "STAGE"):
        stype = "INTERNAL NO CSE" if s.props["encryption"] == "SNOWFLAKE_SSE" else "INTERNAL"
        rows.append([s.created_on, s.key[2], s.key[0], s.key[1], "", "N", "N", s.owner, s.comment, None, stype,
                     None, None, None, "ROLE", yn(s.props["directory"])])
    return Result(cols, rows)


@handles("LIST")
def list_stage(ctx: Ctx, p: Parser) -> Result:
    """``LIST @stage[/path]``: the files on an internal stage. Columns name, size, md5, last_modified;
    a named stage's files are named ``<stage name, lower case>/<path>``
    (https://docs.snowflake.com/en/sql-reference/sql/list)."""
    parts, sub = p.stage_location()
    key = ctx.object_key(parts, "LIST")
    stage = ctx.cat.require("STAGE", key)
    prefix = sub.strip("/")
    rows = []
    for (stage_key, path), content in sorted(ctx.emu.stage_files.items(), key=lambda kv: kv[0][1]):
        if tuple(stage_key) != tuple(stage.key) or prefix and not path.startswith(prefix):
            continue
        data = content.encode() if isinstance(content, str) else bytes(content)
        rows.append([f"{stage.key[2].lower()}/{path}", len(data), hashlib.md5(data).hexdigest(),  # noqa: S324
                     "Thu, 1 Jan 1970 00:00:00 GMT"])
    return Result(columns("LIST"), rows)


# -- SECRET -------------------------------------------------------------------------------------
SECRET_TYPES = {
    "GENERIC_STRING": {"SECRET_STRING"},
    "PASSWORD": {"USERNAME", "PASSWORD"},
    "OAUTH2": {"API_AUTHENTICATION", "OAUTH_SCOPES", "OAUTH_REFRESH_TOKEN", "OAUTH_REFRESH_TOKEN_EXPIRY_TIME"},
}
SECRET_SPEC: P.Spec = {
    "TYPE": (P.c_kw(*SECRET_TYPES), P.REQUIRED),
    "SECRET_STRING": (P.c_str, None),
    "USERNAME": (P.c_str, None),
    "PASSWORD": (P.c_str, None),
    "API_AUTHENTICATION": (P.c_ident, None),
    "OAUTH_SCOPES": (P.c_str_list, None),
    "OAUTH_REFRESH_TOKEN": (P.c_str, None),
    "OAUTH_REFRESH_TOKEN_EXPIRY_TIME": (P.c_str, None),
    "COMMENT": (P.c_comment, None),
}


def _check_secret_fields(stype: str, values: dict[str, Any], creating: bool) -> None:
    fields = set(values) - {"TYPE", "COMMENT"}
    extra = fields - SECRET_TYPES[stype]
    if extra:
        raise invalid(f"invalid property '{sorted(extra)[0]}' for secret of type {stype}")
    if creating and stype == "GENERIC_STRING" and "SECRET_STRING" not in fields:
        raise invalid("missing option(s) [SECRET_STRING]")
    if creating and stype == "PASSWORD" and not {"USERNAME", "PASSWORD"} <= fields:
        raise invalid("missing option(s) [USERNAME, PASSWORD]")


@handles("CREATE SECRET")
def create_secret(ctx: Ctx, p: Parser) -> Result:
    ine, key = create_schema_obj(ctx, p, "SECRET")
    values = P.parse(p, SECRET_SPEC, required=["TYPE"])
    p.end()
    _check_secret_fields(values["TYPE"], values, creating=True)
    ctx.require_schema(*key[:2])
    comment, pr = P.split_create(values)
    obj = ctx.new_obj("SECRET", key, comment, **pr)
    obj.props["secret_type"] = obj.props.pop("type")
    return ctx.create(obj, ine, "Secret")


@handles("ALTER SECRET")
def alter_secret(ctx: Ctx, p: Parser) -> Result:
    ine, key = _alter_head(ctx, p, "SECRET")
    if p.accept_kw("SET"):
        values = P.parse(p, {k: v for k, v in SECRET_SPEC.items() if k != "TYPE"})
        if not values:
            raise p.error()
        p.end()
        obj = ctx.alter_target("SECRET", key, ine)
        if obj:
            _check_secret_fields(obj.props["secret_type"], values, creating=False)
            P.apply(obj, values)
        return ok()
    p.expect_kw("UNSET")
    P.parse_unset(p, SECRET_SPEC, ["COMMENT"])
    p.end()
    obj = ctx.alter_target("SECRET", key, ine)
    if obj:
        obj.comment = None
    return ok()


@handles("DROP SECRET")
def drop_secret(ctx: Ctx, p: Parser) -> Result:
    return _drop_schema_obj(ctx, p, "SECRET")


@handles("SHOW SECRETS")
def show_secrets(ctx: Ctx, p: Parser) -> Result:
    cols = columns("SHOW SECRETS")
    rows = [[s.created_on, s.key[2], s.key[1], s.key[0], s.owner, s.comment, s.props["secret_type"],
             _scopes(s), "ROLE"] for s in schema_show(ctx, p, "SECRET")]
    return Result(cols, rows)


def _scopes(s: Obj) -> str | None:
    scopes = s.props.get("oauth_scopes")
    return None if not scopes else "[" + ", ".join(scopes) + "]"


@handles("DESC SECRET")
def desc_secret(ctx: Ctx, p: Parser) -> Result:
    key = ctx.object_key(p.name(), "DESCRIBE SECRET")
    p.end()
    s = ctx.cat.require("SECRET", key)
    ctx.check_owner(s)
    cols = columns("DESC SECRET")
    return Result(cols, [[s.created_on, s.key[2], s.key[1], s.key[0], s.owner, s.comment, s.props["secret_type"],
                          s.props.get("username"), None, s.props.get("oauth_refresh_token_expiry_time"),
                          _scopes(s), s.props.get("api_authentication")]])


# -- NETWORK RULE -------------------------------------------------------------------------------
RULE_TYPES = ("IPV4", "IPV6", "AWSVPCEID", "AZURELINKID", "GCPPSCID", "HOST_PORT", "PRIVATE_HOST_PORT", "COMPUTE_POOL")
RULE_MODES = ("INGRESS", "INTERNAL_STAGE", "SNOWFLAKE_MANAGED_STORAGE_VOLUME", "EGRESS", "POSTGRES_INGRESS",
              "POSTGRES_EGRESS")
RULE_SPEC: P.Spec = {
    "TYPE": (P.c_kw(*RULE_TYPES), P.REQUIRED),
    "VALUE_LIST": (P.c_str_list, P.REQUIRED),
    "MODE": (P.c_kw(*RULE_MODES), "INGRESS"),
    "COMMENT": (P.c_comment, None),
}


@handles("CREATE NETWORK RULE")
def create_network_rule(ctx: Ctx, p: Parser) -> Result:
    ine, key = create_schema_obj(ctx, p, "NETWORK RULE")
    values = P.with_defaults(RULE_SPEC, P.parse(p, RULE_SPEC, required=["TYPE", "VALUE_LIST"]))
    p.end()
    if values["TYPE"] in ("HOST_PORT", "PRIVATE_HOST_PORT") and values["MODE"] != "EGRESS":
        raise invalid(f"Network rule of type {values['TYPE']} requires MODE = EGRESS.")
    ctx.require_schema(*key[:2])
    comment, pr = P.split_create(values)
    obj = ctx.new_obj("NETWORK RULE", key, comment, **pr)
    obj.props["rule_type"] = obj.props.pop("type")
    return ctx.create(obj, ine, "Network rule")


@handles("ALTER NETWORK RULE")
def alter_network_rule(ctx: Ctx, p: Parser) -> Result:
    spec = {"VALUE_LIST": (P.c_str_list, []), "COMMENT": RULE_SPEC["COMMENT"]}
    _simple_alter(ctx, p, "NETWORK RULE", spec, spec)
    return ok()


@handles("DROP NETWORK RULE")
def drop_network_rule(ctx: Ctx, p: Parser) -> Result:
    return _drop_schema_obj(ctx, p, "NETWORK RULE")


@handles("SHOW NETWORK RULES")
def show_network_rules(ctx: Ctx, p: Parser) -> Result:
    cols = columns("SHOW NETWORK RULES")
    rows = [[r.created_on, r.key[2], r.key[0], r.key[1], r.owner, r.comment, r.props["rule_type"],
             r.props["mode"], len(r.props["value_list"]), "ROLE"] for r in schema_show(ctx, p, "NETWORK RULE")]
    return Result(cols, rows)


@handles("DESC NETWORK RULE")
def desc_network_rule(ctx: Ctx, p: Parser) -> Result:
    key = ctx.object_key(p.name(), "DESCRIBE NETWORK RULE")
    p.end()
    r = ctx.cat.require("NETWORK RULE", key)
    ctx.check_owner(r)
    cols = columns("DESC NETWORK RULE")
    return Result(cols, [[r.created_on, r.key[2], r.key[0], r.key[1], r.owner, r.comment, r.props["rule_type"],
                          r.props["mode"], ",".join(r.props["value_list"])]])


# -- EXTERNAL ACCESS INTEGRATION ----------------------------------------------------------------
def c_list_or_kw(*words: str) -> P.Conv:
    def conv(v: Val) -> Any:
        if v.kind == "list":
            return [list(v_name(item)) for item in v_list(v)]
        word = v_kw(v)
        if word not in words:
            raise syntax_error_at(v)
        return word

    return conv


EAI_SPEC: P.Spec = {
    "ALLOWED_NETWORK_RULES": (lambda v: [list(v_name(i)) for i in v_list(v)], P.REQUIRED),
    "ALLOWED_API_AUTHENTICATION_INTEGRATIONS": (c_list_or_kw("NONE"), "NONE"),
    "ALLOWED_AUTHENTICATION_SECRETS": (c_list_or_kw("ALL", "NONE"), "NONE"),
    "ENABLED": (P.c_bool, P.REQUIRED),
    "COMMENT": (P.c_comment, None),
}


def _resolve_eai_refs(ctx: Ctx, values: dict[str, Any]) -> None:
    if "ALLOWED_NETWORK_RULES" in values:
        keys = []
        for parts in values["ALLOWED_NETWORK_RULES"]:
            key = ctx.object_key(tuple(parts), "CREATE EXTERNAL ACCESS INTEGRATION")
            rule = ctx.cat.require("NETWORK RULE", key)
            if rule.props["mode"] != "EGRESS":
                raise invalid(f"Network rule '{fmt_key(key)}' must have MODE = EGRESS to be used in an "
                              "external access integration.")
            keys.append(list(key))
        values["ALLOWED_NETWORK_RULES"] = keys
    secrets = values.get("ALLOWED_AUTHENTICATION_SECRETS")
    if isinstance(secrets, list):
        keys = []
        for parts in secrets:
            key = ctx.object_key(tuple(parts), "CREATE EXTERNAL ACCESS INTEGRATION")
            ctx.cat.require("SECRET", key)
            keys.append(list(key))
        values["ALLOWED_AUTHENTICATION_SECRETS"] = keys


@handles("CREATE EXTERNAL ACCESS INTEGRATION")
def create_eai(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_not_exists()
    key = ctx.account_key(p.name())
    values = P.parse(p, EAI_SPEC, required=["ALLOWED_NETWORK_RULES", "ENABLED"])
    p.end()
    _resolve_eai_refs(ctx, values)
    values = P.with_defaults(EAI_SPEC, values)
    comment, pr = P.split_create(values)
    return ctx.create(ctx.new_obj("INTEGRATION", key, comment, **pr), ine, "Integration")


@handles("ALTER EXTERNAL ACCESS INTEGRATION", "ALTER INTEGRATION")
def alter_eai(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    if p.accept_kw("SET"):
        values = P.parse(p, EAI_SPEC)
        if not values:
            raise p.error()
        p.end()
        obj = ctx.alter_target("INTEGRATION", key, ine)
        if obj:
            _resolve_eai_refs(ctx, values)
            P.apply(obj, values)
        return ok()
    p.expect_kw("UNSET")
    names = P.parse_unset(p, EAI_SPEC)
    p.end()
    obj = ctx.alter_target("INTEGRATION", key, ine)
    if obj:
        P.unset(obj, {**EAI_SPEC, "ALLOWED_NETWORK_RULES": (c_any, []), "ENABLED": (c_any, True)}, names)
    return ok()


@handles("DROP EXTERNAL ACCESS INTEGRATION", "DROP INTEGRATION")
def drop_eai(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    p.end()
    return ctx.drop("INTEGRATION", key, ine)


@handles("SHOW EXTERNAL ACCESS INTEGRATIONS", "SHOW INTEGRATIONS")
def show_eais(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p, scopes=())
    cols = columns("SHOW INTEGRATIONS")
    rows = [[i.key[0], "EXTERNAL_ACCESS", "SECURITY", tf(i.props["enabled"]), i.comment, i.created_on]
            for i in f.apply(ctx.cat.list("INTEGRATION"))]
    return Result(cols, rows)


def _fmt_refs(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(fmt_key(tuple(k)) for k in value)
    return "" if value in (None, "NONE") else str(value)


@handles("DESC EXTERNAL ACCESS INTEGRATION", "DESC INTEGRATION")
def desc_eai(ctx: Ctx, p: Parser) -> Result:
    key = ctx.account_key(p.name())
    p.end()
    i = ctx.cat.require("INTEGRATION", key)
    cols = columns("DESC INTEGRATION")
    pr = i.props
    rows = [
        ["ENABLED", "Boolean", tf(pr["enabled"]), "false"],
        ["ALLOWED_NETWORK_RULES", "List", _fmt_refs(pr["allowed_network_rules"]), "[]"],
        ["ALLOWED_API_AUTHENTICATION_INTEGRATIONS", "List",
         _fmt_refs(pr["allowed_api_authentication_integrations"]), "[]"],
        ["ALLOWED_AUTHENTICATION_SECRETS", "List", _fmt_refs(pr["allowed_authentication_secrets"]), "[]"],
        ["COMMENT", "String", i.comment or "", ""],
    ]
    return Result(cols, rows)
