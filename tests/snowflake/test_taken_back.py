"""A service whose apply stopped before it was READY (out of time, or interrupted) is recorded as started;
the next plan takes it back and its apply waits until it is READY, as the create would have, instead of
recording it as done at once (real connector against the emulator)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from spcs_iac import ComputePool, Database, Grant, Role, RoleGrant, Service, Stack
from spcs_iac.drivers import api
from spcs_iac.plan.model import Action, Plan
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.snowflake.support import spec

Factory = Callable[..., SnowflakeProvider]


def _stack() -> Stack:
    s = Stack("taken")
    owner = s.add(Role(name="TB_OWNER"))
    s.add(RoleGrant(role=owner, to_role="ACCOUNTADMIN"))
    s.add(Grant(to=owner, on="ACCOUNT", privileges=["CREATE DATABASE", "CREATE COMPUTE POOL"]))
    db = s.add(Database(name="TB_DB", owner=owner))
    pool = s.add(ComputePool(name="TB_POOL", instance_family="CPU_X64_XS", max_nodes=1, owner=owner))
    s.add(Service(name="TB_SVC", database=db, compute_pool=pool, owner=owner, spec=spec("registry.example.com/a:1")))
    return s


def test_a_service_taken_back_is_waited_for_until_ready(emu: Any, provider: Factory, tmp_path: Path) -> None:
    address = "service.TB_DB.PUBLIC.TB_SVC"
    emu.emulator.inject(ready_delay_s=6.0)  # READY six seconds after its create
    first = api.apply(_stack(), "snowflake", provider=provider(ready_timeout=1), state_dir=str(tmp_path))
    assert address in first.failed and "READY" in first.failed[address], first.failed
    plan: Plan = api.plan(_stack(), "snowflake", provider=provider(), state_dir=str(tmp_path))
    change = plan.get(address)
    assert change.action is Action.IMPORT and change.finishing, change
    assert change.statements[-1] == "-- wait until service TB_DB.PUBLIC.TB_SVC is READY", change.statements
    assert Plan.from_json(plan.to_json()).get(address).finishing  # plans are data: the flag survives JSON
    still = api.apply(_stack(), "snowflake", provider=provider(ready_timeout=1), state_dir=str(tmp_path))
    assert address in still.failed, "a service still starting was recorded as done"
    done = api.apply(_stack(), "snowflake", provider=provider(), state_dir=str(tmp_path))
    assert done.ok, done.failed
    emu.emulator.inject(ready_delay_s=0.0)
    assert not api.plan(_stack(), "snowflake", provider=provider(), state_dir=str(tmp_path)).actionable
