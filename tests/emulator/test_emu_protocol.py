"""Wire protocol: login, results, errors, logout, raw HTTP details."""

from __future__ import annotations

import datetime
import gzip
import json
import threading
import urllib.request
import warnings

import pytest
import snowflake.connector
from snowflake.connector.errors import DatabaseError, ProgrammingError

from spcs_emulator.testing import running_emulator


def test_login_and_context_functions(sf):
    row = sf.one("SELECT CURRENT_ROLE(), CURRENT_ACCOUNT(), CURRENT_REGION(), CURRENT_VERSION()")
    assert row == {"CURRENT_ROLE()": "ACCOUNTADMIN", "CURRENT_ACCOUNT()": "EMU",
                   "CURRENT_REGION()": "AWS_US_WEST_2", "CURRENT_VERSION()": sf.emu.version}
    assert sf.one("SELECT CURRENT_VERSION(), CURRENT_ROLE()")["CURRENT_ROLE()"] == "ACCOUNTADMIN"


def test_select_literals_and_types(sf):
    assert sf.scalar("SELECT 1") == 1
    row = sf.one("SELECT 1 AS one, 'x''y' AS s, NULL AS n, TRUE AS b, 2.5 AS f;")
    assert row == {"ONE": 1, "S": "x'y", "N": None, "B": True, "F": 2.5}


def test_show_types_reach_python_as_expected(sf):
    sf.run("CREATE COMPUTE POOL P1 MIN_NODES = 1 MAX_NODES = 3 INSTANCE_FAMILY = CPU_X64_S")
    row = sf.one("SHOW COMPUTE POOLS LIKE 'P1'")
    assert isinstance(row["created_on"], datetime.datetime)
    assert row["min_nodes"] == 1 and row["max_nodes"] == 3
    assert row["auto_resume"] == "true"


def test_errors_map_to_programming_error(sf):
    e = sf.err("CREATE FOO BAR")
    assert e.errno == 1003 and e.sqlstate == "42000"
    assert "syntax error line 1 at position 7 unexpected 'FOO'" in e.msg
    e = sf.err("DROP COMPUTE POOL NOPE")
    assert e.errno == 2003 and "Compute pool 'NOPE' does not exist or not authorized." in e.msg
    sf.run("CREATE ROLE R1")
    e = sf.err("CREATE ROLE R1")
    assert e.errno == 2002 and "Object 'R1' already exists." in e.msg
    assert e.sfqid


def test_syntax_error_position_multiline(sf):
    e = sf.err("CREATE ROLE X\n  COMENT = 'a'")
    assert "line 2 at position 2 unexpected 'COMENT'" in e.msg


def test_empty_statement_error(sf):
    e = sf.err("  ;")
    assert e.errno in (900, 1003)


def test_login_with_unknown_role_fails(emu_server):
    with pytest.raises(DatabaseError) as info:
        emu_server.connect(role="NO_SUCH_ROLE")
    # Connector 3.x wraps login failures in 250001 with the service's message; later ones keep the code.
    assert info.value.errno in (390189, 250001)
    assert "Role 'NO_SUCH_ROLE' specified in the connect string does not exist" in str(info.value)


def test_login_sets_role_warehouse_database(emu_server, sf):
    sf.run("CREATE ROLE OPS")
    sf.run("GRANT ROLE OPS TO ROLE SYSADMIN")  # a role the user may use
    sf.run("CREATE WAREHOUSE WH")
    sf.run("CREATE DATABASE APPDB")
    conn = emu_server.connect(role="ops", warehouse="WH", database="APPDB")
    cur = conn.cursor()
    cur.execute("SELECT CURRENT_ROLE(), CURRENT_WAREHOUSE(), CURRENT_DATABASE(), CURRENT_SCHEMA()")
    assert cur.fetchone() == ("OPS", "WH", "APPDB", "PUBLIC")
    conn.close()
    assert conn.is_closed()


def test_close_logs_out_session(emu_server, sf):
    before = len(sf.emu.sessions)
    conn = emu_server.connect()
    assert len(sf.emu.sessions) == before + 1
    conn.close()
    assert len(sf.emu.sessions) == before


def test_sessions_are_independent(emu_server, sf):
    sf.run("CREATE ROLE OTHER")
    sf.run("GRANT ROLE OTHER TO USER EMULATOR")
    conn = emu_server.connect(role="OTHER")
    cur = conn.cursor()
    cur.execute("SELECT CURRENT_ROLE()")
    assert cur.fetchone()[0] == "OTHER"
    assert sf.scalar("SELECT CURRENT_ROLE()") == "ACCOUNTADMIN"
    conn.close()


def test_concurrent_connections_thread_safe(emu_server, sf):
    sf.run("CREATE DATABASE CDB")
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            conn = emu_server.connect()
            cur = conn.cursor()
            for j in range(10):
                cur.execute(f"CREATE STAGE CDB.PUBLIC.S_{i}_{j}")
            conn.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(sf.run("SHOW STAGES IN DATABASE CDB")) == 40


def test_raw_http_gzip_login_and_query(emu_server):
    base = f"http://127.0.0.1:{emu_server.port}"
    body = gzip.compress(json.dumps({"data": {"LOGIN_NAME": "raw", "PASSWORD": "x"}}).encode())
    req = urllib.request.Request(base + "/session/v1/login-request?roleName=SYSADMIN", data=body, method="POST",
                                 headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        login = json.load(resp)
    assert login["success"] and login["data"]["sessionInfo"]["roleName"] == "SYSADMIN"
    token = login["data"]["token"]
    q = gzip.compress(json.dumps({"sqlText": "SELECT CURRENT_ROLE()"}).encode())
    req = urllib.request.Request(base + "/queries/v1/query-request", data=q, method="POST",
                                 headers={"Content-Encoding": "gzip", "Authorization": f'Snowflake Token="{token}"'})
    with urllib.request.urlopen(req) as resp:
        result = json.load(resp)
    data = result["data"]
    assert data["queryResultFormat"] == "json" and data["rowset"] == [["SYSADMIN"]]
    assert data["rowtype"][0]["name"] == "CURRENT_ROLE()" and data["finalRoleName"] == "SYSADMIN"
    # The service sends the send time in epoch milliseconds; connector 3.12 subtracts from it.
    assert isinstance(data["sendResultTime"], int) and data["sendResultTime"] > 1_600_000_000_000
    qid = data["queryId"]
    req = urllib.request.Request(base + f"/monitoring/queries/{qid}",
                                 headers={"Authorization": f'Snowflake Token="{token}"'})
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp)["data"]["queries"][0]["status"] == "SUCCESS"
    req = urllib.request.Request(base + "/session?delete=true", data=b"{}", method="POST",
                                 headers={"Authorization": f'Snowflake Token="{token}"'})
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp)["success"]


def test_query_without_session_is_rejected(emu_server):
    req = urllib.request.Request(f"http://127.0.0.1:{emu_server.port}/queries/v1/query-request",
                                 data=b'{"sqlText": "SELECT 1"}', method="POST",
                                 headers={"Authorization": 'Snowflake Token="bogus"'})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 401


def test_plain_connect_call_as_documented():
    with running_emulator() as running, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        conn = snowflake.connector.connect(account="emu", user="u", password="p", host="127.0.0.1",
                                           port=running.port, protocol="http", role="SYSADMIN", warehouse="NONE")
        try:
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_ROLE()")
            assert cur.fetchone() == ("SYSADMIN",)
            with pytest.raises(ProgrammingError):
                cur.execute("USE WAREHOUSE NONE")
        finally:
            conn.close()
