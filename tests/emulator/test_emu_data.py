"""The emulator's data engine through the real connector: tables of any shape, DML with Snowflake's row
counts, queries, CURRENT_TIMESTAMP(), per-session transactions, name resolution, Snowflake's error codes,
table grants, SHOW TABLES / SHOW COLUMNS, ALTER TABLE, and rows persisted beside a state file."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import SF
from snowflake.connector.errors import DatabaseError, ProgrammingError

from spcs_emulator.testing import running_emulator

STATE_TABLE = """CREATE TABLE IF NOT EXISTS OPS.STATE.ENTRIES (
    STACK VARCHAR NOT NULL, ADDRESS VARCHAR NOT NULL, BODY VARCHAR, SERIAL NUMBER DEFAULT 0,
    UPDATED_AT TIMESTAMP_LTZ)"""


@pytest.fixture
def ops(sf: SF) -> SF:
    sf.run("CREATE DATABASE OPS")
    sf.run("CREATE SCHEMA IF NOT EXISTS OPS.STATE")
    sf.run(STATE_TABLE)
    return sf


def rowcount(sf: SF, sql: str) -> tuple[int, list[str]]:
    cur = sf.conn.cursor()
    cur.execute(sql)
    return cur.rowcount, [d[0] for d in cur.description]


def test_dml_returns_snowflakes_count_columns_and_rowcount(ops: SF) -> None:
    assert rowcount(ops, "INSERT INTO OPS.STATE.ENTRIES (STACK, ADDRESS, BODY) VALUES ('s', 'a', '{}'), "
                         "('s', 'b', '{}'), ('t', 'a', NULL)") == (3, ["number of rows inserted"])
    assert rowcount(ops, "UPDATE OPS.STATE.ENTRIES SET BODY = '{\"x\": 1}', SERIAL = SERIAL + 1, "
                         "UPDATED_AT = CURRENT_TIMESTAMP() WHERE STACK = 's'") == (
        2, ["number of rows updated", "number of multi-joined rows updated"])
    assert rowcount(ops, "DELETE FROM OPS.STATE.ENTRIES WHERE STACK = 't'") == (1, ["number of rows deleted"])
    assert rowcount(ops, "DELETE FROM OPS.STATE.ENTRIES WHERE STACK = 'nobody'")[0] == 0
    rows = ops.run("SELECT ADDRESS, BODY, SERIAL, UPDATED_AT FROM OPS.STATE.ENTRIES WHERE STACK = 's' "
                   "ORDER BY ADDRESS DESC")
    assert [(r["ADDRESS"], json.loads(r["BODY"]), r["SERIAL"]) for r in rows] == [("b", {"x": 1}, 1), ("a", {"x": 1}, 1)]
    stamp = rows[0]["UPDATED_AT"]
    assert isinstance(stamp, dt.datetime) and abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 60


def test_names_resolve_with_the_sessions_database_and_schema(ops: SF) -> None:
    ops.run("USE SCHEMA OPS.STATE")
    ops.run("INSERT INTO ENTRIES (STACK, ADDRESS) VALUES ('s', 'x')")
    assert ops.scalar("SELECT COUNT(*) FROM STATE.ENTRIES") == 1
    assert ops.scalar("SELECT COUNT(*) FROM entries") == 1  # unquoted names fold to upper case
    err = ops.err('SELECT * FROM "entries"')
    assert err.errno == 2003 and err.sqlstate == "42S02"
    assert "Object 'OPS.STATE.\"entries\"' does not exist or not authorized." in err.msg
    ops.run("USE DATABASE OPS")  # schema PUBLIC: ENTRIES is not there
    err = ops.err("SELECT * FROM ENTRIES")
    assert "Object 'OPS.PUBLIC.ENTRIES' does not exist or not authorized." in err.msg


def test_errors_are_snowflakes(ops: SF) -> None:
    err = ops.err("INSERT INTO OPS.STATE.ENTRIES (STACK, ADDRESS, SERIAL) VALUES ('s', 'a', 'many')")
    assert (err.errno, err.sqlstate) == (100038, "22018") and "Numeric value 'many' is not recognized" in err.msg
    err = ops.err("SELECT NOPE FROM OPS.STATE.ENTRIES")
    assert err.errno == 904 and "invalid identifier 'NOPE'" in err.msg
    with pytest.raises(DatabaseError) as null:  # the connector files 100072 under IntegrityError
        ops.run("INSERT INTO OPS.STATE.ENTRIES (STACK) VALUES ('s')")
    assert null.value.errno == 100072 and "non-nullable column ADDRESS" in null.value.msg
    err = ops.err("SELECT NO_SUCH_FN(1) FROM OPS.STATE.ENTRIES")
    assert err.errno == 2140 and "Unknown function NO_SUCH_FN" in err.msg
    assert ops.scalar("SELECT COUNT(*) FROM OPS.STATE.ENTRIES") == 0  # nothing half-done


def test_transactions_are_per_session_and_roll_back(ops: SF, emu_server: Any) -> None:
    other = emu_server.connect(database="OPS", schema="STATE")
    ops.run("BEGIN")
    ops.run("INSERT INTO OPS.STATE.ENTRIES (STACK, ADDRESS) VALUES ('s', 'a')")
    assert other.cursor().execute("SELECT COUNT(*) FROM ENTRIES").fetchone() == (0,)  # not committed yet
    ops.run("COMMIT")
    assert other.cursor().execute("SELECT COUNT(*) FROM ENTRIES").fetchone() == (1,)
    ops.run("BEGIN TRANSACTION")
    ops.run("DELETE FROM OPS.STATE.ENTRIES")
    ops.run("ROLLBACK")
    assert ops.scalar("SELECT COUNT(*) FROM OPS.STATE.ENTRIES") == 1
    ops.run("COMMIT")  # no transaction open: Snowflake accepts it and does nothing
    ops.conn.rollback()
    other.close()


def test_concurrent_updates_of_one_row_wait_for_each_other(ops: SF, emu_server: Any) -> None:
    # Snowflake makes a write wait for the lock another session's write holds, then runs it: two sessions
    # incrementing one row never fail and lose nothing (the state backend's lock is such an UPDATE).
    ops.run("INSERT INTO OPS.STATE.ENTRIES (STACK, ADDRESS, SERIAL) VALUES ('s', 'lock', 0)")
    errors: list[str] = []

    def bump() -> None:
        conn = emu_server.connect(database="OPS", schema="STATE")
        try:
            for _ in range(60):
                try:
                    conn.cursor().execute("UPDATE ENTRIES SET SERIAL = SERIAL + 1 WHERE ADDRESS = 'lock'")
                except DatabaseError as exc:
                    errors.append(str(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=bump) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert ops.scalar("SELECT SERIAL FROM OPS.STATE.ENTRIES WHERE ADDRESS = 'lock'") == 180


def test_show_tables_and_columns_and_alter(ops: SF) -> None:
    ops.run("ALTER TABLE OPS.STATE.ENTRIES SET COMMENT = 'state of stacks' CHANGE_TRACKING = TRUE")
    ops.run("ALTER TABLE OPS.STATE.ENTRIES ADD COLUMN LOCK_ID VARCHAR(64)")
    ops.run("ALTER TABLE OPS.STATE.ENTRIES RENAME COLUMN BODY TO DOC")
    ops.run("ALTER TABLE OPS.STATE.ENTRIES ALTER COLUMN LOCK_ID COMMENT 'who holds it'")
    [table] = ops.run("SHOW TABLES LIKE 'ENTRIES' IN SCHEMA OPS.STATE")
    assert (table["name"], table["comment"], table["change_tracking"], table["owner"]) == (
        "ENTRIES", "state of stacks", "ON", "ACCOUNTADMIN")
    cols = ops.run("SHOW COLUMNS IN TABLE OPS.STATE.ENTRIES")
    assert [c["column_name"] for c in cols] == ["STACK", "ADDRESS", "DOC", "SERIAL", "UPDATED_AT", "LOCK_ID"]
    lock = cols[-1]
    assert json.loads(lock["data_type"]) == {"type": "TEXT", "length": 64, "byteLength": 256, "fixed": False,
                                             "nullable": True}
    assert lock["comment"] == "who holds it"
    assert cols[0]["null?"] == "false" and cols[3]["default"] == "0"
    err = ops.err("ALTER TABLE OPS.STATE.ENTRIES ALTER COLUMN SERIAL SET DATA TYPE VARCHAR")
    assert "cannot change column SERIAL" in err.msg
    ops.run("DROP TABLE OPS.STATE.ENTRIES")
    assert ops.err("SELECT * FROM OPS.STATE.ENTRIES").errno == 2003


def test_table_privileges_decide_who_reads_and_writes(ops: SF) -> None:
    ops.run("CREATE ROLE READER")
    ops.run("GRANT ROLE READER TO ROLE SYSADMIN")  # USE ROLE needs the role granted to the user's roles
    ops.run("GRANT USAGE ON DATABASE OPS TO ROLE READER")
    ops.run("GRANT SELECT ON TABLE OPS.STATE.ENTRIES TO ROLE READER")
    ops.run("INSERT INTO OPS.STATE.ENTRIES (STACK, ADDRESS) VALUES ('s', 'a')")
    ops.run("USE ROLE READER")
    assert ops.scalar("SELECT COUNT(*) FROM OPS.STATE.ENTRIES") == 1
    err = ops.err("DELETE FROM OPS.STATE.ENTRIES")
    assert err.errno == 2003  # Snowflake: 'does not exist or not authorized'
    ops.run("USE ROLE ACCOUNTADMIN")
    grants = ops.run("SHOW GRANTS ON TABLE OPS.STATE.ENTRIES")
    assert {(g["privilege"], g["grantee_name"]) for g in grants} >= {("SELECT", "READER"), ("OWNERSHIP", "ACCOUNTADMIN")}


def test_dropping_the_database_drops_the_rows(ops: SF) -> None:
    ops.run("INSERT INTO OPS.STATE.ENTRIES (STACK, ADDRESS) VALUES ('s', 'a')")
    ops.run("DROP DATABASE OPS")
    ops.run("CREATE DATABASE OPS")
    ops.run("CREATE SCHEMA OPS.STATE")
    ops.run(STATE_TABLE)
    assert ops.scalar("SELECT COUNT(*) FROM OPS.STATE.ENTRIES") == 0


def test_rows_persist_beside_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "account.json"
    with running_emulator(state_file=state) as emu:
        conn = emu.connect()
        for sql in ("CREATE DATABASE OPS", "CREATE SCHEMA OPS.STATE", STATE_TABLE,
                    "INSERT INTO OPS.STATE.ENTRIES (STACK, ADDRESS) VALUES ('s', 'kept')"):
            conn.cursor().execute(sql)
        conn.close()
        emu.emulator.data.warehouse.close()
    assert (tmp_path / "account.json.duckdb").exists()
    with running_emulator(state_file=state) as emu:
        assert emu.rows("SELECT ADDRESS FROM OPS.STATE.ENTRIES") == [{"address": "kept"}]


def test_select_without_tables_still_answers(sf: SF) -> None:
    assert sf.scalar("SELECT CURRENT_ROLE()") == "ACCOUNTADMIN"  # the literal handler, as before
    assert isinstance(sf.scalar("SELECT CURRENT_TIMESTAMP()"), dt.datetime)
    assert sf.scalar("SELECT 1 + 2") == 3
    with pytest.raises(ProgrammingError):
        sf.run("SELECT FROM")
