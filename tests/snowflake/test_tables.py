"""Tables on the Snowflake target, through the real connector against the emulator: exact DDL, the
batched read-back (one SHOW TABLES + one SHOW COLUMNS for every table), apply -> plan 0 changes, column
changes in place, a dropped column planned with its data-loss warning, a type change replacing the table
and saying the rows go, grants on tables, and the seed's INSERT / UPDATE with the service function /
SELECT giving the seed's values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from spcs_iac import Database, Grant, Role, RoleGrant, Stack, Table, TableColumn
from spcs_iac.drivers import api
from spcs_iac.plan.model import Action, Plan
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from spcs_iac.targets.snowflake.statements import change_steps, create_steps
from tests.support.seed import SEED_INSERT

Factory = Callable[..., SnowflakeProvider]
SEED_COLUMNS = [("DATE", "DATE"), ("LOCATION", "VARCHAR"), ("TEMP_C", "NUMBER"), ("TEMP_F", "NUMBER")]
# The seed's output: TEMP_F is a NUMBER column (rounded), the function itself answers 53.6 for 12.
CONVERT_SPEC = """spec:
  containers:
  - name: convert-api
    image: /data_db/public/repo/convert-api:dev
  endpoints:
  - name: api
    port: 9090
"""
SEED_F = {"London": 59, "Manchester": 68, "Liverpool": 63, "Cambridge": 66, "Oxford": 55, "Birmingham": 52,
          "Newcastle": 70, "Bristol": 61, "Leeds": 64, "Southampton": 54}


def weather(*, columns: list[TableColumn] | None = None, comment: str | None = None, grant: bool = False,
            **extra: Any) -> Stack:
    stack = Stack("tables")
    role = stack.add(Role(name="DATA_ROLE", owner="ACCOUNTADMIN"))
    stack.add(RoleGrant(role=role, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN"))
    stack.add(Grant(to=role, on="ACCOUNT", privileges=["CREATE DATABASE"], owner="ACCOUNTADMIN"))
    db = stack.add(Database(name="DATA_DB", owner=role))
    table = stack.add(Table(
        name="WEATHER", database=db, owner=role, comment=comment,
        columns=columns or [TableColumn(name=n, datatype=t) for n, t in SEED_COLUMNS], **extra))
    if grant:
        stack.add(Grant(to="PUBLIC", on=table, privileges=["SELECT", "INSERT"], owner=role))
    return stack


def plan(stack: Stack, provider: Factory, state: Path) -> Plan:
    return api.plan(stack, target="snowflake", provider=provider(), state_dir=str(state))


def apply(stack: Stack, provider: Factory, state: Path) -> None:
    result = api.apply(stack, target="snowflake", provider=provider(), state_dir=str(state))
    assert result.ok, result.failed


def test_create_table_ddl_is_exact() -> None:
    table = Table(name="WEATHER", database="DB", comment="it's the weather", cluster_by=["DATE"],
                  change_tracking=True, data_retention_time_in_days=3, owner="R",
                  columns=[TableColumn(name="DATE", datatype="date", nullable=False),
                           TableColumn(name="LOCATION", type="string", comment="city", default="unknown"),
                           TableColumn(name="TEMP_C", datatype="int", default=0),
                           TableColumn(name="seen", datatype="TIMESTAMP", default="current_timestamp()")])
    [step] = create_steps(table, {})
    assert step.render() == (
        "CREATE TABLE DB.PUBLIC.WEATHER (DATE DATE NOT NULL, LOCATION VARCHAR(16777216) COMMENT 'city' "
        "DEFAULT 'unknown', TEMP_C NUMBER(38,0) DEFAULT 0, SEEN TIMESTAMP_NTZ(9) DEFAULT CURRENT_TIMESTAMP()) "
        "CLUSTER BY (DATE) CHANGE_TRACKING = TRUE DATA_RETENTION_TIME_IN_DAYS = 3 "
        "COMMENT = 'it''s the weather'")
    assert step.role == "R"


def test_user_text_in_columns_is_escaped() -> None:
    table = Table(name="T", database="DB", columns=[
        TableColumn(name='"we""ird"', datatype="VARCHAR", default="x'); DROP TABLE T; --", comment="a'b")])
    [step] = create_steps(table, {})
    assert step.render() == ("CREATE TABLE DB.PUBLIC.T (\"we\"\"ird\" VARCHAR(16777216) COMMENT 'a''b' "
                             "DEFAULT 'x''); DROP TABLE T; --')")


def test_apply_then_plan_is_clean_and_reads_in_two_queries(emu: Any, provider: Factory, tmp_path: Path) -> None:
    stack = weather(comment="seed table", grant=True, cluster_by=["DATE"], change_tracking=True,
                    data_retention_time_in_days=2)
    apply(stack, provider, tmp_path)
    emu.emulator.reset_stats()
    again = plan(stack, provider, tmp_path)
    assert not again.has_changes, [(c.address, c.fields) for c in again.actionable]
    reads = [s for s in emu.emulator.stats()["statements"] if "TABLES" in s or "COLUMNS" in s]
    assert sorted(reads) == ["SHOW COLUMNS IN ACCOUNT", "SHOW TABLES IN ACCOUNT"]  # not one per table
    rows = emu.rows("SHOW GRANTS ON TABLE DATA_DB.PUBLIC.WEATHER")
    assert {(r["privilege"], r["grantee_name"]) for r in rows} >= {("SELECT", "PUBLIC"), ("INSERT", "PUBLIC")}


def test_column_changes_alter_in_place_and_keep_rows(emu: Any, provider: Factory, tmp_path: Path) -> None:
    apply(weather(), provider, tmp_path)
    conn = emu.connect(database="DATA_DB", schema="PUBLIC")
    conn.cursor().execute(SEED_INSERT)
    conn.cursor().execute("UPDATE WEATHER SET TEMP_F = TEMP_C * 2")

    # A column added, one renamed, a comment, another precision: in place, rows kept.
    columns = [TableColumn(name="DATE", datatype="DATE"), TableColumn(name="LOCATION", datatype="VARCHAR"),
               TableColumn(name="TEMP_C", datatype="NUMBER(20,0)", comment="Celsius"),
               TableColumn(name="TEMP_FAHRENHEIT", datatype="NUMBER", renamed_from="TEMP_F"),
               TableColumn(name="SOURCE", datatype="VARCHAR", default="seed")]
    p = plan(weather(columns=columns), provider, tmp_path)
    [change] = p.actionable
    assert change.action is Action.UPDATE, [(f.name, f.before, f.after, f.detail) for f in change.fields]
    [field] = change.fields
    assert not field.forces_replace
    assert field.detail == ["column TEMP_FAHRENHEIT: renamed from TEMP_F", "column SOURCE: added (VARCHAR(16777216))",
                            "column TEMP_C: type NUMBER(38,0) -> NUMBER(20,0) (in place)",
                            "column TEMP_C: comment set"]
    assert change.statements == [
        "USE ROLE DATA_ROLE",
        "ALTER TABLE DATA_DB.PUBLIC.WEATHER RENAME COLUMN TEMP_F TO TEMP_FAHRENHEIT",
        "ALTER TABLE DATA_DB.PUBLIC.WEATHER ADD COLUMN SOURCE VARCHAR(16777216) DEFAULT 'seed'",
        "ALTER TABLE DATA_DB.PUBLIC.WEATHER ALTER COLUMN TEMP_C SET DATA TYPE NUMBER(20,0)",
        "ALTER TABLE DATA_DB.PUBLIC.WEATHER ALTER COLUMN TEMP_C COMMENT 'Celsius'",
    ]
    apply(weather(columns=columns), provider, tmp_path)
    assert not plan(weather(columns=columns), provider, tmp_path).has_changes
    kept = conn.cursor().execute("SELECT COUNT(*), SUM(TEMP_FAHRENHEIT), MIN(SOURCE) FROM WEATHER").fetchone()
    assert kept == (10, 324, "seed")  # rows and the renamed column's values kept; the new column's default


def test_dropped_column_is_planned_with_its_data_loss(emu: Any, provider: Factory, tmp_path: Path) -> None:
    apply(weather(), provider, tmp_path)
    columns = [TableColumn(name=n, datatype=t) for n, t in SEED_COLUMNS[:3]]
    p = plan(weather(columns=columns), provider, tmp_path)
    [change] = p.actionable
    assert change.action is Action.UPDATE
    assert change.fields[0].detail == ["WARNING column TEMP_F: dropped, and the data in it with it"]
    assert change.statements[-1] == "ALTER TABLE DATA_DB.PUBLIC.WEATHER DROP COLUMN TEMP_F"
    apply(weather(columns=columns), provider, tmp_path)
    cols = [r["column_name"] for r in emu.rows("SHOW COLUMNS IN TABLE DATA_DB.PUBLIC.WEATHER")]
    assert cols == ["DATE", "LOCATION", "TEMP_C"]


def test_type_change_replaces_and_says_the_rows_are_lost(emu: Any, provider: Factory, tmp_path: Path) -> None:
    apply(weather(), provider, tmp_path)
    columns = [TableColumn(name=n, datatype="VARCHAR" if n == "TEMP_C" else t) for n, t in SEED_COLUMNS]
    p = plan(weather(columns=columns), provider, tmp_path)
    [change] = p.actionable
    assert change.action is Action.REPLACE
    assert change.fields[0].forces_replace
    assert "ALL ITS ROWS ARE LOST" in change.fields[0].detail[0]
    assert "deletes its rows" in (change.reason or "")
    assert change.statements[1:] == [
        "DROP TABLE IF EXISTS DATA_DB.PUBLIC.WEATHER",
        "CREATE TABLE DATA_DB.PUBLIC.WEATHER (DATE DATE, LOCATION VARCHAR(16777216), TEMP_C VARCHAR(16777216), "
        "TEMP_F NUMBER(38,0)) COMMENT = '[spcs-iac:stack=test]'"]  # the marker ties it to its stack
    apply(weather(columns=columns), provider, tmp_path)
    assert not plan(weather(columns=columns), provider, tmp_path).has_changes


def test_table_removed_from_the_stack_says_its_rows_go(emu: Any, provider: Factory, tmp_path: Path) -> None:
    apply(weather(), provider, tmp_path)
    stack = weather()
    stack._added = [r for r in stack._added if r.kind != "table"]
    p = plan(stack, provider, tmp_path)
    [change] = p.actionable
    assert change.action is Action.DELETE and "deletes its rows" in (change.reason or "")
    assert change_steps(change, {})[0].render() == "DROP TABLE IF EXISTS DATA_DB.PUBLIC.WEATHER"


def test_seed_data_step_with_the_real_connector(emu: Any, provider: Factory, tmp_path: Path) -> None:
    """The seed's three statements against the emulator: the service function converts in batches."""
    apply(weather(), provider, tmp_path)
    setup = ["USE ROLE ACCOUNTADMIN",
             "CREATE COMPUTE POOL POOL MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS",
             "GRANT USAGE ON COMPUTE POOL POOL TO ROLE DATA_ROLE",
             "GRANT CREATE SERVICE, CREATE FUNCTION ON SCHEMA DATA_DB.PUBLIC TO ROLE DATA_ROLE",
             "USE ROLE DATA_ROLE"]
    conn = emu.connect(role="DATA_ROLE", database="DATA_DB", schema="PUBLIC")
    cur = conn.cursor()
    for sql in setup:
        cur.execute(sql)
    cur.execute(f"CREATE SERVICE CONVERT_API IN COMPUTE POOL POOL FROM SPECIFICATION $${CONVERT_SPEC}$$")
    cur.execute("CREATE FUNCTION convert_udf (input float) RETURNS float SERVICE=CONVERT_API ENDPOINT='api' "
                "MAX_BATCH_ROWS=5 AS '/convert'")
    emu.emulator.register_endpoint("DATA_DB.PUBLIC.CONVERT_API", "api", "/convert", lambda body: {
        "data": [[r[0], round(r[1] * 9 / 5 + 32, 10)] for r in body["data"]]})

    cur.execute(SEED_INSERT)
    assert cur.rowcount == 10
    cur.execute("UPDATE WEATHER SET TEMP_F = convert_udf(TEMP_C);")
    assert cur.rowcount == 10
    rows = cur.execute("SELECT * FROM WEATHER;").fetchall()
    assert {r[1]: r[3] for r in rows} == SEED_F
    assert cur.execute("SELECT convert_udf(TEMP_C) FROM WEATHER WHERE LOCATION = 'Southampton'").fetchone() == (53.6,)
    sizes = [n for _, n in emu.emulator.data.batches]
    assert sizes and max(sizes) <= 5 and sum(sizes) == 11


def test_sql_on_the_snowflake_target_runs_through_the_connector(emu: Any, provider: Factory, tmp_path: Path) -> None:
    from spcs_iac.errors import SpcsIacError

    apply(weather(), provider, tmp_path)
    params = {**emu.connection_params(), "role": "DATA_ROLE"}
    results = api.sql(f"{SEED_INSERT} SELECT LOCATION, TEMP_C FROM WEATHER WHERE TEMP_C > 19 ORDER BY TEMP_C",
                      target="snowflake", database="DATA_DB", schema="PUBLIC", **params)
    assert results[0]["rowcount"] == 10 and results[0]["columns"] == ["number of rows inserted"]
    assert results[1]["columns"] == ["LOCATION", "TEMP_C"]
    assert results[1]["rows"] == [["Manchester", 20], ["Newcastle", 21]]
    try:
        api.sql("SELECT * FROM WEATHERS", target="snowflake", database="DATA_DB", **params)
    except SpcsIacError as exc:
        assert str(exc).startswith("002003 (42S02): SQL compilation error:\nObject 'DATA_DB.PUBLIC.WEATHERS'")
    else:
        raise AssertionError("an unknown table must fail")
