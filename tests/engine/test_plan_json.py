"""Plans are data: to_json / from_json round-trip exactly for every kind, the statements compiled from a
plan read back are the ones compiled from the declarations, and no secret is in the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spcs_iac.apply.executor import Executor
from spcs_iac.drivers import api
from spcs_iac.errors import SpcsIacError
from spcs_iac.model.declaration import bind_secrets
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.model import Action, Plan
from spcs_iac.state.store import StateStore
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.snowflake.support import every_kind
from tests.support.memory_provider import MemoryProvider, MemoryTarget

SECRET = "pl4in-s3cret-value"


def _round_trip(plan: Plan) -> Plan:
    return Plan.from_json(json.loads(json.dumps(plan.to_json())))


def _statements(plan: Plan) -> list[list[str]]:
    provider = SnowflakeProvider("everykind", connect=False)  # fresh: role switches start from the default
    return [provider.statements(c, plan.outputs) for c in plan.actionable]


@pytest.fixture
def stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    return every_kind(context, secret=SECRET)


def test_every_kind_round_trips_and_compiles_the_same_sql(stack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = api.plan(stack, "snowflake", provider=SnowflakeProvider("everykind", connect=False), assume_empty=True,
                    state_dir=str(tmp_path / "state"))
    assert {c.kind for c in plan.actionable} == set(KINDS)  # the test covers every kind
    data = plan.to_json()
    back = _round_trip(plan)
    assert back.to_json() == data
    assert all(c.resource is not None and c.resource.address == c.address for c in back.actionable)
    assert _statements(back) == _statements(plan) == [c.statements for c in plan.actionable]
    assert SECRET not in json.dumps(data)


def test_an_update_plan_round_trips_with_observed_values_and_prior_state(stack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = MemoryTarget()
    assert api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path)).ok
    changed = every_kind(tmp_path / "ctx", secret="another", comment="second", size="SMALL")
    plan = api.plan(changed, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path))
    assert {c.action for c in plan.actionable} >= {Action.UPDATE}
    back = _round_trip(plan)
    assert back.to_json() == plan.to_json()
    for a, b in zip(plan.actionable, back.actionable, strict=True):
        assert (b.prior, b.observed, b.desired) == (a.prior, a.observed, a.desired)
        assert [f.to_json() for f in b.fields] == [f.to_json() for f in a.fields]  # sensitive ones masked
    destroy = api.plan(changed, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path),
                       destroy=True)
    assert _round_trip(destroy).to_json() == destroy.to_json()


def test_a_plan_read_back_applies_once_its_secrets_are_bound(stack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = api.plan(stack, "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=str(tmp_path))
    back = _round_trip(plan)
    target = MemoryTarget()
    store = StateStore(stack.name, "memory", tmp_path / "applied")
    with store.locked("apply"):
        result = Executor(back, MemoryProvider(target=target), store).run()
    assert "secret.APP_DB.PUBLIC.API_KEY" in result.failed
    assert "only hashes of its secret values" in result.failed["secret.APP_DB.PUBLIC.API_KEY"]

    declared = stack.resources()
    wrong = _round_trip(plan)
    with pytest.raises(SpcsIacError, match="not the one this plan was made with"):
        bind_secrets(wrong.get("secret.APP_DB.PUBLIC.API_KEY").resource, lambda a, f: "changed")  # type: ignore[arg-type]

    for c in back.actionable:
        if c.resource is not None:
            bind_secrets(c.resource, lambda a, f: getattr(declared[a], f))
    target = MemoryTarget()
    store = StateStore(stack.name, "memory", tmp_path / "bound")
    with store.locked("apply"):
        assert Executor(back, MemoryProvider(target=target), store).run().ok
    again = api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path / "bound"))
    assert not again.has_changes, [c.to_json() for c in again.actionable]


def test_an_unknown_plan_format_is_refused() -> None:
    with pytest.raises(SpcsIacError, match="plan format"):
        Plan.from_json({"format": 99, "stack": "s", "target": "local", "changes": []})
