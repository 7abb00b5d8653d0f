"""Applying a plan made earlier: exactly that plan runs, or the apply refuses it as stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spcs_iac.drivers import api
from spcs_iac.errors import SpcsIacError
from spcs_iac.plan.model import Action, Plan
from tests.engine.stacks import app_stack
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def _saved(stack, target: MemoryTarget, state: Path) -> Plan:  # type: ignore[no-untyped-def]
    plan = api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(state))
    return Plan.from_json(json.loads(json.dumps(plan.to_json())))


def test_a_saved_plan_applies_exactly_and_converges(tmp_path: Path) -> None:
    stack, target = app_stack(tmp_path / "ctx"), MemoryTarget()
    saved = _saved(stack, target, tmp_path)
    result = api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path), saved=saved)
    assert result.ok and result.plan is saved  # type: ignore[attr-defined]
    assert sorted(a for _, a in result.done) == sorted(c.address for c in saved.actionable)
    assert target.objects["secret.APP_DB.PUBLIC.API_KEY"]["secret_string"] != "s3cr3t-value"  # hashed record
    again = api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path))
    assert not again.has_changes, [c.to_json() for c in again.actionable]


def test_a_change_in_the_target_since_the_plan_makes_it_stale(tmp_path: Path) -> None:
    stack, target = app_stack(tmp_path / "ctx"), MemoryTarget()
    assert api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path)).ok
    changed = app_stack(tmp_path / "ctx", comment="new")
    saved = _saved(changed, target, tmp_path)
    assert saved.get("role.APP_ROLE").action is Action.UPDATE
    target.objects["warehouse.WH_0"] = {}  # unrelated: not in the stack
    target.objects["role.APP_ROLE"]["comment"] = "edited by hand"
    with pytest.raises(SpcsIacError, match=r"stale(.|\n)*role.APP_ROLE: the object in the target changed"):
        api.apply(changed, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path), saved=saved)
    assert target.objects["role.APP_ROLE"]["comment"] == "edited by hand"  # nothing was applied


def test_a_changed_declaration_or_secret_makes_it_stale(tmp_path: Path) -> None:
    stack, target = app_stack(tmp_path / "ctx"), MemoryTarget()
    saved = _saved(stack, target, tmp_path)
    other = app_stack(tmp_path / "ctx", family="CPU_X64_S")
    with pytest.raises(SpcsIacError, match="compute_pool.APP_POOL: the declaration changed"):
        api.apply(other, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path), saved=saved)
    for r in stack.resources().values():
        if r.kind == "secret":
            object.__setattr__(r, "secret_string", "rotated")
    with pytest.raises(SpcsIacError, match="secret.APP_DB.PUBLIC.API_KEY: the declaration changed"):
        api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path), saved=saved)
    assert not target.objects


def test_a_plan_for_another_stack_or_a_destroy_is_refused(tmp_path: Path) -> None:
    stack, target = app_stack(tmp_path / "ctx"), MemoryTarget()
    saved = _saved(stack, target, tmp_path)
    with pytest.raises(SpcsIacError, match=r"the plan is for stack app on memory, not .*\(destroy\)"):
        api.destroy(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path), saved=saved)
