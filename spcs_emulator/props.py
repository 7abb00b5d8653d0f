"""Typed property specifications for CREATE/ALTER ... SET/UNSET clauses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .catalog import Obj
from .errors import invalid
from .parser import Parser, Val, syntax_error_at, v_bool, v_int, v_is_null, v_kw, v_list, v_name, v_str

Conv = Callable[[Val], Any]
# property name -> (converter, default used on CREATE and UNSET)
Spec = dict[str, tuple[Conv, Any]]
REQUIRED = object()


def c_str(v: Val) -> str:
    return v_str(v)


def c_comment(v: Val) -> str | None:
    return None if v_is_null(v) else v_str(v)


def c_int(v: Val) -> int:
    return v_int(v)


def c_int_or_null(v: Val) -> int | None:
    return None if v_is_null(v) else v_int(v)


def c_bool(v: Val) -> bool:
    return v_bool(v)


def c_kw(*allowed: str) -> Conv:
    def conv(v: Val) -> str:
        word = v_kw(v)
        if allowed and word not in allowed:
            raise invalid(f"invalid value [{word}] for parameter")
        return word

    return conv


def c_ident(v: Val) -> str:
    parts = v_name(v)
    if len(parts) != 1:
        raise syntax_error_at(v)
    return parts[0]


def c_ident_list(v: Val) -> list[str]:
    out = []
    for item in v_list(v):
        parts = v_name(item)
        if len(parts) != 1:
            raise syntax_error_at(item)
        out.append(parts[0])
    return out


def c_str_list(v: Val) -> list[str]:
    return [v_str(item) for item in v_list(v)]


def parse(p: Parser, spec: Spec, required: Iterable[str] = ()) -> dict[str, Any]:
    raw = p.props(set(spec))
    out = {key: spec[key][0](val) for key, val in raw.items()}
    for key in required:
        if key not in out:
            raise invalid(f"missing option(s) [{key}]")
    return out


def with_defaults(spec: Spec, values: dict[str, Any]) -> dict[str, Any]:
    out = {key: default for key, (_, default) in spec.items() if default is not REQUIRED}
    out.update(values)
    return out


def apply(obj: Obj, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key == "COMMENT":
            obj.comment = value
        else:
            obj.props[key.lower()] = value


def parse_unset(p: Parser, spec: Spec, allowed: Iterable[str] | None = None) -> list[str]:
    names: list[str] = []
    ok = set(allowed) if allowed is not None else set(spec)
    while True:
        tok = p.peek()
        if tok.kind != "ident" or tok.value not in ok:
            raise p.error()
        p.next()
        names.append(tok.value)
        if not p.accept_punct(","):
            return names


def unset(obj: Obj, spec: Spec, names: list[str]) -> None:
    for key in names:
        default = spec[key][1]
        apply(obj, {key: None if default is REQUIRED else default})


def split_create(values: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(comment, other properties with lower-case keys) for ``Ctx.new_obj``."""
    comment = values.get("COMMENT")
    return comment, {k.lower(): v for k, v in values.items() if k != "COMMENT"}
