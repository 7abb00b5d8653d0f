"""``spcs-iac sql "..."``: Snowflake-dialect SQL on the local warehouse or through the connector."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from spcs_iac.drivers.cli.main import ConnectionOpt, StateDirOpt, app, guarded, out, provider_options

SqlTargetOpt = Annotated[str, typer.Option("--target", "-t", help="local (default) or snowflake")]


@app.command()
def sql(statements: Annotated[str, typer.Argument(help="one or more statements, separated by ';'")],
        target: SqlTargetOpt = "local", state_dir: StateDirOpt = None, connection: ConnectionOpt = None,
        stack: Annotated[str | None, typer.Option("--stack", "-s",
                                                  help="stack name or file (local; default: the only one applied)")] = None,
        database: Annotated[str | None, typer.Option("--database", "-d", help="current database")] = None,
        schema: Annotated[str | None, typer.Option("--schema", help="current schema (default PUBLIC)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print results as JSON")] = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="print results as CSV")] = False) -> None:
    """Run SQL: on local, translated to DuckDB with the stack's service functions; on snowflake, as is."""
    from spcs_iac.drivers import api
    from spcs_iac.drivers.sql_session import as_csv as to_csv
    from spcs_iac.drivers.sql_session import as_json as to_json
    from spcs_iac.drivers.sql_session import print_tables

    results = guarded(lambda: api.sql(statements, target, stack, state_dir=state_dir, database=database,
                                      schema=schema, **provider_options(connection)))
    if as_json:
        sys.stdout.write(to_json(results))
    elif as_csv:
        sys.stdout.write(to_csv(results))
    else:
        print_tables(results, out)
