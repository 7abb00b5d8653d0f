"""`pulumi preview / up / destroy` with the real CLI and the dynamic providers (in-memory target)."""

from __future__ import annotations

import json
from pathlib import Path

STACK = """
import os
from spcs_iac import ComputePool, Database, NetworkRule, Role, Secret, Stack, Warehouse

stack = Stack("pulumi-demo")
role = stack.add(Role(name="DEMO_ROLE"))
db = stack.add(Database(name="DEMO_DB", owner=role))
stack.add(Warehouse(name="DEMO_WH", auto_suspend=int(os.environ.get("WH_SUSPEND", "60")), owner=role))
stack.add(NetworkRule(name="DEMO_RULE", database=db, type=os.environ.get("RULE_TYPE", "HOST_PORT"),
                      mode="EGRESS", value_list=[os.environ.get("RULE_VALUE", "example.com:443")]))
stack.add(ComputePool(name="DEMO_POOL", instance_family="CPU_X64_XS", owner=role))
stack.add(Secret(name="DEMO_KEY", database=db, type="GENERIC_STRING", secret_string="plain-secret-value"))
"""


def objects(tmp_path: Path) -> dict:
    path = tmp_path / "spcs" / "memory-target.json"
    return json.loads(path.read_text())["objects"] if path.exists() else {}


def test_preview_up_noop_update_replace_destroy(tmp_path, pulumi_project):
    stack_file = tmp_path / "demo_stack.py"
    stack_file.write_text(STACK)
    p = pulumi_project(stack_file, "memory")

    steps = p.preview()
    assert sorted(steps) == ["create"] and len(steps["create"]) == 6
    assert "warehouse.DEMO_WH" in steps["create"]

    p.up()
    assert set(objects(tmp_path)) == {
        "role.DEMO_ROLE", "database.DEMO_DB", "warehouse.DEMO_WH", "network_rule.DEMO_DB.PUBLIC.DEMO_RULE",
        "compute_pool.DEMO_POOL", "secret.DEMO_DB.PUBLIC.DEMO_KEY"}
    state = p.run("stack", "export").stdout
    assert "plain-secret-value" not in state  # only the salted hash reaches Pulumi's state

    assert set(p.preview()) <= {"same"}  # a second preview shows no changes

    steps = p.preview(extra_env={"WH_SUSPEND": "300"})
    assert steps.get("update") == ["warehouse.DEMO_WH"]

    steps = p.preview(extra_env={"RULE_TYPE": "IPV4", "RULE_VALUE": "10.0.0.0/8"})
    assert steps.get("replace") == ["network_rule.DEMO_DB.PUBLIC.DEMO_RULE"]
    # delete-before-replace: the old rule goes before the new one is created (names are unique)
    p.up(extra_env={"RULE_TYPE": "IPV4", "RULE_VALUE": "10.0.0.0/8"})
    assert objects(tmp_path)["network_rule.DEMO_DB.PUBLIC.DEMO_RULE"]["type"] == "IPV4"
    log = p.run("stack", "history", "--json").stdout
    assert json.loads(log)[0]["resourceChanges"].get("replace") == 1

    # `pulumi refresh` reads the target through the same provider: an object deleted by hand drops out of
    # Pulumi's state, and the next `up` creates it again.
    target_file = tmp_path / "spcs" / "memory-target.json"
    data = json.loads(target_file.read_text())
    del data["objects"]["warehouse.DEMO_WH"]
    target_file.write_text(json.dumps(data))
    env = {"RULE_TYPE": "IPV4", "RULE_VALUE": "10.0.0.0/8"}
    p.run("refresh", "--yes", "--skip-preview", extra_env=env)
    assert p.preview(extra_env=env).get("create") == ["warehouse.DEMO_WH"]
    p.up(extra_env=env)
    assert "warehouse.DEMO_WH" in objects(tmp_path)

    p.destroy()
    assert objects(tmp_path) == {}


def test_a_provider_pointed_elsewhere_replaces_its_resources(tmp_path, pulumi_project):
    """Another state directory (or target, or account) is another place: Pulumi's preview shows every
    resource replaced, and the update makes them there and removes them from the old place, rather than
    keeping state that names objects of the old place."""
    stack_file = tmp_path / "demo_stack.py"
    stack_file.write_text(STACK)
    p = pulumi_project(stack_file, "memory")
    p.up()
    names = sorted(objects(tmp_path))
    assert len(names) == 6

    p.config("spcs-iac:stateDir", str(tmp_path / "elsewhere"))
    steps = p.preview()
    assert "same" not in steps and sorted(steps.get("replace", [])) == sorted(
        n.replace("::", ":") for n in names), steps
    p.up()
    assert objects(tmp_path) == {}
    moved = json.loads((tmp_path / "elsewhere" / "memory-target.json").read_text())["objects"]
    assert sorted(moved) == names
    assert set(p.preview()) <= {"same"}

    # A setting that does not move the objects (the opt-in to drop containers) is no replacement.
    p.config("spcs-iac:destroyAdopted", "true")
    assert set(p.preview()) <= {"same"}


GRANTS = """
import spcs_iac.pulumi as spcs

role = spcs.Role("role", name="G_ROLE")
db = spcs.Database("db", name="G_DB")
app = spcs.Schema("app", name="APP", database=db)
pool = spcs.ComputePool("pool", name="G_POOL", instance_family="CPU_X64_XS")
svc = spcs.Service("svc", name="SVC", database=db, compute_pool=pool, spec={
    "containers": [{"name": "main", "image": "registry.example.com/app:1"}],
    "endpoints": [{"name": "api", "port": 8080}]})
fn = spcs.ServiceFunction("fn", name="FN", database=db, service=svc, endpoint="api", path="/f",
                          arguments=[{"name": "x", "datatype": "INT"}], returns="INT")
for label, on, privileges in [("on_db", db, ["USAGE"]), ("on_schema", app, ["USAGE"]),
                              ("on_pool", pool, ["USAGE"]), ("on_fn", fn, ["USAGE"])]:
    spcs.Grant(label, to=role, on=on, privileges=privileges)
"""


def test_a_grant_on_a_resource_takes_its_type_from_the_resources_kind(tmp_path, pulumi_project):
    p = pulumi_project(program=GRANTS, target="memory")
    steps = p.preview()
    assert sorted(steps["create"]) == ["app", "db", "fn", "on_db", "on_fn", "on_pool", "on_schema", "pool",
                                       "role", "svc"], steps
    p.up()
    assert {a for a in objects(tmp_path) if a.startswith("grant.")} == {
        "grant.G_ROLE:DATABASE:G_DB", "grant.G_ROLE:SCHEMA:G_DB.APP", "grant.G_ROLE:COMPUTE POOL:G_POOL",
        "grant.G_ROLE:FUNCTION:G_DB.PUBLIC.FN(NUMBER)"}
    assert set(p.preview()) <= {"same"}
