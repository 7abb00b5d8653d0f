"""Fault injection, latency, statistics, reset, state persistence and the CLI entry point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spcs_emulator import Emulator, SqlError
from spcs_emulator.testing import running_emulator

ROOT = Path(__file__).resolve().parents[2]


def test_fail_at_counts_only_mutating_statements(sf):
    sf.emu.inject(fail_at=2)
    sf.run("CREATE ROLE A")  # mutation 1
    sf.run("SHOW ROLES")
    sf.run("SELECT 1")
    sf.run("USE ROLE USERADMIN")  # holds CREATE ROLE
    e = sf.err("CREATE ROLE B")  # mutation 2 fails
    assert e.errno == 603 and "simulated failure" in e.msg
    assert sf.run("SHOW ROLES LIKE 'B'") == []
    sf.run("CREATE ROLE B")  # cleared after firing
    assert sf.emu.fail_at is None


def test_fail_matching(sf):
    sf.emu.inject(fail_matching=r"COMPUTE\s+POOL")
    sf.run("CREATE ROLE R")
    e = sf.err("CREATE COMPUTE POOL P MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS")
    assert e.errno == 603
    sf.run("CREATE COMPUTE POOL P MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS")


def test_fail_at_via_constructor():
    with running_emulator(fail_at=1) as running:
        cur = running.connect().cursor()
        cur.execute("SHOW ROLES")
        with pytest.raises(Exception, match="simulated failure"):
            cur.execute("CREATE ROLE X")
        cur.execute("CREATE ROLE X")


def test_latency_injection(sf):
    sf.emu.inject(latency_ms=60)
    start = time.time()
    sf.run("SELECT 1")
    sf.run("SHOW ROLES")
    assert time.time() - start >= 0.12
    sf.emu.inject(latency_ms=0)
    start = time.time()
    sf.run("SELECT 1")
    assert time.time() - start < 0.1
    with pytest.raises(TypeError):
        sf.emu.inject(bogus=1)


def test_stats(sf):
    sf.emu.reset_stats()
    sf.run("CREATE ROLE A")
    sf.run("CREATE ROLE B")
    sf.run("GRANT ROLE A TO ROLE B")
    sf.run("SHOW ROLES")
    sf.err("DROP ROLE NOPE")
    stats = sf.emu.stats()
    assert stats["total"] == 5
    assert stats["by_keyword"] == {"CREATE": 2, "GRANT": 1, "SHOW": 1, "DROP": 1}
    assert stats["mutating"] == 4
    assert stats["statements"][0] == "CREATE ROLE A" and stats["statements"][-1] == "DROP ROLE NOPE"


def test_reset_forgets_everything(sf):
    sf.run("CREATE ROLE A")
    sf.run("CREATE DATABASE D")
    sf.emu.inject(fail_at=5, latency_ms=1)
    sf.emu.reset()
    assert sf.run("SHOW ROLES LIKE 'A'") == [] and [d["name"] for d in sf.run("SHOW DATABASES")] == ["SNOWFLAKE"]
    assert sf.emu.fail_at is None and sf.emu.latency_ms == 0
    assert sf.scalar("SELECT CURRENT_ROLE()") == "ACCOUNTADMIN"


def test_state_dump_and_load(tmp_path):
    path = tmp_path / "state.json"
    emu = Emulator(ready_delay_s=0)
    session = emu.login("u")
    for sql in ["CREATE ROLE DEPLOYER", "GRANT ROLE DEPLOYER TO ROLE SYSADMIN", "CREATE DATABASE DB",
                "CREATE COMPUTE POOL P MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS",
                "GRANT USAGE ON COMPUTE POOL P TO ROLE DEPLOYER", "GRANT USAGE ON DATABASE DB TO ROLE DEPLOYER",
                "GRANT USAGE, CREATE SERVICE, CREATE FUNCTION ON SCHEMA DB.PUBLIC TO ROLE DEPLOYER", "USE ROLE DEPLOYER",
                "CREATE SERVICE DB.PUBLIC.S IN COMPUTE POOL P FROM SPECIFICATION "
                "$$spec: {containers: [{name: main, image: /db/public/r/i:1}], endpoints: [{name: e, port: 80}]}$$",
                "CREATE FUNCTION DB.PUBLIC.F(x NUMBER) RETURNS NUMBER SERVICE = DB.PUBLIC.S ENDPOINT = e AS '/f'"]:
        emu.execute(session, sql)
    emu.save_state(path)
    other = Emulator(state_file=path, ready_delay_s=0)
    s2 = other.login("u", role="DEPLOYER")
    assert other.execute(s2, "SHOW SERVICES IN ACCOUNT").as_dicts()[0]["status"] == "RUNNING"
    grants = other.execute(s2, "SHOW GRANTS TO ROLE DEPLOYER").as_dicts()
    assert {(g["privilege"], g["granted_on"]) for g in grants} >= {("USAGE", "COMPUTE_POOL"), ("OWNERSHIP", "SERVICE"),
                                                                   ("OWNERSHIP", "FUNCTION")}
    other.execute(s2, "DROP FUNCTION DB.PUBLIC.F(NUMBER)")  # autosaved because state_file is set
    third = Emulator(state_file=path)
    assert third.execute(third.login("u"), "SHOW USER FUNCTIONS IN ACCOUNT").rows == []


def test_engine_errors_without_http():
    emu = Emulator()
    session = emu.login("u")
    with pytest.raises(SqlError) as info:
        emu.execute(session, "CREATE COMPUTE POOL P MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS FOO")
    assert info.value.code == "001003" and "unexpected 'FOO'" in info.value.message
    with pytest.raises(SqlError):
        emu.login("u", role="NOPE")


def test_cli_serves_and_persists_state(tmp_path):
    state = tmp_path / "emu.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "spcs_emulator", "--port", "0", "--state", str(state),
           "--registry-host", "127.0.0.1:5999"]

    def start() -> tuple[subprocess.Popen[str], int]:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=str(tmp_path))
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        return proc, int(line.rsplit(":", 1)[1])

    def stop(proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)

    import warnings

    import snowflake.connector

    proc, port = start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            conn = snowflake.connector.connect(account="emu", user="u", password="p", host="127.0.0.1", port=port,
                                               protocol="http")
        conn.cursor().execute("CREATE DATABASE PERSISTED")
        conn.cursor().execute("CREATE IMAGE REPOSITORY PERSISTED.PUBLIC.REPO")
        conn.close()
    finally:
        stop(proc)
    assert state.exists()
    proc, port = start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            conn = snowflake.connector.connect(account="emu", user="u", password="p", host="127.0.0.1", port=port,
                                               protocol="http")
        cur = conn.cursor()
        cur.execute("SHOW IMAGE REPOSITORIES IN ACCOUNT")
        rows = cur.fetchall()
        assert rows[0][1] == "REPO" and rows[0][4] == "127.0.0.1:5999/persisted/public/repo"
        conn.close()
    finally:
        stop(proc)


def test_state_saved_from_many_threads_at_once_is_never_lost(tmp_path):
    # Uploads and statements arriving together each save the state: one temporary file shared by all made
    # a save fail (its file renamed away by another) and the client's request with it.
    import threading

    path = tmp_path / "state.json"
    emu = Emulator(ready_delay_s=0, state_file=path)
    session = emu.login("u")
    failures: list[BaseException] = []

    def create(i: int) -> None:
        try:
            for j in range(10):
                emu.execute(session, f"CREATE ROLE R_{i}_{j}")
                emu.uploads[f"t{i}-{j}"] = (("DB", "PUBLIC", "S"), f"f{i}-{j}")  # as PUT registers one
                assert emu.finish_upload(f"t{i}-{j}", b"x")  # saved outside the statement lock
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    again = Emulator(state_file=path)
    names = {r["name"] for r in again.execute(again.login("u"), "SHOW ROLES").as_dicts()}
    assert {f"R_{i}_{j}" for i in range(8) for j in range(10)} <= names
    assert not list(tmp_path.glob("*.tmp*"))
