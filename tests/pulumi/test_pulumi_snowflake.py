"""`pulumi up` of Snowflake kinds through the dynamic providers, against the account emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from spcs_emulator.testing import running_emulator

STACK = """
import os
from spcs_iac import (ComputePool, Database, Grant, NetworkRule, Role, RoleGrant, Service, ServiceSpec, Stack,
                      Warehouse)

stack = Stack("pulumi-sf")
role = stack.add(Role(name="PU_OWNER", owner="ACCOUNTADMIN"))
stack.add(RoleGrant(role=role, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN"))
stack.add(Grant(to=role, on="ACCOUNT", owner="ACCOUNTADMIN", privileges=[
    "CREATE DATABASE", "CREATE WAREHOUSE", "CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT"]))
db = stack.add(Database(name="PU_DB", owner=role))
stack.add(Warehouse(name="PU_WH", auto_suspend=int(os.environ.get("WH_SUSPEND", "60")), owner=role))
stack.add(NetworkRule(name="PU_RULE", database=db, type=os.environ.get("RULE_TYPE", "HOST_PORT"), mode="EGRESS",
                      value_list=[os.environ.get("RULE_VALUE", "example.com:443")], owner=role))
pool = stack.add(ComputePool(name="PU_POOL", instance_family="CPU_X64_XS", owner=role))
stack.add(Service(name="PU_SVC", database=db, compute_pool=pool, owner=role, spec=ServiceSpec.model_validate(
    {"spec": {"containers": [{"name": "main", "image": "registry.example.com/app:" + os.environ.get("TAG", "1")}],
              "endpoints": [{"name": "api", "port": 8080}]}})))
"""


@pytest.fixture
def emulator():
    with running_emulator(ready_delay_s=0.05) as emu:
        yield emu


def names(emu, sql: str) -> set[str]:
    return {r["name"] for r in emu.rows(sql)}


def test_pulumi_against_the_emulator(tmp_path: Path, pulumi_project, emulator):
    stack_file = tmp_path / "sf_stack.py"
    stack_file.write_text(STACK)
    port = emulator.port
    p = pulumi_project(stack_file, "snowflake", extra_env={
        "SNOWFLAKE_ACCOUNT": "emu", "SNOWFLAKE_USER": "admin",
        "SNOWFLAKE_HOST": "127.0.0.1", "SNOWFLAKE_PORT": str(port), "SNOWFLAKE_PROTOCOL": "http",
        "SNOWFLAKE_ROLE": "ACCOUNTADMIN"})

    # The password comes from an encrypted Pulumi config secret, never from the program or the state.
    p.run("config", "set", "--secret", "spcs-iac:password", "emulator-pass-7f3a")
    steps = p.preview()
    assert sorted(steps) == ["create"] and len(steps["create"]) == 8
    p.up()
    assert "PU_POOL" in names(emulator, "SHOW COMPUTE POOLS")
    assert "PU_SVC" in names(emulator, "SHOW SERVICES IN ACCOUNT")
    assert set(p.preview()) <= {"same"}
    assert "emulator-pass-7f3a" not in p.run("stack", "export").stdout

    assert p.preview(extra_env={"WH_SUSPEND": "120"}).get("update") == ["warehouse.PU_WH"]
    assert p.preview(extra_env={"TAG": "2"}).get("update") == ["service.PU_DB.PUBLIC.PU_SVC"]
    steps = p.preview(extra_env={"RULE_TYPE": "IPV4", "RULE_VALUE": "10.0.0.0/8"})
    assert steps.get("replace") == ["network_rule.PU_DB.PUBLIC.PU_RULE"]
    p.up(extra_env={"RULE_TYPE": "IPV4", "RULE_VALUE": "10.0.0.0/8", "TAG": "2"})
    [rule] = [r for r in emulator.rows("SHOW NETWORK RULES IN ACCOUNT") if r["name"] == "PU_RULE"]
    assert rule["type"] == "IPV4"
    assert set(p.preview(extra_env={"RULE_TYPE": "IPV4", "RULE_VALUE": "10.0.0.0/8", "TAG": "2"})) <= {"same"}

    p.destroy()
    assert "PU_POOL" not in names(emulator, "SHOW COMPUTE POOLS")
    assert "PU_DB" not in names(emulator, "SHOW DATABASES")
    assert "PU_OWNER" not in names(emulator, "SHOW ROLES")
