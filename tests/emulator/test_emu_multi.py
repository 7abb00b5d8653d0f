"""Several statements in one request (MULTI_STATEMENT_COUNT), RESULT_SCAN, and what each HTTP round trip costs,
through the real connector."""

from __future__ import annotations

import json
import time

import pytest
from snowflake.connector.errors import ProgrammingError


def _with_warehouse(sf) -> None:
    sf.run("CREATE WAREHOUSE MULTI_WH")
    sf.run("USE WAREHOUSE MULTI_WH")


def _error(sf, sql: str, count: int | None) -> ProgrammingError:
    with pytest.raises(ProgrammingError) as info:
        sf.conn.cursor().execute(sql, num_statements=count)
    return info.value


def _rows(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_each_statement_has_its_result_read_with_nextset(sf):
    _with_warehouse(sf)
    sf.emu.reset_stats()
    cur = sf.conn.cursor()
    cur.execute("CREATE ROLE MULTI_A;\nSHOW ROLES LIKE 'MULTI_%'; SELECT 7 AS N", num_statements=3)
    assert _rows(cur) == [{"status": "Role MULTI_A successfully created."}]
    assert cur.nextset() is cur
    assert [r["name"] for r in _rows(cur)] == ["MULTI_A"]
    assert cur.nextset() is cur
    assert _rows(cur) == [{"N": 7}]
    assert cur.nextset() is None
    stats = sf.emu.stats()
    # One request carrying three statements, then one fetch per child result.
    assert stats["round_trips_by_kind"] == {"query": 1, "result": 3}
    assert stats["total"] == 3


def test_any_number_of_statements_with_count_zero_or_a_session_parameter(sf):
    _with_warehouse(sf)
    cur = sf.conn.cursor()
    cur.execute("SELECT 1; SELECT 2; SELECT 3; SELECT 4", num_statements=0)
    assert len(cur.multi_statement_savedIds) == 4
    sf.run("ALTER SESSION SET MULTI_STATEMENT_COUNT = 0")
    cur.execute("SELECT 1; SELECT 2")
    assert len(cur.multi_statement_savedIds) == 2
    sf.run("ALTER SESSION UNSET MULTI_STATEMENT_COUNT")
    with pytest.raises(ProgrammingError, match="Actual statement count 2 did not match the desired statement count 1"):
        cur.execute("SELECT 1; SELECT 2")


def test_a_login_session_parameter_sets_the_count(emu_server, sf):
    conn = emu_server.connect(session_parameters={"MULTI_STATEMENT_COUNT": 0})
    cur = conn.cursor()
    cur.execute("CREATE WAREHOUSE LOGIN_WH")
    cur.execute("SELECT 1; SELECT 2; SELECT 3")
    assert len(cur.multi_statement_savedIds) == 3
    conn.close()


def test_a_count_mismatch_fails_before_anything_runs(sf):
    _with_warehouse(sf)
    e = _error(sf, "CREATE ROLE NEVER_MADE; SELECT 1", 3)
    assert e.errno == 8 and e.sqlstate == "0A000"
    assert "Actual statement count 2 did not match the desired statement count 3." in e.msg
    e = _error(sf, "CREATE ROLE NEVER_MADE; SELECT 1", None)  # the default count is 1
    assert "Actual statement count 2 did not match the desired statement count 1." in e.msg
    assert sf.run("SHOW ROLES LIKE 'NEVER_MADE'") == []


def test_a_failing_statement_stops_the_request_and_names_itself(sf):
    _with_warehouse(sf)
    sql = "CREATE ROLE BEFORE_IT;\nDESC NETWORK RULE NO_DB.PUBLIC.MISSING_RULE; CREATE ROLE AFTER_IT"
    e = _error(sf, sql, 3)
    # As the SQL API page documents it: 100132 / P0000, the statement's first 30 characters, where it starts,
    # then the statement's own error.
    assert e.errno == 100132 and e.sqlstate == "P0000"
    assert ('JavaScript execution error: Uncaught Execution of multiple statements failed on statement '
            '"DESC NETWORK RULE NO_DB.PUBLIC..." (at line 2, position 0).\n') in e.msg
    assert "Network rule 'NO_DB.PUBLIC.MISSING_RULE' does not exist or not authorized." in e.msg
    assert "SYSTEM$MULTISTMT" in e.msg
    assert [r["name"] for r in sf.run("SHOW ROLES LIKE '%_IT'")] == ["BEFORE_IT"]  # ran before the failure


def test_positions_count_from_the_start_of_the_line(sf):
    _with_warehouse(sf)
    e = _error(sf, "SELECT 1; SELECT 2; DROP ROLE NO_SUCH_ROLE", 3)
    assert '"DROP ROLE NO_SUCH_ROLE" (at line 1, position 20)' in e.msg


def test_without_a_warehouse_nothing_runs(sf):
    e = _error(sf, "CREATE ROLE NOT_WITHOUT_WH; SELECT 1", 2)
    assert e.errno == 606
    assert sf.run("SHOW ROLES LIKE 'NOT_WITHOUT_WH'") == []


def test_put_is_not_part_of_a_multi_statement_request(sf):
    _with_warehouse(sf)
    e = _error(sf, "SELECT 1; PUT file:///tmp/x.yaml @S", 2)
    assert "Unsupported feature" in e.msg


def test_result_scan_reads_a_past_result_by_id_or_last_query_id(sf):
    _with_warehouse(sf)
    sf.run("CREATE ROLE SCAN_ME")
    cur = sf.conn.cursor()
    cur.execute("SHOW ROLES LIKE 'SCAN_ME'; SHOW DATABASES LIKE 'NONE_AT_ALL'", num_statements=2)
    first, second = cur.multi_statement_savedIds
    cur.execute(f"SELECT 0 AS \"I\", OBJECT_CONSTRUCT_KEEP_NULL(*) AS \"ROW\" FROM TABLE(RESULT_SCAN('{first}'))\n"
                f"UNION ALL SELECT 1, OBJECT_CONSTRUCT_KEEP_NULL(*) FROM TABLE(RESULT_SCAN('{second}'))")
    rows = cur.fetchall()
    assert [r[0] for r in rows] == [0]
    row = json.loads(rows[0][1])
    assert row["name"] == "SCAN_ME" and row["comment"] is None and "comment" in row
    assert row["created_on"].endswith(" +0000")  # a timestamp as OBJECT_CONSTRUCT holds it: text
    assert "comment" not in json.loads(sf.scalar(f"SELECT OBJECT_CONSTRUCT(*) FROM TABLE(RESULT_SCAN('{first}'))"))
    sf.run("SHOW ROLES LIKE 'SCAN_ME'")
    assert sf.run('SELECT "name", "owner" AS O FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))') == [
        {"name": "SCAN_ME", "O": "ACCOUNTADMIN"}]
    e = sf.err("SELECT * FROM TABLE(RESULT_SCAN('00000000-0000-0000-0000-000000000000'))")
    assert e.errno == 709 and "not found" in e.msg


def test_result_scan_serves_only_the_user_who_ran_the_statement(emu_server, sf):
    cur = sf.conn.cursor()
    cur.execute("SHOW ROLES")
    other = emu_server.connect(user="SOMEONE_ELSE")
    with pytest.raises(ProgrammingError, match="not found"):
        other.cursor().execute(f"SELECT * FROM TABLE(RESULT_SCAN('{cur.sfqid}'))")
    other.close()


def test_latency_is_paid_once_per_round_trip_however_many_statements(sf):
    _with_warehouse(sf)
    waits: list[float] = []
    sf.emu.sleep = waits.append  # watch the waits instead of timing them
    try:
        sf.emu.inject(latency_ms=40)
        sf.emu.reset_stats()
        cur = sf.conn.cursor()
        cur.execute(";\n".join(f"SELECT {i}" for i in range(25)), num_statements=25)
        after_request = list(waits)
        while cur.nextset():
            pass
    finally:
        sf.emu.inject(latency_ms=0)
        sf.emu.sleep = time.sleep
    stats = sf.emu.stats()
    assert after_request == [0.04, 0.04]  # the request, then the connector's fetch of the first result
    assert stats["round_trips_by_kind"] == {"query": 1, "result": 25}
    assert waits == [0.04] * stats["round_trips"]
    assert stats["total"] == 25
