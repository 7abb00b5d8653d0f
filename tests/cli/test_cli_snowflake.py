"""The CLI against the Snowflake target, with `spcs-iac emulator serve` standing in for an account."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.hand import hand_connection

ROOT = Path(__file__).resolve().parents[2]

STACK = """
from spcs_iac import (ComputePool, Database, ExternalAccessIntegration, NetworkRule, Role, RoleGrant, Grant,
                      Service, ServiceSpec, Stack, Warehouse)

stack = Stack("cli-sf")
role = stack.add(Role(name="APP_OWNER", owner="ACCOUNTADMIN"))
stack.add(RoleGrant(role=role, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN"))
stack.add(Grant(to=role, on="ACCOUNT", privileges=["CREATE DATABASE", "CREATE COMPUTE POOL", "CREATE WAREHOUSE",
                                                    "BIND SERVICE ENDPOINT"], owner="ACCOUNTADMIN"))
db = stack.add(Database(name="APP_DB", owner=role))
rule = stack.add(NetworkRule(name="OUT", database=db, type="HOST_PORT", mode="EGRESS", value_list=["api.example.com"],
                             owner=role))
eai = stack.add(ExternalAccessIntegration(name="APP_EAI", allowed_network_rules=[rule], owner="ACCOUNTADMIN"))
stack.add(Grant(to=role, on=eai, privileges=["USAGE"], owner="ACCOUNTADMIN"))
pool = stack.add(ComputePool(name="APP_POOL", instance_family="CPU_X64_XS", owner=role))
stack.add(Warehouse(name="APP_WH", warehouse_size="XSMALL", auto_suspend=60, owner=role))
stack.add(Service(name="APP_SVC", database=db, compute_pool=pool, external_access_integrations=[eai], owner=role,
                  spec=ServiceSpec.model_validate({"spec": {
                      "containers": [{"name": "main", "image": "registry.example.com/app:1"}],
                      "endpoints": [{"name": "api", "port": 8080}]}})))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def emulator_env(tmp_path):
    yield from serve_emulator(tmp_path)


def serve_emulator(tmp_path, *options: str):
    """`spcs-iac emulator serve` on a free port; yields the environment the CLI connects with."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "spcs_iac", "emulator", "serve", "--port", str(port), *options],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        server.kill()
        pytest.fail(f"emulator did not start: {server.stdout.read() if server.stdout else ''}")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SPCS_IAC_STATE_DIR=str(tmp_path / "state"),
               SNOWFLAKE_ACCOUNT="emu", SNOWFLAKE_USER="admin", SNOWFLAKE_PASSWORD="not-a-real-password",
               SNOWFLAKE_HOST="127.0.0.1", SNOWFLAKE_PORT=str(port), SNOWFLAKE_PROTOCOL="http",
               SNOWFLAKE_ROLE="ACCOUNTADMIN")
    yield env
    server.terminate()
    server.wait(10)


def cli(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spcs_iac", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=180)


def test_snowflake_target_through_the_cli(tmp_path, emulator_env):
    stack = tmp_path / "stack.py"
    stack.write_text(STACK)
    r = cli(emulator_env, "plan", str(stack), "-t", "snowflake", "--detailed-exitcode")
    assert r.returncode == 2, r.stderr
    assert "> USE ROLE APP_OWNER" in r.stdout and "> CREATE COMPUTE POOL APP_POOL MIN_NODES = 1" in r.stdout
    assert "not-a-real-password" not in r.stdout + r.stderr

    r = cli(emulator_env, "apply", str(stack), "-t", "snowflake", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(emulator_env, "plan", str(stack), "-t", "snowflake", "--detailed-exitcode", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["changes"] == []

    r = cli(emulator_env, "status", "APP_DB.PUBLIC.APP_SVC", "-t", "snowflake")
    assert r.returncode == 0, r.stderr
    assert "main" in r.stdout and "READY" in r.stdout
    r = cli(emulator_env, "logs", "APP_DB.PUBLIC.APP_SVC", "-t", "snowflake", "--container", "main")
    assert r.returncode == 0 and "main" in r.stdout, r.stderr
    assert cli(emulator_env, "suspend", "APP_DB.PUBLIC.APP_SVC", "-t", "snowflake").returncode == 0
    r = cli(emulator_env, "status", "APP_DB.PUBLIC.APP_SVC", "-t", "snowflake")
    assert "no containers" in r.stdout, r.stdout
    assert cli(emulator_env, "resume", "APP_DB.PUBLIC.APP_SVC", "-t", "snowflake").returncode == 0
    assert cli(emulator_env, "suspend", "APP_POOL", "-t", "snowflake").returncode == 0
    assert cli(emulator_env, "resume", "APP_POOL", "-t", "snowflake").returncode == 0
    r = cli(emulator_env, "suspend", "NO_SUCH_THING", "-t", "snowflake")
    assert r.returncode == 1 and "no object named NO_SUCH_THING" in r.stderr

    # a hand change on the account shows up as drift
    conn = hand_connection(emulator_env["SNOWFLAKE_PORT"], role="ACCOUNTADMIN")
    conn.cursor().execute("ALTER WAREHOUSE APP_WH SET AUTO_SUSPEND = 999")
    conn.close()
    r = cli(emulator_env, "plan", str(stack), "-t", "snowflake")
    assert "~ warehouse.APP_WH" in r.stdout and "auto_suspend: 999 -> 60" in r.stdout, r.stdout

    r = cli(emulator_env, "destroy", str(stack), "-t", "snowflake", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(emulator_env, "plan", str(stack), "-t", "snowflake", "--json")
    summary = json.loads(r.stdout)
    assert summary["summary"]["create"] == 10, [(c["address"], c["action"]) for c in summary["changes"]]
