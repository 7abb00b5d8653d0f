"""Native spcs-iac resources on the Snowflake target, against the account emulator (real connector).

The provider gets its connection from its configuration only (the password as a Pulumi secret): the
Pulumi processes run without any SNOWFLAKE_* variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spcs_emulator.testing import running_emulator

pytestmark = [pytest.mark.pulumi, pytest.mark.slow]

PROGRAM = """
import pulumi
import spcs_iac.pulumi as spcs

cfg = pulumi.Config()
role = spcs.Role("role", name="PN_OWNER", owner="ACCOUNTADMIN")
grant = spcs.RoleGrant("grant", role=role, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN")
account = spcs.Grant("account", to=role, on="ACCOUNT", owner="ACCOUNTADMIN", privileges=[
    "CREATE DATABASE", "CREATE WAREHOUSE", "CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT"])
owned = pulumi.ResourceOptions(depends_on=[grant, account])
db = spcs.Database("db", name="PN_DB", owner=role, opts=owned)
wh = spcs.Warehouse("wh", name="PN_WH", auto_suspend=cfg.get_int("suspend") or 60, owner=role, opts=owned)
pool = spcs.ComputePool("pool", name="PN_POOL", instance_family="CPU_X64_XS", owner=role, opts=owned)
# The secret's value is another resource's Output.
key = spcs.Secret("key", name="API_KEY", database=db, type="GENERIC_STRING", owner=role,
                  secret_string=wh.address.apply(lambda a: "sf-key-" + a.split(".")[-1].lower()))


def service(label):
    return spcs.Service(label, name=label.upper(), database=db, compute_pool=pool, owner=role, spec={
        "containers": [{"name": "main", "image": "registry.example.com/app:1",
                        "secrets": [{"snowflakeSecret": key, "secretKeyRef": "secret_string",
                                     "envVarName": "API_KEY"}]}],
        "endpoints": [{"name": "api", "port": 8080}]})


a, b = service("svc_a"), service("svc_b")
spcs.JobService("job", name="PN_JOB", database=db, compute_pool=pool, owner=role, spec={
    "containers": [{"name": "work", "image": "registry.example.com/app:1", "command": ["run"]}]})
spcs.ServiceFunction("fn", name="PN_FN", database=db, service=a, endpoint="api", path="/echo", owner=role,
                     arguments=[{"name": "x", "datatype": "VARCHAR"}], returns="VARCHAR")
pulumi.export("dns", a.dns_name)
"""


@pytest.fixture
def emulator():
    with running_emulator(ready_delay_s=0.05) as emu:
        yield emu


def names(emu, sql: str) -> set[str]:
    return {r["name"] for r in emu.rows(sql)}


def test_native_program_against_the_emulator(tmp_path: Path, pulumi_project, emulator, monkeypatch) -> None:
    for key in [k for k in os.environ if k.startswith("SNOWFLAKE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SNOWFLAKE_HOME", str(tmp_path / "no-snowflake-home"))
    p = pulumi_project(program=PROGRAM, target="snowflake")
    connection = {"account": "emu", "user": "admin", "host": "127.0.0.1", "port": emulator.port,
                  "protocol": "http", "role": "ACCOUNTADMIN"}
    for key, value in connection.items():
        p.run("config", "set", "--path", f"spcs-iac:snowflake.{key}", str(value))
    p.config("spcs-iac:password", "emulator-pass-7f3a", secret=True)

    assert len(p.preview()["create"]) == 11
    p.up()
    assert "PN_POOL" in names(emulator, "SHOW COMPUTE POOLS")
    assert {"SVC_A", "SVC_B"} <= names(emulator, "SHOW SERVICES IN ACCOUNT")
    assert "PN_FN" in names(emulator, "SHOW USER FUNCTIONS IN ACCOUNT")
    assert set(p.preview()) <= {"same"}
    state = p.run("stack", "export").stdout
    assert "emulator-pass-7f3a" not in state and "sf-key-pn_wh" not in state

    p.config("suspend", "120")
    assert {k: v for k, v in p.preview().items() if k != "same"} == {"update": ["wh"]}
    p.up()
    [wh] = [r for r in emulator.rows("SHOW WAREHOUSES") if r["name"] == "PN_WH"]
    assert int(wh["auto_suspend"]) == 120

    assert p.refresh() == {}
    assert set(p.preview()) <= {"same"}

    p.destroy()
    assert "PN_POOL" not in names(emulator, "SHOW COMPUTE POOLS")
    assert "PN_DB" not in names(emulator, "SHOW DATABASES")
    assert "PN_OWNER" not in names(emulator, "SHOW ROLES")
