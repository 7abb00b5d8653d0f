"""Engine tests against the in-memory provider: ordering, parallel walk, failures, drift, deletes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spcs_iac import Role, Stack, Warehouse
from spcs_iac.drivers import api
from spcs_iac.plan.model import Action
from spcs_iac.plan.running import NOT_READY
from spcs_iac.state.store import StateStore
from tests.engine.stacks import app_stack
from tests.support.memory_provider import MemoryProvider, MemoryTarget


@pytest.fixture
def target() -> MemoryTarget:
    return MemoryTarget()


def run(stack: Stack, target: MemoryTarget, tmp_path: Path, *, destroy: bool = False, parallelism: int = 8,
        **consent: bool):
    provider = MemoryProvider(target=target)
    if destroy:
        return api.destroy(stack, "memory", provider=provider, state_dir=tmp_path, parallelism=parallelism,
                           **consent)
    return api.apply(stack, "memory", provider=provider, state_dir=tmp_path, parallelism=parallelism, **consent)


def plan(stack: Stack, target: MemoryTarget, tmp_path: Path, **kw):
    return api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=tmp_path, **kw)


def test_first_plan_creates_everything_in_dependency_order(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    p = plan(stack, target, tmp_path)
    assert {c.action for c in p.actionable} == {Action.CREATE}
    assert p.summary()["create"] == len(stack)
    order = [c.address for c in p.actionable]
    for c in p.actionable:
        for dep in c.depends_on:
            assert order.index(dep) < order.index(c.address), (dep, c.address)
    # the role's grants come before the objects the role owns (they give it its privileges)
    assert order.index("grant.APP_ROLE:ACCOUNT") < order.index("compute_pool.APP_POOL")
    assert order.index("grant.APP_ROLE:INTEGRATION:APP_EAI") < order.index("service.APP_DB.PUBLIC.API")


def test_apply_then_plan_is_empty_and_reapply_does_nothing(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    result = run(stack, target, tmp_path)
    assert result.ok, result.failed
    assert len(target.ops) == len(stack)
    again = plan(stack, target, tmp_path)
    assert not again.has_changes, [c.to_json() for c in again.actionable]
    ops_before = len(target.ops)
    assert run(stack, target, tmp_path).ok
    assert len(target.ops) == ops_before


def test_reads_are_batched_once_per_plan(tmp_path, target):
    stack = app_stack(tmp_path / "ctx", warehouses=50)
    plan(stack, target, tmp_path)
    assert target.reads == 1


def test_independent_branches_run_in_parallel_and_dependents_wait(tmp_path, target):
    target.latency = 0.05
    stack = app_stack(tmp_path / "ctx", warehouses=6)
    assert run(stack, target, tmp_path, parallelism=8).ok
    spans = {o.address: o for o in target.ops}
    warehouses = [spans[f"warehouse.WH_{i}"] for i in range(6)]
    overlapping = max(sum(1 for w in warehouses if w.start < x.end and x.start < w.end) for x in warehouses)
    assert overlapping >= 4  # several warehouses were being created at the same time
    pool, svc, fn = spans["compute_pool.APP_POOL"], spans["service.APP_DB.PUBLIC.API"], spans[
        "service_function.APP_DB.PUBLIC.SCORE(FLOAT)"]
    assert svc.start >= pool.end and fn.start >= svc.end


def test_parallelism_one_is_sequential(tmp_path, target):
    target.latency = 0.01
    stack = app_stack(tmp_path / "ctx", warehouses=4)
    assert run(stack, target, tmp_path, parallelism=1).ok
    ops = sorted(target.ops, key=lambda o: o.start)
    assert all(a.end <= b.start for a, b in zip(ops, ops[1:], strict=False))


def test_failure_stops_only_dependents_and_rerun_converges(tmp_path, target):
    stack = app_stack(tmp_path / "ctx", warehouses=3)
    target.fail.add(("create", "compute_pool.APP_POOL"))
    result = run(stack, target, tmp_path)
    assert set(result.failed) == {"compute_pool.APP_POOL"}
    assert "create service.APP_DB.PUBLIC.API" in result.skipped
    assert "create service_function.APP_DB.PUBLIC.SCORE(FLOAT)" in result.skipped
    assert all(f"warehouse.WH_{i}" in target.objects for i in range(3))  # the rest finished
    state = StateStore("app", "memory", tmp_path)
    assert "warehouse.WH_0" in state.entries and "compute_pool.APP_POOL" not in state.entries
    second = plan(stack, target, tmp_path)
    assert {c.address for c in second.actionable} == {
        "compute_pool.APP_POOL", "service.APP_DB.PUBLIC.API", "service_function.APP_DB.PUBLIC.SCORE(FLOAT)"}
    assert run(stack, target, tmp_path).ok
    assert not plan(stack, target, tmp_path).has_changes


@pytest.mark.parametrize("k", range(1, 13))
def test_failure_at_every_operation_then_rerun_converges(tmp_path, target, k):
    stack = app_stack(tmp_path / "ctx")
    assert len(stack) == 12  # k covers every operation of the first apply
    target.fail_at = k
    first = run(stack, target, tmp_path, parallelism=3)
    assert not first.ok
    assert run(stack, target, tmp_path).ok
    assert not plan(stack, target, tmp_path).has_changes
    assert set(target.objects) == set(stack.resources())  # nothing lost, nothing duplicated


def test_objects_removed_from_the_stack_are_deleted_only_if_managed(tmp_path, target):
    stack = app_stack(tmp_path / "ctx", warehouses=2)
    assert run(stack, target, tmp_path).ok
    target.objects["warehouse.HAND_MADE"] = {"comment": None}  # not ours: must never be touched
    smaller = app_stack(tmp_path / "ctx", warehouses=1)
    p = plan(smaller, target, tmp_path)
    deletes = [c.address for c in p.actionable if c.action is Action.DELETE]
    assert deletes == ["warehouse.WH_1"]
    assert run(smaller, target, tmp_path).ok
    assert "warehouse.HAND_MADE" in target.objects and "warehouse.WH_1" not in target.objects


def test_replace_propagates_and_orders_delete_before_create(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    assert run(stack, target, tmp_path).ok
    changed = app_stack(tmp_path / "ctx", repo_encryption="SNOWFLAKE_SSE")
    p = plan(changed, target, tmp_path)
    actions = {c.address: c.action for c in p.actionable}
    repo, image, svc = ("image_repository.APP_DB.PUBLIC.REPO", "image.APP_DB.PUBLIC.REPO/api:v1",
                        "service.APP_DB.PUBLIC.API")
    assert actions[repo] is Action.REPLACE
    assert actions[image] is Action.REPLACE  # an image cannot outlive its repository
    assert actions[svc] is Action.UPDATE  # the new digest is known only after the push
    spec_change = next(f for f in p.get(svc).fields if f.name == "spec")
    assert spec_change.known_after_apply
    target.ops.clear()
    assert run(changed, target, tmp_path).ok
    seq = [(o.verb, o.address) for o in sorted(target.ops, key=lambda o: o.start)]
    assert seq.index(("delete", image)) < seq.index(("delete", repo)) < seq.index(("create", repo))
    assert seq.index(("create", repo)) < seq.index(("create", image)) < seq.index(("update", svc))
    assert not plan(changed, target, tmp_path).has_changes


def test_image_rebuild_flows_into_services(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    assert run(stack, target, tmp_path).ok
    (tmp_path / "ctx" / "app.py").write_text("print('v2')\n")
    p = plan(app_stack(tmp_path / "ctx"), target, tmp_path)
    actions = {c.address: c.action for c in p.actionable}
    assert actions == {"image.APP_DB.PUBLIC.REPO/api:v1": Action.UPDATE, "service.APP_DB.PUBLIC.API": Action.UPDATE}
    assert run(app_stack(tmp_path / "ctx"), target, tmp_path).ok
    assert not plan(app_stack(tmp_path / "ctx"), target, tmp_path).has_changes


def test_hand_changes_show_up_as_updates(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    assert run(stack, target, tmp_path).ok
    target.objects["compute_pool.APP_POOL"]["max_nodes"] = 5
    p = plan(stack, target, tmp_path)
    [c] = p.actionable
    assert c.action is Action.UPDATE and c.address == "compute_pool.APP_POOL"
    assert [(f.name, f.before, f.after) for f in c.fields] == [("max_nodes", 5, 1)]
    assert "changed outside spcs-iac" in (c.reason or "")


def test_an_object_reported_not_ready_is_updated_to_start_again_not_shown_as_drift(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    assert run(stack, target, tmp_path).ok
    svc = "service.APP_DB.PUBLIC.API"
    target.objects[svc][NOT_READY] = "instance 0: container api keeps restarting"
    [c] = plan(stack, target, tmp_path).actionable
    assert c.address == svc and c.action is Action.UPDATE and c.changed_fields == {"status"}
    assert c.reason == "not READY: instance 0: container api keeps restarting"
    ops = len(target.ops)
    assert run(stack, target, tmp_path).ok
    assert [(o.verb, o.address) for o in target.ops[ops:]] == [("update", svc)]
    assert not plan(stack, target, tmp_path).has_changes


def test_objects_deleted_by_hand_are_recreated(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    assert run(stack, target, tmp_path).ok
    del target.objects["database.APP_DB"]
    c = plan(stack, target, tmp_path).get("database.APP_DB")
    assert c.action is Action.CREATE and "deleted outside" in (c.reason or "")


def test_existing_objects_are_imported_not_created_twice(tmp_path, target):
    target.objects["role.APP_ROLE"] = {"owner": "USERADMIN", "comment": "old"}
    stack = app_stack(tmp_path / "ctx", comment="new")
    c = plan(stack, target, tmp_path).get("role.APP_ROLE")
    assert c.action is Action.IMPORT
    assert [(f.name, f.before, f.after) for f in c.fields] == [("comment", "old", "new")]
    assert run(stack, target, tmp_path, adopt=True).ok
    assert [o.verb for o in target.ops if o.address == "role.APP_ROLE"] == ["update"]
    assert "role.APP_ROLE" in StateStore("app", "memory", tmp_path).entries


def test_destroy_walks_in_reverse_and_leaves_unmanaged_objects(tmp_path, target):
    stack = app_stack(tmp_path / "ctx", warehouses=2)
    assert run(stack, target, tmp_path).ok
    target.objects["warehouse.HAND_MADE"] = {}
    target.ops.clear()
    result = run(stack, target, tmp_path, destroy=True)
    assert result.ok
    assert set(target.objects) == {"warehouse.HAND_MADE"}
    seq = [o.address for o in sorted(target.ops, key=lambda o: o.start)]
    assert seq.index("service_function.APP_DB.PUBLIC.SCORE(FLOAT)") < seq.index("service.APP_DB.PUBLIC.API")
    assert seq.index("service.APP_DB.PUBLIC.API") < seq.index("compute_pool.APP_POOL")
    assert StateStore("app", "memory", tmp_path).entries == {}


def test_secrets_never_reach_plan_output_or_state(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    p = plan(stack, target, tmp_path)
    assert "s3cr3t-value" not in json.dumps(p.to_json())
    assert run(stack, target, tmp_path).ok
    assert "s3cr3t-value" not in (tmp_path / "app.memory.json").read_text()


def test_changed_secret_value_is_detected_from_the_state_hash(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    assert run(stack, target, tmp_path).ok
    stack2 = app_stack(tmp_path / "ctx")
    stack2.get("APP_DB.PUBLIC.API_KEY").secret_string = "rotated"
    c = plan(stack2, target, tmp_path).get("secret.APP_DB.PUBLIC.API_KEY")
    assert c.action is Action.UPDATE
    assert c.fields[0].to_json()["after"] == "(sensitive)"


def test_owner_roles_of_unmanaged_names_add_no_edges(tmp_path, target):
    s = Stack("plain")
    s.add(Warehouse(name="W", owner="SYSADMIN"))
    s.add(Role(name="R", owner="USERADMIN"))
    assert plan(s, target, tmp_path).summary()["create"] == 2


def test_spec_changes_say_which_paths_changed(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    assert run(stack, target, tmp_path).ok
    changed = app_stack(tmp_path / "ctx")
    svc = changed.get("APP_DB.PUBLIC.API")
    svc.spec.containers[0].env = {"MODE": "debug", "WORKERS": "2"}
    svc.spec.endpoints[0].port = 9090
    c = plan(changed, target, tmp_path).get("service.APP_DB.PUBLIC.API")
    assert c.action is Action.UPDATE
    [spec] = c.fields
    assert spec.detail == ["spec.containers[0].env.MODE: 'prod' -> 'debug'", "spec.endpoints[0].port: 8080 -> 9090"]


def test_adopting_keeps_the_outputs_the_target_reports(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    target.objects["image_repository.APP_DB.PUBLIC.REPO"] = {"owner": "APP_ROLE", "encryption": "SNOWFLAKE_FULL",
                                                             "comment": None}
    target.outputs["image_repository.APP_DB.PUBLIC.REPO"] = {"repository_url": "host/app_db/public/repo"}
    assert plan(stack, target, tmp_path).get("image_repository.APP_DB.PUBLIC.REPO").action is Action.IMPORT
    assert run(stack, target, tmp_path, adopt=True).ok
    entry = StateStore("app", "memory", tmp_path).entries["image_repository.APP_DB.PUBLIC.REPO"]
    assert entry.outputs["repository_url"] == "host/app_db/public/repo"


def test_adopting_an_object_that_differs_in_a_replace_field_replaces_it(tmp_path, target):
    stack = app_stack(tmp_path / "ctx")
    target.objects["image_repository.APP_DB.PUBLIC.REPO"] = {"owner": "APP_ROLE", "encryption": "SNOWFLAKE_SSE",
                                                             "comment": None}
    c = plan(stack, target, tmp_path).get("image_repository.APP_DB.PUBLIC.REPO")
    assert c.action is Action.REPLACE and "cannot change in place" in (c.reason or "")


def test_quoted_lower_case_owner_is_compared_in_stored_form(tmp_path, target):
    s = Stack("q")
    s.add(Warehouse(name="W", owner='"ops"'))
    assert s.get("W").owner_name == "ops"
    assert s.get("W").desired()["owner"] == '"ops"'
    assert run(s, target, tmp_path).ok
    assert not plan(s, target, tmp_path).has_changes
