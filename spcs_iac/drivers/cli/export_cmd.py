"""``spcs-iac export``: write the objects of an existing Snowflake account as a stack file (drivers/export.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from spcs_iac.drivers.cli.main import ConnectionOpt, app, err, guarded, provider_options


@app.command()
def export(
    target: Annotated[str, typer.Option("--target", "-t", help="snowflake (the only target export reads)")]
    = "snowflake",
    connection: ConnectionOpt = None,
    database: Annotated[str | None, typer.Option("--database", "-d", help="only this database's objects (and "
                                                 "the account objects they use)")] = None,
    role: Annotated[str | None, typer.Option("--role", help="the role to read as (default: the connection's)")]
    = None,
    out_file: Annotated[str | None, typer.Option("--out", "-o", help="write the stack file here (default: "
                                                 "standard output)")] = None,
    stack_name: Annotated[str, typer.Option("--stack-name", help="the name of the Stack written")] = "exported",
) -> None:
    """Write a stack file declaring what an existing account holds, to adopt it (apply --adopt)."""

    def body():  # type: ignore[no-untyped-def]
        from spcs_iac.drivers.export import export as export_account
        from spcs_iac.errors import SpcsIacError
        from spcs_iac.model.stack import STACK_NAME

        if not STACK_NAME.match(stack_name):
            raise SpcsIacError(f"--stack-name {stack_name!r}: letters, digits, '.', '_' or '-', at most 63")
        try:
            return export_account(target, database=database, role=role, stack_name=stack_name,
                                  **provider_options(connection))
        except SpcsIacError as exc:
            raise SpcsIacError(" ".join(str(exc).split())) from None  # one line, whatever the connector said

    result = guarded(body)
    if out_file:
        Path(out_file).write_text(result.text, encoding="utf-8")
    else:
        sys.stdout.write(result.text)
    where = f" to {out_file}" if out_file else ""
    err.print(f"Exported {result.total} objects{where}.", markup=False)
    if result.environment:
        err.print(f"Set {', '.join(result.environment)} (secret values) before validate, plan or apply.", markup=False)
    if result.notes:
        err.print(f"{len(result.notes)} object(s) not written: see the file's header.", markup=False)
