"""Pulumi deleting a database or schema (destroy, removal, the delete half of a replace) never drops what the
stack does not manage inside it without the user's word (``spcs-iac:destroyAdopted``), as the CLI refuses
without ``--destroy-adopted``. Real Pulumi CLI, native resources, the account emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spcs_emulator.testing import running_emulator
from tests.pulumi.conftest import on_emulator

pytestmark = [pytest.mark.pulumi, pytest.mark.slow]

PROGRAM = """
import pulumi
import spcs_iac.pulumi as spcs

cfg = pulumi.Config()
db = spcs.Database("db", name="PC_DB")
spcs.Schema("app", name=cfg.get("schema") or "APP", database=db)
"""


@pytest.fixture
def emulator():
    with running_emulator(ready_delay_s=0.05) as emu:
        yield emu


def in_state(p) -> set[str]:
    resources = json.loads(p.run("stack", "export").stdout)["deployment"].get("resources") or []
    return {r["urn"].rsplit("::", 1)[-1] for r in resources if r["type"].startswith("spcs-iac:index:")}


def test_a_container_holding_unmanaged_objects_is_not_dropped_without_consent(
        tmp_path: Path, pulumi_project, emulator, monkeypatch) -> None:
    p = pulumi_project(program=PROGRAM, target="snowflake")
    on_emulator(p, emulator, monkeypatch, tmp_path)
    p.up()
    emulator.rows("CREATE TABLE PC_DB.APP.UNMANAGED (X INT)")
    emulator.rows("INSERT INTO PC_DB.APP.UNMANAGED VALUES (1)")

    def kept() -> None:
        assert emulator.rows("SELECT X FROM PC_DB.APP.UNMANAGED") == [{"x": 1}]
        assert in_state(p) == {"db", "app"}

    # The delete half of a replace (a renamed schema) is refused; the schema stays in Pulumi's state.
    p.config("schema", "APP2")
    proc = p.run("up", "--yes", "--skip-preview", check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "schema.PC_DB.APP holds table PC_DB.APP.UNMANAGED" in said, said
    assert "spcs-iac:destroyAdopted" in said and "Traceback" not in said
    kept()
    p.config("schema", "APP")
    assert set(p.preview()) <= {"same"}

    # So is a destroy.
    proc = p.run("destroy", "--yes", "--skip-preview", check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "holds table PC_DB.APP.UNMANAGED" in said, said
    assert [line for line in said.splitlines() if "holds table" in line][0].rstrip().endswith("first."), said
    kept()

    # With the user's word, it goes (a destroy uses the provider's configuration of the last update, or the
    # program's with --run-program).
    p.config("spcs-iac:destroyAdopted", "true")
    p.run("destroy", "--yes", "--skip-preview", "--run-program")
    assert not emulator.rows("SHOW DATABASES LIKE 'PC_DB'")


STAGED = """
import pulumi
import spcs_iac.pulumi as spcs

role = spcs.Role("role", name="PS_OWNER", owner="ACCOUNTADMIN")
grant = spcs.RoleGrant("grant", role=role, to_role="ACCOUNTADMIN", owner="ACCOUNTADMIN")
account = spcs.Grant("account", to=role, on="ACCOUNT", owner="ACCOUNTADMIN", privileges=[
    "CREATE DATABASE", "CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT"])
owned = pulumi.ResourceOptions(depends_on=[grant, account])
db = spcs.Database("db", name="PS_DB", owner=role, opts=owned)
stage = spcs.Stage("stage", name="SPECS", database=db, owner=role)
pool = spcs.ComputePool("pool", name="PS_POOL", instance_family="CPU_X64_XS", owner=role, opts=owned)
spcs.Service("svc", name="SVC", database=db, compute_pool=pool, spec_stage=stage, spec_file="svc.yaml", owner=role,
             spec={"containers": [{"name": "main", "image": "registry.example.com/app:1"}],
                   "endpoints": [{"name": "api", "port": 8080}]})
"""


def test_the_spec_files_its_own_services_uploaded_do_not_hold_a_stage_back(
        tmp_path: Path, pulumi_project, emulator, monkeypatch) -> None:
    p = pulumi_project(program=STAGED, target="snowflake")
    on_emulator(p, emulator, monkeypatch, tmp_path)
    p.up()
    assert [r["name"] for r in emulator.rows("LIST @PS_DB.PUBLIC.SPECS")] == ["specs/svc.yaml"]
    p.destroy()
    assert not emulator.rows("SHOW DATABASES LIKE 'PS_DB'")
