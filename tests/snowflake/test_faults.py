"""A fault at every statement, in both ways a statement can fail, and the rerun converges.

``before``: the statement fails before it takes effect. ``after``: it takes effect but the reply is
lost (the client sees an error). Either way the apply reports the failure, the next apply finishes
the work without touching what is already right, and the plan after it is empty. Updates are
covered as well as creates: a pool's instance-family change (which suspends the pool and its
services), a warehouse resize, revoked privileges, rotated and new secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spcs_iac import Secret, Stack
from spcs_iac.drivers import api
from tests.snowflake.support import every_kind

MODES = ("before", "after")


def _apply(stack: Stack, provider: Any, state: Path) -> Any:
    return api.apply(stack, target="snowflake", provider=provider(), state_dir=str(state))


def _plan(stack: Stack, provider: Any, state: Path) -> Any:
    return api.plan(stack, target="snowflake", provider=provider(), state_dir=str(state))


def _pending(plan: Any) -> list[tuple[str, str, list[str]]]:
    return [(c.action.value, c.address, sorted(c.changed_fields)) for c in plan.actionable]


def _updated(context: Path) -> Stack:
    stack = every_kind(context, size="SMALL", family="CPU_X64_S", privileges=("USAGE",), secret="rotated")
    db = stack.get("database.APP_DB")
    stack.add(Secret(name="NEW_TOKEN", database=db, type="GENERIC_STRING", secret_string="fresh",
                     owner=db.owner))
    return stack


def _running(emu: Any) -> dict[str, str]:
    """The pool's state and the service's status, as SHOW reports them."""
    session = emu.emulator.login("x", role="ACCOUNTADMIN")
    pool = emu.emulator.execute(session, "SHOW COMPUTE POOLS LIKE 'APP_POOL'").as_dicts()[0]["state"]
    svc = emu.emulator.execute(session, "SHOW SERVICES LIKE 'APP_SVC' IN ACCOUNT").as_dicts()[0]["status"]
    return {"pool": pool, "service": svc}


def _fault_run(emu: Any, provider: Any, tmp_path: Path, mode: str, k: int, before: Stack | None,
               after: Stack) -> None:
    emu.emulator.reset()
    emu.emulator.inject(ready_delay_s=0.01)
    state = tmp_path / f"{mode}{k}"
    if before is not None:
        assert _apply(before, provider, state).ok
    emu.emulator.inject(fail_at=k, fail_mode=mode)
    first = _apply(after, provider, state)
    assert not first.ok, f"statement {k} did not fail ({mode})"
    emu.emulator.inject(fail_at=None)
    second = _apply(after, provider, state)
    assert second.ok, (mode, k, second.failed)
    assert not _plan(after, provider, state).has_changes, (mode, k, _pending(_plan(after, provider, state)))


def _mutations(emu: Any, provider: Any, state: Path, before: Stack | None, after: Stack) -> int:
    emu.emulator.reset()
    emu.emulator.inject(ready_delay_s=0.01)
    if before is not None:
        assert _apply(before, provider, state).ok
    emu.emulator.reset_stats()
    assert _apply(after, provider, state).ok
    return int(emu.emulator.stats()["mutating"])


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_fault_at_every_create_statement_converges(emu: Any, provider: Any, context: Path, tmp_path: Path,
                                                     mode: str) -> None:
    total = _mutations(emu, provider, tmp_path / "baseline", None, every_kind(context))
    assert total >= 15
    for k in range(1, total + 1):
        _fault_run(emu, provider, tmp_path, mode, k, None, every_kind(context))


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_fault_at_every_update_statement_converges_and_leaves_things_running(
        emu: Any, provider: Any, context: Path, tmp_path: Path, mode: str) -> None:
    total = _mutations(emu, provider, tmp_path / "baseline", every_kind(context), _updated(context))
    assert total >= 8
    for k in range(1, total + 1):
        _fault_run(emu, provider, tmp_path, mode, k, every_kind(context), _updated(context))
        assert _running(emu) == {"pool": "ACTIVE", "service": "RUNNING"}, (mode, k)


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_resume_after_a_family_change_is_not_no_changes(
        emu: Any, provider: Any, context: Path, tmp_path: Path, mode: str) -> None:
    assert _apply(every_kind(context), provider, tmp_path).ok
    emu.emulator.inject(fail_matching=r"^ALTER COMPUTE POOL \S+ RESUME", fail_mode=mode)
    failed = _apply(every_kind(context, family="CPU_X64_S"), provider, tmp_path)
    assert not failed.ok
    rerun = _plan(every_kind(context, family="CPU_X64_S"), provider, tmp_path)
    pending = _pending(rerun)
    # The RESUME that failed before taking effect left the pool suspended: the plan resumes it. (A lost
    # reply means the pool runs.) Either way the services the SUSPEND stopped are resumed.
    pool_resume = ("update", "compute_pool.APP_POOL", ["suspended"])
    assert (pool_resume in pending) is (mode == "before"), pending
    assert ("update", "service.APP_DB.PUBLIC.APP_SVC", ["suspended"]) in pending, pending
    assert _apply(every_kind(context, family="CPU_X64_S"), provider, tmp_path).ok
    assert _running(emu) == {"pool": "ACTIVE", "service": "RUNNING"}
    assert not _plan(every_kind(context, family="CPU_X64_S"), provider, tmp_path).has_changes


def _secret_stack() -> Stack:
    from spcs_iac import Database

    stack = Stack("secrets")
    db = stack.add(Database(name="SEC_DB"))
    stack.add(Secret(name="LOGIN", database=db, type="PASSWORD", username="svc", password="pa$$ it's"))
    stack.add(Secret(name="TOKEN", database=db, type="GENERIC_STRING", secret_string="t0ken"))
    return stack


@pytest.mark.parametrize("how", ["lost reply", "made by hand"])
def test_an_existing_secret_is_taken_over_by_setting_its_values(emu: Any, provider: Any, tmp_path: Path,
                                                                how: str) -> None:
    """Secret values cannot be read back: taking over an existing secret SETs the declared values
    (Snowflake rejects UNSET of USERNAME/PASSWORD/SECRET_STRING with 001003)."""
    if how == "lost reply":
        emu.emulator.inject(fail_matching=r"^CREATE SECRET", fail_mode="after")
        assert not _apply(_secret_stack(), provider, tmp_path).ok
    else:
        session = emu.emulator.login("x", role="ACCOUNTADMIN")
        emu.emulator.execute(session, "CREATE DATABASE SEC_DB")
        emu.emulator.execute(session, "CREATE SECRET SEC_DB.PUBLIC.LOGIN TYPE = PASSWORD USERNAME = 'old' "
                                      "PASSWORD = 'old'")
        emu.emulator.execute(session, "CREATE SECRET SEC_DB.PUBLIC.TOKEN TYPE = GENERIC_STRING "
                                      "SECRET_STRING = 'old'")
    emu.emulator.reset_stats()
    rerun = api.apply(_secret_stack(), target="snowflake", provider=provider(), state_dir=str(tmp_path),
                      adopt=how == "made by hand")
    assert rerun.ok, rerun.failed
    sent = emu.emulator.stats()["statements"]
    assert not [s for s in sent if "UNSET" in s], sent
    session = emu.emulator.login("x", role="ACCOUNTADMIN")
    login = emu.emulator.execute(session, "DESC SECRET SEC_DB.PUBLIC.LOGIN").as_dicts()[0]
    assert login["username"] == "svc"
    assert not _plan(_secret_stack(), provider, tmp_path).has_changes
