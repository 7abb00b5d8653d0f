"""`spcs-iac export`: an account's objects written as a stack file that validates, adopts with no change left,
and, applied to an empty account, is exported again byte for byte (emulator, real connector)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from spcs_iac import Database, Grant, Role, RoleGrant, Schema, Stack, Stage, Table, TableColumn, Warehouse
from spcs_iac.drivers import api
from spcs_iac.drivers.export import COVERAGE, NOT_EXPORTED, export, export_account
from spcs_iac.drivers.export_decl import KIND_ORDER
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.loader import load_stack
from spcs_iac.plan.model import Action
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.snowflake.conftest import READY
from tests.snowflake.support import OWNER, FakeImages, every_kind

SECRETS = {"SECRET_APP_DB_API_KEY_SECRET_STRING": "s3cr3t", "SECRET_APP_DB_LOGIN_USERNAME": "svc",
           "SECRET_APP_DB_LOGIN_PASSWORD": "s3cr3t"}


def account(context: Path) -> Stack:
    """One object of every kind, and a grant on a function and on a schema besides."""
    stack = every_kind(context)
    role, fn = stack.get(f"role.{OWNER}"), stack.get("service_function.APP_DB.PUBLIC.APP_FN(VARCHAR)")
    stack.add(Grant(to="PUBLIC", on=fn, privileges=["USAGE"], owner=role))
    stack.add(Grant(to="PUBLIC", on=stack.get("schema.APP_DB.APP_SCHEMA"), privileges=["USAGE"], owner=role))
    return stack


def written(text: str, path: Path) -> Stack:
    path.write_text(text)
    stack = load_stack(str(path))
    stack.validate()
    return stack


@pytest.fixture
def secrets(monkeypatch: Any) -> None:
    """What the exported files read the secrets' values from (Snowflake never shows them)."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def second_account() -> Iterator[Any]:
    testing = pytest.importorskip("spcs_emulator.testing", reason="the account emulator is not available")
    with testing.running_emulator(ready_delay_s=READY) as other:
        yield other


def test_every_kind_is_exported_or_says_why_not() -> None:
    assert set(COVERAGE) | set(NOT_EXPORTED) == set(KINDS), "a kind the exporter does not know"
    assert not set(COVERAGE) & set(NOT_EXPORTED) and all(NOT_EXPORTED.values())
    assert set(KIND_ORDER) == set(COVERAGE)  # where each exported kind goes in the file


def test_an_account_exported_adopted_and_applied_to_another(emu: Any, provider: Any, context: Path, tmp_path: Path,
                                                            second_account: Any, secrets: None) -> None:
    original = account(context)
    assert api.apply(original, "snowflake", provider=provider(stack_name=original.name),
                     state_dir=str(tmp_path / "original")).ok
    result = export_account(provider())
    assert result.environment == sorted(SECRETS) and "s3cr3t" not in result.text
    assert sorted(result.counts) == sorted(COVERAGE)  # every exported kind is in the account and in the file
    exported = written(result.text, tmp_path / "exported.py")
    assert set(exported.resources()) == {a for a in original.resources() if not a.startswith("image.")}

    # Adopting it changes nothing but what Snowflake never shows (secret values); after that, no change.
    state = str(tmp_path / "adopted")
    adopting = api.plan(exported, "snowflake", provider=provider(), state_dir=state)
    assert {c.action for c in adopting.actionable} == {Action.IMPORT}
    unread = {(c.kind, d.name) for c in adopting.actionable for d in kind_props(KINDS[c.kind])
              if not d.prop.readable or not d.prop.shown}
    assert {(c.kind, f) for c in adopting.actionable for f in c.changed_fields} <= unread
    assert api.apply(exported, "snowflake", provider=provider(), state_dir=state, adopt=True).ok
    again = api.plan(exported, "snowflake", provider=provider(), state_dir=state)
    assert not again.has_changes, [(c.address, c.action.value, c.changed_fields) for c in again.actionable]

    # Applied to an empty account, the file makes an account that exports as the same file.
    other = SnowflakeProvider("exported", image_tool=FakeImages(second_account.emulator), ready_timeout=20,
                              pool_timeout=20, **second_account.connection_params())
    try:
        applied = api.apply(load_stack(str(tmp_path / "exported.py")), "snowflake", provider=other,
                            state_dir=str(tmp_path / "second"))
        assert applied.ok, applied.failed
        assert export_account(other).text == result.text
    finally:
        other.close()


