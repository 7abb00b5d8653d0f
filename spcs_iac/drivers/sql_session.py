"""Which stack an ``sql`` run works in, and how its results print (table, JSON or CSV)."""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import SpcsIacError

if TYPE_CHECKING:
    from rich.console import Console

    from spcs_iac.model.stack import Stack

DEFAULT_STATE_DIR = ".spcs-iac"


def local_stacks(state_dir: str | None) -> list[str]:
    """Stacks that have something on the local target (a catalog beside the state)."""
    from spcs_iac.targets.local.records import catalogs

    base = Path(state_dir or os.environ.get("SPCS_IAC_STATE_DIR") or DEFAULT_STATE_DIR).expanduser() / "local"
    return [catalog.stack for catalog in catalogs(base)]


def stack_for_sql(target: str, stack: Stack | str | None, state_dir: str | None) -> str:
    """The stack name: given (a Stack, a stack file / module:attr, or a name), or the only one applied
    locally. The Snowflake target needs none (the connection says where to run)."""
    if stack is not None and not isinstance(stack, str):
        return stack.name
    if isinstance(stack, str) and stack:
        if stack.endswith(".py") or ":" in stack or "/" in stack:
            from spcs_iac.model.loader import load_stack

            return load_stack(stack).name
        return stack
    if target != "local":
        return "sql"
    found = local_stacks(state_dir)
    if len(found) == 1:
        return found[0]
    if not found:
        raise SpcsIacError("no stack has been applied on the local target (no catalog in the state directory); "
                           "apply one first, or pass --stack / --state-dir")
    raise SpcsIacError(f"several stacks are applied locally ({', '.join(found)}): pass --stack NAME")


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):  # NUMBER: a JSON number, integral when the value is
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def as_json(results: list[dict[str, Any]]) -> str:
    out = [{"statement": r["statement"], "columns": r["columns"],
            "rows": [[_cell(v) for v in row] for row in r["rows"]],
            **({"rowcount": r["rowcount"]} if r.get("rowcount") is not None else {})} for r in results]
    return json.dumps(out[0] if len(out) == 1 else out, indent=2) + "\n"


def as_csv(results: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for i, r in enumerate(results):
        if i:
            buf.write("\n")
        writer.writerow(r["columns"])
        for row in r["rows"]:
            writer.writerow(["" if v is None else _cell(v) for v in row])
    return buf.getvalue()


def print_tables(results: list[dict[str, Any]], console: Console) -> None:
    from rich.table import Table

    for r in results:
        table = Table(*r["columns"], show_lines=False)
        for row in r["rows"]:
            table.add_row(*["NULL" if v is None else str(v) for v in row])
        console.print(table)
        count = r.get("rowcount")
        rows = len(r["rows"])
        console.print(f"{count} row(s) affected." if count is not None and r["kind"] not in ("select",)
                      else f"{rows} row(s).", style="dim")
