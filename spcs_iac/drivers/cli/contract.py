"""``spcs-iac contract``: check this version of spcs-iac against a Snowflake account (drivers/contract.py)."""

from __future__ import annotations

import shutil
from typing import Annotated

import typer

from spcs_iac.drivers.cli.main import ConnectionOpt, app, guarded, out, provider_options


@app.command()
def contract(
    database: Annotated[str, typer.Option("--database", help="an existing scratch database; the run works in a "
                                          "schema of its own there and removes it")],
    connection: ConnectionOpt = None,
    spcs: Annotated[bool, typer.Option("--spcs/--no-spcs", help="also the kinds that start compute (pool, "
                                       "service, job, function, service role): costs credits")] = False,
    service_image: Annotated[str | None, typer.Option("--service-image", help="an image in the account for "
                                                      "the services, as a registry URL: <org>-<account>.registry."
                                                      "snowflakecomputing.com/db/schema/repo/app:1 (default: build "
                                                      "and push one with Docker)")] = None,
    role: Annotated[str, typer.Option("--role", help="the administering role")] = "ACCOUNTADMIN",
    run_id: Annotated[str | None, typer.Option("--run-id", help="prefix part of every object name")] = None,
) -> None:
    """Create, read back, alter, replace and drop one object of every kind; a PASS/FAIL line per kind and
    statement shape. Everything the run creates is removed at the end."""

    def body() -> None:
        from spcs_iac.drivers.contract import Contract, Options
        from spcs_iac.model import identifiers as ids
        from spcs_iac.targets.snowflake.provider import SnowflakeProvider

        options = Options(database=ids.normalize(database), admin=ids.normalize(role), spcs=spcs,
                          service_image=service_image)
        if run_id:
            options.run_id = run_id.upper()
        params = provider_options(connection)
        made: list[SnowflakeProvider] = []

        def provider() -> SnowflakeProvider:
            made.append(SnowflakeProvider(f"contract-{options.run_id.lower()}", role=options.admin, **params))
            return made[-1]

        out.print(f"contract run {options.run_id}: database {options.database}, objects prefixed {options.prefix}")
        try:
            run = Contract(provider, options, say=lambda line: out.print(line, markup=False),
                           image_tool_works=shutil.which("docker") is not None)
            run.run()
        finally:
            for p in made:
                p.close()
        counts = {o: sum(1 for line in run.lines if line.outcome == o) for o in ("PASS", "FAIL", "SKIP")}
        out.print(f"contract: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['SKIP']} SKIP")
        if not run.ok:
            raise typer.Exit(1)

    guarded(body)
