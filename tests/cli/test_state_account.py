"""The state in the account (snowflake://DB.SCHEMA) as a team's CI runners use it, against the emulator with the
real connector: one lock for all runners, versions kept, a dead holder's lock expires, stale plans refused."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_cli_snowflake import ROOT, cli, serve_emulator
from tests.support.hand import hand_connection

STACK = """
from spcs_iac import Database, Role, Stack, Warehouse

stack = Stack("team")
role = stack.add(Role(name="TEAM_OWNER", owner="ACCOUNTADMIN", comment="{comment}"))
for i in range({n}):
    stack.add(Warehouse(name=f"TEAM_WH_{{i}}", auto_suspend=60, owner="ACCOUNTADMIN"))
stack.add(Database(name="TEAM_DB", owner="ACCOUNTADMIN"))
"""
STATE = "snowflake://OPS_DB.SPCS_IAC_STATE"


@pytest.fixture
def emulator_env(tmp_path: Path):  # type: ignore[no-untyped-def]
    # Each statement takes 100 ms, as over a network: an apply lasts long enough for a second runner to meet it.
    yield from serve_emulator(tmp_path, "--latency-ms", "100")


@pytest.fixture
def team(tmp_path: Path, emulator_env: dict[str, str]) -> tuple[dict[str, str], Path]:
    env = dict(emulator_env, SPCS_IAC_STATE=STATE)
    with hand_connection(env["SNOWFLAKE_PORT"], role="ACCOUNTADMIN") as con:
        con.cursor().execute("CREATE DATABASE OPS_DB")
    stack = tmp_path / "team.py"
    stack.write_text(STACK.format(comment="v1", n=3))
    return env, stack


def _query(env: dict[str, str], sql: str) -> list[tuple]:
    with hand_connection(env["SNOWFLAKE_PORT"], role="ACCOUNTADMIN") as con:
        return con.cursor().execute(sql).fetchall()


def test_state_lives_in_the_account_with_its_history(team) -> None:  # type: ignore[no-untyped-def]
    env, stack = team
    r = cli(env, "apply", str(stack), "-t", "snowflake", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(Path(env["SPCS_IAC_STATE_DIR"]).glob("team.*.json"))  # nothing on this runner's disk
    r = cli(env, "plan", str(stack), "-t", "snowflake", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr
    rows = _query(env, "SELECT STACK, TARGET, SERIAL, OBJECTS FROM OPS_DB.SPCS_IAC_STATE.SPCS_IAC_STATE "
                       "ORDER BY SERIAL")
    assert rows and rows[-1][:2] == ("team", "snowflake") and int(rows[-1][3]) == 5
    r = cli(env, "state", "list", str(stack), "-t", "snowflake")
    assert "warehouse.TEAM_WH_0" in r.stdout and "snowflake://OPS_DB.SPCS_IAC_STATE" in r.stdout
    r = cli(env, "state", "history", str(stack), "-t", "snowflake")
    assert r.returncode == 0 and "apply" in r.stdout and "5 objects" in r.stdout, r.stdout + r.stderr
    assert _query(env, "SELECT COUNT(*) FROM OPS_DB.SPCS_IAC_STATE.SPCS_IAC_JOURNAL")[0][0] == 0  # folded


def test_two_applies_one_proceeds_the_other_fails_at_once_naming_the_holder(team) -> None:  # type: ignore[no-untyped-def]
    env, stack = team
    stack.write_text(STACK.format(comment="v1", n=60))  # an apply long enough for a second one to meet it
    slow = env
    args = [sys.executable, "-m", "spcs_iac", "apply", str(stack), "-t", "snowflake", "--yes", "--parallelism", "1"]
    first = subprocess.Popen(args, cwd=ROOT, env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_lock(env)
    t0 = time.monotonic()
    second = cli(env, "apply", str(stack), "-t", "snowflake", "--yes")
    assert second.returncode == 1 and time.monotonic() - t0 < 30
    text = " ".join(second.stderr.split())
    assert "is locked by apply" in text and "pid" in text and f"force-unlock {stack}" in text, text
    out, err = first.communicate(timeout=180)
    assert first.returncode == 0, out + err
    # waiting for the lock instead of failing
    stack.write_text(STACK.format(comment="v2", n=60))
    first = subprocess.Popen(args, cwd=ROOT, env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_lock(env)
    waited = cli(env, "apply", str(stack), "-t", "snowflake", "--yes", "--lock-timeout", "120")
    assert first.wait(180) == 0
    assert waited.returncode == 0, waited.stdout + waited.stderr


def test_a_killed_holders_lock_expires_and_nothing_is_created_twice(team) -> None:  # type: ignore[no-untyped-def]
    env, stack = team
    stack.write_text(STACK.format(comment="v1", n=30))
    env = dict(env, SPCS_IAC_LOCK_LEASE="20")  # long enough for the next CLI to start, even on a busy machine
    args = [sys.executable, "-m", "spcs_iac", "apply", str(stack), "-t", "snowflake", "--yes", "--parallelism", "1"]
    holder = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    _wait_for_lock(env)
    killed_at = time.monotonic()
    time.sleep(1.0)
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    r = cli(env, "apply", str(stack), "-t", "snowflake", "--yes")
    assert r.returncode == 1 and "is locked" in r.stderr  # not expired yet
    time.sleep(max(0.0, killed_at + 21 - time.monotonic()))
    r = cli(env, "apply", str(stack), "-t", "snowflake", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "already exists" not in r.stdout + r.stderr
    r = cli(env, "plan", str(stack), "-t", "snowflake", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout  # the state and the account agree
    pulled = json.loads(cli(env, "state", "pull", str(stack), "-t", "snowflake").stdout)
    assert len(pulled["resources"]) == 32 and not pulled["pending"]


def test_a_saved_plan_is_refused_after_another_apply_changed_the_state(team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env, stack = team
    assert cli(env, "apply", str(stack), "-t", "snowflake", "--yes").returncode == 0
    stack.write_text(STACK.format(comment="v2", n=3))
    plan_file = tmp_path / "plan.json"
    assert cli(env, "plan", str(stack), "-t", "snowflake", "--out", str(plan_file)).returncode == 0
    other = tmp_path / "other.py"
    other.write_text(STACK.format(comment="v3", n=3))
    assert cli(env, "apply", str(other), "-t", "snowflake", "--yes").returncode == 0  # a second runner
    r = cli(env, "apply", str(plan_file))
    assert r.returncode == 1 and "stale" in r.stderr and "serial" in r.stderr, r.stderr
    assert cli(env, "plan", str(stack), "-t", "snowflake", "--out", str(plan_file)).returncode == 0
    r = cli(env, "apply", str(plan_file))
    assert r.returncode == 0, r.stdout + r.stderr
    assert cli(env, "plan", str(stack), "-t", "snowflake", "--detailed-exitcode").returncode == 0


def test_a_missing_database_says_what_the_role_needs(team) -> None:  # type: ignore[no-untyped-def]
    env, stack = team
    env = dict(env, SPCS_IAC_STATE="snowflake://NO_SUCH_DB.STATE")
    r = cli(env, "plan", str(stack), "-t", "snowflake")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    text = " ".join(r.stderr.split())
    assert "cannot create the state tables" in text and "USAGE on the database" in text, text


def test_the_ci_recipe_as_two_parallel_runners(team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env, stack = team
    recipe = str(ROOT / "examples" / "ci" / "spcs-iac-ci.sh")
    env = dict(env, SPCS_IAC_CMD=f"{sys.executable} -m spcs_iac", SPCS_IAC_LOCK_TIMEOUT="120")
    plans = [tmp_path / "a.json", tmp_path / "b.json"]
    for p in plans:  # both pull requests planned against the same state
        r = subprocess.run(["bash", recipe, "plan", str(stack), str(p)], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr
    runners = [subprocess.Popen(["bash", recipe, "apply", str(p)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in plans]
    results = [(r.wait(240), r.stdout.read() + r.stderr.read()) for r in runners]  # type: ignore[union-attr]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results  # one applied its plan; the other waited for the lock, then found it stale
    assert any("stale" in text for code, text in results if code == 1), results
    r = cli(env, "plan", str(stack), "-t", "snowflake", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout


def _wait_for_lock(env: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rows = _query(env, "SELECT LOCK_ID FROM OPS_DB.SPCS_IAC_STATE.SPCS_IAC_LOCKS WHERE LOCK_ID IS NOT NULL")
        except Exception:  # the tables are created by the first run
            rows = []
        if rows:
            return
        time.sleep(0.1)
    pytest.fail("the first apply never took the lock")

