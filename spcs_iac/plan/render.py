"""Human rendering of a Plan (terraform-like). The plan itself is data; see model.py for JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.text import Text

from spcs_iac.plan.model import KNOWN_AFTER_APPLY, SENSITIVE, Action, Change, FieldChange, Plan

SYMBOLS = {
    Action.CREATE: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.REPLACE: ("-/+", "magenta"),
    Action.DELETE: ("-", "red"),
    Action.IMPORT: ("<=", "cyan"),
}


DISPLAY_KEYS = ("address", "kind", "name", "action", "fields", "statements", "reason", "loses")


def plan_summary_json(plan: Plan) -> dict[str, Any]:
    """What ``plan --json`` prints: the changes as a reader wants them (the full plan is Plan.to_json)."""
    changes = [{k: v for k, v in c.to_json().items() if k in DISPLAY_KEYS} for c in plan.actionable]
    return {"stack": plan.stack, "target": plan.target, "changes": changes, "summary": plan.summary()}


def value_text(value: Any, sensitive: bool = False) -> str:
    if sensitive and value is not None:
        return SENSITIVE
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value) if value not in (KNOWN_AFTER_APPLY,) else value
    return json.dumps(value, default=str)


def field_line(f: FieldChange, action: Action) -> Text:
    line = Text("      ")
    line.append(f.name, style="bold")
    line.append(": ")
    after = KNOWN_AFTER_APPLY if f.known_after_apply else value_text(f.after, f.sensitive)
    if action is Action.CREATE:
        line.append(after)
    else:
        line.append(value_text(f.before, f.sensitive), style="dim")
        line.append(" -> ")
        line.append(after)
    if f.forces_replace:
        line.append("   # forces replacement", style="magenta")
    return line


def change_lines(c: Change, *, statements: bool) -> list[Text]:
    symbol, style = SYMBOLS[c.action]
    head = Text("  ")
    head.append(f"{symbol} ", style=f"bold {style}")
    head.append(c.address, style="bold")
    if c.reason:
        head.append(f"  ({c.reason})", style="dim")
    lines = [head]
    if c.action is not Action.DELETE:
        for f in c.fields:
            lines.append(field_line(f, c.action))
            lines.extend(Text(f"          {d}", style="yellow") for d in f.detail)
    if c.loses:
        lines.append(Text(f"      drops with it {len(c.loses)} thing(s) this stack does not manage:", style="bold red"))
        lines.extend(Text(f"        - {item}", style="red") for item in c.loses[:20])
        if len(c.loses) > 20:
            lines.append(Text(f"        … and {len(c.loses) - 20} more", style="red"))
    if statements and c.statements:
        for stmt in c.statements:
            first, *rest = stmt.splitlines() or [""]
            more = f"  …(+{len(rest)} lines)" if rest else ""
            lines.append(Text(f"      > {first}{more}", style="blue"))
    return lines


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    if not plan.has_changes:
        return "No changes. The target matches the stack."
    parts = [f"{s['create']} to create", f"{s['update']} to update", f"{s['replace']} to replace",
             f"{s['delete']} to delete"]
    if s["import"]:
        parts.append(f"{s['import']} to import")
    return "Plan: " + ", ".join(parts) + "."


def render(plan: Plan, console: Console, *, statements: bool | None = None) -> None:
    show_sql = plan.target == "snowflake" if statements is None else statements
    verb = "Destroy plan" if plan.destroy else "Plan"
    console.print(Text(f"{verb} for stack {plan.stack} on target {plan.target}:", style="bold"))
    if plan.has_changes:
        console.print()
    for c in plan.actionable:
        for line in change_lines(c, statements=show_sql):
            console.print(line)
    console.print()
    console.print(Text(summary_line(plan), style="bold"))