def test_database_keeps_its_objects_and_the_account_objects_they_use(emu: Any, provider: Any, context: Path,
                                                                     tmp_path: Path, secrets: None) -> None:
    stack = every_kind(context)
    other = stack.add(Role(name="OTHER_ROLE", owner="ACCOUNTADMIN"))
    stack.add(RoleGrant(role=other, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN"))
    stack.add(Grant(to=other, on="ACCOUNT", privileges=["CREATE DATABASE", "CREATE WAREHOUSE"], owner="ACCOUNTADMIN"))
    db = stack.add(Database(name="OTHER_DB", owner=other))
    stack.add(Stage(name="FILES", database=db, owner=other))
    stack.add(Warehouse(name="OTHER_WH", owner=other))
    assert api.apply(stack, "snowflake", provider=provider(stack_name=stack.name), state_dir=str(tmp_path)).ok

    app = export_account(provider(), database="app_db")
    assert set(written(app.text, tmp_path / "app.py").resources()) == {
        a for a in every_kind(context).resources() if not a.startswith("image.")}
    assert "--database APP_DB" in app.text.splitlines()[0]
    others = written(export_account(provider(), database="OTHER_DB").text, tmp_path / "other.py")
    assert set(others.resources()) == {
        "role.OTHER_ROLE", "role_grant.OTHER_ROLE->ACCOUNTADMIN", "grant.OTHER_ROLE:ACCOUNT", "database.OTHER_DB",
        "stage.OTHER_DB.PUBLIC.FILES"}  # not the warehouse: nothing in OTHER_DB uses it
    with pytest.raises(Exception, match=r"--database NOPE: the account has no such database .* APP_DB, OTHER_DB"):
        export_account(provider(), database="NOPE")


def test_names_that_need_quotes(emu: Any, provider: Any, tmp_path: Path) -> None:
    stack = Stack("quoted")
    team = stack.add(Role(name='"Data Team"', owner="ACCOUNTADMIN"))
    plain = stack.add(Role(name="DATA_TEAM", owner="ACCOUNTADMIN"))  # the same variable name: one gets _2
    for role in (team, plain):
        stack.add(RoleGrant(role=role, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN"))
    stack.add(Grant(to=team, on="ACCOUNT", privileges=["CREATE DATABASE"], owner="ACCOUNTADMIN"))
    db = stack.add(Database(name='"Sales-2024"', owner=team))
    raw = stack.add(Schema(name='"raw data"', database=db, comment='it\'s "raw"', owner=team))
    stack.add(Stage(name='"my stage"', database=db, schema=raw, owner=team))
    stack.add(Table(name="select", database=db, schema=raw, owner=team, cluster_by=["NOTE"], columns=[
        TableColumn(name='"Order Id"', datatype="NUMBER", nullable=False, comment="the id"),
        TableColumn(name="NOTE", datatype="VARCHAR", default="it's \\ here"),
        TableColumn(name="AT", datatype="TIMESTAMP_NTZ", default="CURRENT_TIMESTAMP()"),
        TableColumn(name="N", datatype="NUMBER", default=-5)]))
    stack.add(Grant(to=plain, on=db, privileges=["USAGE"], owner=team))
    assert api.apply(stack, "snowflake", provider=provider(stack_name="quoted"), state_dir=str(tmp_path / "q")).ok

    text = export_account(provider(), database="Sales-2024").text
    assigned = [t.id for node in ast.parse(text).body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)]
    assert {"role_data_team", "role_data_team_2", "db_sales_2024", "schema_sales_2024_raw_data"} <= set(assigned)
    assert 'role_data_team = stack.add(Role(name=\'"Data Team"\', owner="ACCOUNTADMIN"))' in text
    exported = written(text, tmp_path / "quoted.py")
    assert set(exported.resources()) == set(stack.resources())
    state = str(tmp_path / "adopted")
    assert api.apply(exported, "snowflake", provider=provider(), state_dir=state, adopt=True).ok
    assert not api.plan(exported, "snowflake", provider=provider(), state_dir=state).has_changes


def test_what_no_kind_declares_is_listed_not_half_written(emu: Any, provider: Any, context: Path,
                                                          tmp_path: Path, secrets: None) -> None:
    stack = every_kind(context, spcs=False)
    assert api.apply(stack, "snowflake", provider=provider(stack_name=stack.name), state_dir=str(tmp_path)).ok
    emu.rows(f"GRANT USAGE, CREATE SEQUENCE ON SCHEMA APP_DB.APP_SCHEMA TO ROLE {OWNER}")
    result = export_account(provider())
    exported = written(result.text, tmp_path / "exported.py")
    # Declaring USAGE alone would revoke CREATE SEQUENCE (a privilege spcs-iac does not know) on the next apply.
    assert f"grant.{OWNER}:SCHEMA:APP_DB.APP_SCHEMA" not in exported.resources()
    assert result.notes == [f"grant of CREATE SEQUENCE, USAGE on SCHEMA APP_DB.APP_SCHEMA to role {OWNER}: spcs-iac "
                            "does not know CREATE SEQUENCE on a schema (declaring the rest would revoke it)"]
    assert "#   - grant of CREATE SEQUENCE, USAGE on SCHEMA APP_DB.APP_SCHEMA" in result.text


def test_the_cli_command(emu: Any, provider: Any, context: Path, tmp_path: Path, monkeypatch: Any,
                         secrets: None) -> None:
    from spcs_iac.drivers.cli.main import app

    stack = every_kind(context, spcs=False)
    assert api.apply(stack, "snowflake", provider=provider(stack_name=stack.name), state_dir=str(tmp_path)).ok
    home = tmp_path / "snowflake-home"
    home.mkdir()
    params = emu.connection_params()
    home.joinpath("connections.toml").write_text("[emu]\n" + "".join(
        f"{k} = {v!r}\n".replace("'", '"') if isinstance(v, str) else f"{k} = {str(v).lower()}\n"
        for k, v in params.items() if isinstance(v, str | int | bool)))
    monkeypatch.setenv("SNOWFLAKE_HOME", str(home))
    runner = CliRunner()
    out = tmp_path / "exported.py"
    r = runner.invoke(app, ["export", "--target", "snowflake", "-c", "emu", "--database", "APP_DB",
                            "--role", "ACCOUNTADMIN", "--out", str(out)])
    assert r.exit_code == 0, r.output
    n = len(load_stack(str(out)))
    assert f"Exported {n} objects to {out}" in r.output and out.read_text().startswith(f"# {n} objects read")
    r = runner.invoke(app, ["validate", str(out)])
    assert r.exit_code == 0 and f"Stack exported is valid: {n} objects" in r.output, r.output
    r = runner.invoke(app, ["export", "-c", "emu"])  # the whole account, on standard output
    assert r.exit_code == 0 and r.stdout.startswith("# ") and "\nstack = Stack(" in r.stdout, r.output

    for args, message in ((["-c", "nope"], "Snowflake connection 'nope' is not defined"),
                          (["-c", "emu", "--role", "NOPE"], "cannot read the account: cannot connect to Snowflake"),
                          (["-t", "local"], "export reads a Snowflake account")):
        r = runner.invoke(app, ["export", *args])
        assert r.exit_code == 1 and message in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output  # one line


def test_api_refuses_another_target() -> None:
    with pytest.raises(Exception, match="export reads a Snowflake account: --target 'local'"):
        export("local")
