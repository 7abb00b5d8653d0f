"""Reference documentation of every kind, generated from the kind declarations (docs/kinds.md)."""

from __future__ import annotations

import typing
from typing import Any

from spcs_iac.model.fields import Unset, Update, kind_props
from spcs_iac.model.kinds import ALL_KINDS

UPDATE_TEXT = {
    Update.ALTER: "in place",
    Update.REPLACE: "**replace**",
    Update.CREATE_ONLY: "create only",
}


def _type_text(annotation: Any) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_text(args[0])
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if args:
        parts = [_type_text(a) for a in args if a is not type(None)]
        name = getattr(typing.get_origin(annotation), "__name__", "")
        if name == "list":
            return f"list[{', '.join(parts)}]"
        return " \\| ".join(parts)
    if annotation is Any:
        return "object or name"
    return getattr(annotation, "__name__", str(annotation))


def kinds_markdown() -> str:
    lines = [
        "# Resource kinds",
        "",
        "Generated from the kind declarations (`spcs_iac/model/kinds/`) by `spcs-iac docs`; do not edit.",
        "",
        "*Change*: what changing the field costs — in place (ALTER), **replace** (drop and create), create only",
        "(used at creation, never compared). *Read back*: compared with the target (yes) or with the state",
        "(no: secrets, create-only values and what Snowflake does not show; changes made outside spcs-iac",
        "to those are not detected). A field referring to another kind takes the object or its name.",
        "",
    ]
    for cls in ALL_KINDS:
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        lines += [f"## {cls.__name__} (`{cls.kind}`)", "", doc, ""]
        extras = [f"scope: {cls.scope.value}"]
        if cls.sql_type:
            extras.append(f"SQL object: `{cls.sql_type}`")
        if not cls.allow_quoted_name:
            extras.append("quoted names not allowed")
        if cls.owner_change is Update.REPLACE:
            extras.append("owner change replaces it")
        lines += ["; ".join(extras) + ".", ""]
        lines += ["| Field | Type | SQL | Change | Read back | Default | Notes |", "|---|---|---|---|---|---|---|"]
        for decl in kind_props(cls):
            p = decl.prop
            info = cls.model_fields[decl.name]
            notes = []
            if p.identity:
                notes.append("part of the name")
            if p.sensitive:
                notes.append("sensitive")
            if p.ref:
                notes.append(f"refers to `{p.ref}`" + (" (replaced with it)" if p.follow_replace else ""))
            if p.unset is Unset.IGNORE:
                notes.append("unset = not managed")
            # Secrets, and values Snowflake keeps but does not show: compared with the state only.
            if (p.sensitive and not p.readable) or (p.readable and not p.shown):
                notes.append("changes made outside spcs-iac are not detected")
            if p.doc:
                notes.append(p.doc)
            name = info.alias or decl.name
            default = "" if p.default is None else f"`{p.default}`"
            change = "—" if p.identity else UPDATE_TEXT[p.update]
            lines.append(f"| `{name}` | {_type_text(info.annotation)} | {f'`{p.sql}`' if p.sql else ''} | {change} | "
                         f"{'yes' if p.readable and p.shown else 'no'} | {default} | {'; '.join(notes)} |")
        lines.append("")
    return "\n".join(lines)
