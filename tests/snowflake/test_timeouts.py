"""An account that stops answering mid-apply: the apply fails in bounded time, names the object in flight,
releases the state lock and keeps what finished; and the timeouts that make it so, by default and overridden.

The emulator stops answering with ``inject(hang_matching=...)``: the request is accepted and read, and
never answered (spcs_emulator/silence.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import Stack
from spcs_iac.drivers import api
from spcs_iac.state.backend import open_state
from spcs_iac.targets.snowflake import timeouts
from spcs_iac.targets.snowflake.connection import Db, _connect
from spcs_iac.targets.snowflake.params import resolve_params
from spcs_iac.targets.snowflake.sql import Stmt

ROOT = Path(__file__).resolve().parents[2]
POOL_CREATE = r"^\s*CREATE COMPUTE POOL"
OUTER_BOUND = 90  # seconds: far above what these small timeouts need, far below a hang

STACK = """
from spcs_iac import ComputePool, Database, Grant, Role, RoleGrant, Stack

stack = Stack("silent")
role = stack.add(Role(name="APP_OWNER", owner="ACCOUNTADMIN"))
stack.add(RoleGrant(role=role, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN"))
stack.add(Grant(to=role, on="ACCOUNT", privileges=["CREATE DATABASE", "CREATE COMPUTE POOL"], owner="ACCOUNTADMIN"))
stack.add(Database(name="APP_DB", owner=role))
pool = stack.add(ComputePool(name="APP_POOL", instance_family="CPU_X64_XS", owner=role))
stack.add(Grant(to="PUBLIC", on=pool, privileges=["MONITOR"], owner=role))
"""
FIRST = ("role.APP_OWNER", "role_grant.APP_OWNER->ACCOUNTADMIN", "grant.APP_OWNER:ACCOUNT")  # before the pool


def _stack() -> Stack:
    namespace: dict[str, Any] = {}
    exec(compile(STACK, "stack.py", "exec"), namespace)
    return namespace["stack"]


def _entries(state_dir: Path, stack: str = "silent") -> dict[str, Any]:
    return open_state(f"file://{state_dir}", stack, "snowflake").entries


def _lock_is_free(state_dir: Path, stack: str = "silent") -> bool:
    store = open_state(f"file://{state_dir}", stack, "snowflake")
    with store.locked("test"):  # raises StateLockedError when another apply still holds it
        return True


# ---- the defaults, and how they are given -------------------------------------------------------------------
def test_defaults_use_the_names_of_each_connector_generation() -> None:
    assert timeouts.connector_params({}, "5.1.0") == {
        "login_timeout": 60, "connect_timeout": 60, "retry_timeout": 60, "retry_max_attempts": 3,
        "logout_total_timeout_seconds": 15}
    assert timeouts.connector_params({}, "5.2.0") == {
        **timeouts.connector_params({}, "5.1.0"), "enable_server_session_keep_alive_auto_detection": False}
    for old in ("3.12.0", "4.8.1"):
        assert timeouts.connector_params({}, old) == {"login_timeout": 60, "socket_timeout": 60,
                                                       "network_timeout": 180}


def test_given_timeouts_win_and_are_translated_for_the_installed_connector() -> None:
    given = {"login_timeout": 5, "socket_timeout": 7, "account": "a"}
    assert timeouts.connector_params(given, "5.1.0") == {
        "account": "a", "login_timeout": 5, "connect_timeout": 7, "retry_timeout": 7, "retry_max_attempts": 3,
        "logout_total_timeout_seconds": 7}
    assert timeouts.connector_params(given, "3.12.0") == {"account": "a", "login_timeout": 5, "socket_timeout": 7,
                                                          "network_timeout": 21}
    # connector 5's own names on an older connector: one per-request timeout, attempts make the retry time
    newer = {"retry_timeout": 4, "connect_timeout": 9, "retry_max_attempts": 2, "query_timeout": 30}
    assert timeouts.connector_params(newer, "3.12.0") == {"login_timeout": 60, "socket_timeout": 4,
                                                          "network_timeout": 8}
    # a network_timeout the user asked for is kept, as connector 5 itself would read it
    assert timeouts.connector_params({"network_timeout": 600}, "5.2.0")["query_timeout"] == 600


def test_no_statement_is_capped_by_default() -> None:
    assert "query_timeout" not in timeouts.connector_params({}, "5.2.0")
    for sql in ("EXECUTE JOB SERVICE IN COMPUTE POOL P FROM SPECIFICATION $$x$$ NAME = DB.S.J",
                "CREATE SERVICE DB.S.SVC IN COMPUTE POOL P FROM @st SPECIFICATION_FILE = 's.yaml'",
                "create or replace service DB.S.SVC IN COMPUTE POOL P FROM @st SPECIFICATION_FILE = 's.yaml'",
                "PUT 'file:///tmp/spec.yaml' @DB.S.ST"):
        assert timeouts.statement_options(sql, "3.12.0") == {"timeout": timeouts.STATEMENT_LIMIT}, sql
        assert timeouts.statement_options(sql, "5.2.0") == {}, sql
    assert timeouts.statement_options("CREATE ROLE R", "3.12.0") == {}
    assert timeouts.statement_options("SHOW SERVICES IN ACCOUNT", "4.8.1") == {}


def test_timeouts_come_from_connections_toml_and_environment_in_order(tmp_path: Path) -> None:
    (tmp_path / "connections.toml").write_text(
        '[dev]\naccount = "a"\nuser = "u"\npassword = "p"\nlogin_timeout = 7\nsocket_timeout = 9\n'
        "retry_max_attempts = 4\n")
    env = {"SNOWFLAKE_HOME": str(tmp_path)}
    params = resolve_params("dev", None, env)
    assert (params["login_timeout"], params["socket_timeout"], params["retry_max_attempts"]) == (7, 9, 4)
    env |= {"SNOWFLAKE_CONNECTIONS_DEV_SOCKET_TIMEOUT": "5", "SNOWFLAKE_LOGIN_TIMEOUT": "3",
            "SNOWFLAKE_RETRY_TIMEOUT": "2", "SNOWFLAKE_NETWORK_TIMEOUT": "30"}
    params = resolve_params("dev", None, env)
    assert (params["login_timeout"], params["socket_timeout"], params["retry_timeout"],
            params["network_timeout"]) == (3, 5, 2, 30)
    assert resolve_params("dev", {"login_timeout": 11}, env)["login_timeout"] == 11


def test_the_installed_connector_gets_the_defaults(emu: Any) -> None:
    conn = _connect(emu.server.connection_params())
    try:
        assert conn.login_timeout == timeouts.LOGIN_TIMEOUT
        if timeouts.new_core(timeouts.connector_version()):
            config = conn.config  # connector 5 keeps what it was given here
            assert (config.retry_timeout, config.connect_timeout, config.retry_max_attempts) == (60, 60, 3)
            assert not config.query_timeout
        else:
            assert (conn.socket_timeout, conn.network_timeout) == (60, 180)
    finally:
        conn.close()


def test_a_login_in_a_background_thread_raises_no_future_warning(emu: Any) -> None:
    # Connector 5.2 warns at every login that does not say how logout treats asynchronous queries; from the
    # pool's login threads (where catching warnings is not thread-safe) it reached the user's output.
    import threading
    import warnings

    caught: list[warnings.WarningMessage] = []

    def login() -> None:
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            from snowflake.connector import connect

            connect(**timeouts.connector_params(emu.server.connection_params(),
                                                timeouts.connector_version())).close()
        caught.extend(got)

    t = threading.Thread(target=login)
    t.start()
    t.join(60)
    assert not [w for w in caught if issubclass(w.category, FutureWarning)], [str(w.message) for w in caught]


# ---- the emulator's silence -----------------------------------------------------------------------------------
def test_a_silent_account_holds_requests_and_drops_them_when_it_answers_again(emu: Any) -> None:
    conn = _connect({**emu.server.connection_params(), "socket_timeout": 1, "retry_max_attempts": 1})
    try:
        emu.emulator.inject(hang_matching=r"^CREATE ROLE HELD")
        with pytest.raises(Exception):  # noqa: B017 - the connector's own error: it gave up waiting
            conn.cursor().execute("CREATE ROLE HELD")
        assert emu.emulator.silence.hung and emu.emulator.silence.held >= 1
        emu.emulator.inject(hang=False)
        assert emu.rows("SHOW ROLES LIKE 'HELD'") == []  # what was held never took effect
    finally:
        emu.emulator.inject(hang=False)
        conn.close()


def test_after_one_statement_got_no_answer_the_next_are_refused_at_once(emu: Any) -> None:
    db = Db({**emu.server.connection_params(), "login_timeout": 3, "socket_timeout": 2, "retry_max_attempts": 1})
    try:
        with db.session() as first, db.session() as second:  # both logged in while the account answers
            emu.emulator.inject(hang=True)
            with pytest.raises(timeouts.NoAnswer, match=r"did not answer within \d+ s \(CREATE ROLE R1\)"):
                db.run(first, Stmt(("CREATE ROLE R1",)))
            held = emu.emulator.silence.held
            with pytest.raises(timeouts.NoAnswer, match=r"not sent \(CREATE ROLE R2\): the account stopped answering"):
                db.run(second, Stmt(("CREATE ROLE R2",)))
            assert emu.emulator.silence.held == held  # refused here: it never reached the account
    finally:
        emu.emulator.inject(hang=False)
        db.close()


# ---- an apply whose account stops answering --------------------------------------------------------------------
def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spcs_iac", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=OUTER_BOUND)


@pytest.mark.slow
def test_cli_apply_fails_in_bounded_time_names_the_object_and_releases_the_lock(emu: Any, tmp_path: Path) -> None:
    (tmp_path / "stack.py").write_text(STACK)
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    env |= {"PYTHONPATH": str(ROOT), "AWS_EC2_METADATA_DISABLED": "true", "SNOWFLAKE_HOME": str(tmp_path),
            "SNOWFLAKE_ACCOUNT": "emu", "SNOWFLAKE_USER": "admin", "SNOWFLAKE_PASSWORD": "not-a-real-password",
            "SNOWFLAKE_HOST": "127.0.0.1", "SNOWFLAKE_PORT": str(emu.port), "SNOWFLAKE_PROTOCOL": "http",
            "SNOWFLAKE_ROLE": "ACCOUNTADMIN", "SNOWFLAKE_LOGIN_TIMEOUT": "3", "SNOWFLAKE_SOCKET_TIMEOUT": "2"}
    apply = ("apply", str(tmp_path / "stack.py"), "-t", "snowflake", "--yes", "--state-dir", str(state))
    emu.emulator.inject(hang_matching=POOL_CREATE)
    try:
        r = _cli(env, *apply)  # returns: subprocess.run raises TimeoutExpired past OUTER_BOUND
        assert r.returncode == 1, r.stdout + r.stderr
        failed = [line for line in r.stderr.splitlines() if "x compute_pool.APP_POOL:" in line]
        assert failed and "the account did not answer within" in failed[0], r.stderr
        assert "CREATE COMPUTE POOL APP_POOL" in failed[0] and "nothing after it ran" in failed[0]
        assert "create grant.PUBLIC:COMPUTE POOL:APP_POOL" in r.stderr  # its dependent was skipped
        entries = _entries(state)
        assert set(FIRST) <= set(entries) and "compute_pool.APP_POOL" not in entries
        assert _lock_is_free(state)

        # Still silent: the next apply takes the lock and fails at its login, in bounded time too.
        r = _cli(env, *apply)
        assert r.returncode == 1 and "did not answer within" in r.stderr and "lock" not in r.stderr, r.stderr
        assert _lock_is_free(state)
    finally:
        emu.emulator.inject(hang=False)
    r = _cli(env, *apply)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "compute_pool.APP_POOL" in _entries(state)


@pytest.mark.slow
def test_api_apply_with_timeouts_from_connections_toml(emu: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("SNOWFLAKE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SNOWFLAKE_HOME", str(tmp_path))
    (tmp_path / "connections.toml").write_text(
        f'[emu]\naccount = "emu"\nuser = "admin"\npassword = "x"\nhost = "127.0.0.1"\nport = {emu.port}\n'
        'protocol = "http"\nrole = "ACCOUNTADMIN"\nlogin_timeout = 3\nsocket_timeout = 2\nretry_max_attempts = 2\n')
    state = tmp_path / "state"
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = api.apply(_stack(), target="snowflake", state_dir=str(state), connection="emu")
        except BaseException as exc:  # reported below, with the test's own assertion
            outcome["error"] = exc

    emu.emulator.inject(hang_matching=POOL_CREATE)
    try:
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(OUTER_BOUND)
        assert not worker.is_alive(), f"apply still running after {OUTER_BOUND} s"
    finally:
        emu.emulator.inject(hang=False)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert "the account did not answer within" in result.failed["compute_pool.APP_POOL"]
    assert "create grant.PUBLIC:COMPUTE POOL:APP_POOL" in result.skipped
    assert set(FIRST) <= set(_entries(state))
    assert _lock_is_free(state)
    again = api.apply(_stack(), target="snowflake", state_dir=str(state), connection="emu")
    assert again.ok, again.failed

