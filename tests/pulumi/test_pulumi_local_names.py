"""On the local target, where nothing exists outside the stacks of its state directory, the Pulumi provider
refuses at preview what names a missing object (a function calling a missing service, a database owned by a
missing role), as `spcs-iac validate` and plans do; objects the program declares, or another stack of the
state directory has, are found. Real Pulumi CLI and provider plugin; nothing runs on Docker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.local.conftest import cli

pytestmark = [pytest.mark.pulumi]

PROGRAM = """
import pulumi
import spcs_iac.pulumi as spcs

cfg = pulumi.Config()
role = spcs.Role("role", name="LN_OWNER")
db = spcs.Database("db", name="LN_DB", owner=cfg.get("owner") or role)
app = spcs.Schema("app", name="APP", database=db, owner=role)
# Names given as text, of objects the program declares before (depends_on: made before, so checked before).
spcs.Stage("files", name="FILES", database="LN_DB", schema="APP", owner="LN_OWNER",
           opts=pulumi.ResourceOptions(depends_on=[app]))
if cfg.get("service"):
    spcs.ServiceFunction("fn", name="FN", database=db, service=cfg.get("service"), endpoint="api", path="/f",
                         arguments=[{"name": "x", "datatype": "INT"}], returns="INT")
"""


def refusals(p) -> list[str]:
    proc = p.run("preview", check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0, said
    return sorted({line.split("has a problem: ", 1)[1].strip() for line in said.splitlines()
                   if "has a problem: " in line})


def test_names_the_local_target_does_not_have_are_refused_at_preview(tmp_path: Path, pulumi_project) -> None:
    p = pulumi_project(program=PROGRAM, target="local")
    assert sorted(p.preview()["create"]) == ["app", "db", "files", "role"]

    hint = ("which the stack does not declare and the local target does not have (nothing exists on the local "
            "target outside the stacks of its state directory: declare it in the stack)")
    p.config("service", "NOPE")
    assert refusals(p) == [f"ServiceFunction LN_DB.PUBLIC.FN(NUMBER): service: names service LN_DB.PUBLIC.NOPE, {hint} "
                           "(given: 'NOPE')"]
    p.run("config", "rm", "service")
    p.config("owner", "GHOST")
    assert refusals(p) == [f"Database LN_DB: owner: names role GHOST, {hint} (given: 'GHOST')"]

    # A role another stack of the state directory has is there.
    shared = tmp_path / "shared.py"
    shared.write_text('from spcs_iac import Role, Stack\nstack = Stack("ln-shared")\nstack.add(Role(name="GHOST"))\n')
    applied = cli("apply", str(shared), "--target", "local", "--state-dir", str(p.state_dir), "--yes")
    assert applied.exit_code == 0, applied.output
    assert sorted(p.preview()["create"]) == ["app", "db", "files", "role"]
