"""A grant manages the privileges it declares, not every privilege its role holds on the securable.

Privileges granted by hand (or by another tool) to the same role on the same object are left alone;
only what the stack granted and no longer declares is revoked. ``authoritative=True`` opts into
"exactly these privileges", and the plan shows each revoke.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from spcs_iac import Grant, Stack
from spcs_iac.drivers import api
from spcs_iac.plan.render import render


def _admin(emu: Any, sql: str) -> list[dict[str, Any]]:
    return emu.emulator.execute(emu.emulator.login("x", role="ACCOUNTADMIN"), sql).as_dicts()


def _account_privileges(emu: Any, role: str) -> set[str]:
    return {r["privilege"] for r in _admin(emu, f"SHOW GRANTS TO ROLE {role}") if r["granted_on"] == "ACCOUNT"}


def _stack(privileges: list[str], **options: Any) -> Stack:
    stack = Stack("grantscope")
    stack.add(Grant(to="DATA_TEAM", on="ACCOUNT", privileges=privileges, **options))
    return stack


def _statements(plan: Any) -> list[str]:
    return [s for c in plan.actionable for s in c.statements]


def _hand_made_role(emu: Any) -> None:
    _admin(emu, "CREATE ROLE DATA_TEAM")
    _admin(emu, "GRANT CREATE DATABASE, MONITOR USAGE ON ACCOUNT TO ROLE DATA_TEAM")


def test_privileges_granted_by_hand_are_left_alone(emu: Any, provider: Any, tmp_path: Path) -> None:
    _hand_made_role(emu)
    state = str(tmp_path)
    first = api.plan(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state)
    assert _statements(first) == ["GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE DATA_TEAM"]
    assert api.apply(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state).ok
    assert _account_privileges(emu, "DATA_TEAM") == {"CREATE WAREHOUSE", "CREATE DATABASE", "MONITOR USAGE"}

    again = api.plan(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state)
    assert not again.has_changes, _statements(again)

    assert api.destroy(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state).ok
    assert _account_privileges(emu, "DATA_TEAM") == {"CREATE DATABASE", "MONITOR USAGE"}


def test_only_what_the_stack_granted_and_no_longer_declares_is_revoked(
        emu: Any, provider: Any, tmp_path: Path) -> None:
    _hand_made_role(emu)
    state = str(tmp_path)
    both = _stack(["CREATE WAREHOUSE", "CREATE COMPUTE POOL"])
    assert api.apply(both, target="snowflake", provider=provider(), state_dir=state).ok

    narrowed = api.plan(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state)
    assert _statements(narrowed) == ["REVOKE CREATE COMPUTE POOL ON ACCOUNT FROM ROLE DATA_TEAM"]
    assert api.apply(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state).ok
    assert _account_privileges(emu, "DATA_TEAM") == {"CREATE WAREHOUSE", "CREATE DATABASE", "MONITOR USAGE"}


def test_a_privilege_revoked_by_hand_is_granted_again(emu: Any, provider: Any, tmp_path: Path) -> None:
    _hand_made_role(emu)
    state = str(tmp_path)
    assert api.apply(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state).ok
    _admin(emu, "REVOKE CREATE WAREHOUSE ON ACCOUNT FROM ROLE DATA_TEAM")
    drift = api.plan(_stack(["CREATE WAREHOUSE"]), target="snowflake", provider=provider(), state_dir=state)
    assert _statements(drift) == ["GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE DATA_TEAM"]


def test_authoritative_grant_revokes_the_rest_and_the_plan_shows_it(
        emu: Any, provider: Any, tmp_path: Path) -> None:
    _hand_made_role(emu)
    state = str(tmp_path)
    exact = _stack(["CREATE WAREHOUSE"], authoritative=True)
    plan = api.plan(exact, target="snowflake", provider=provider(), state_dir=state)
    statements = _statements(plan)
    assert "REVOKE CREATE DATABASE, MONITOR USAGE ON ACCOUNT FROM ROLE DATA_TEAM" in statements
    assert "GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE DATA_TEAM" in statements
    console = Console(record=True, width=200)
    render(plan, console)
    shown = console.export_text()
    assert "> REVOKE CREATE DATABASE, MONITOR USAGE ON ACCOUNT FROM ROLE DATA_TEAM" in shown
    assert api.apply(exact, target="snowflake", provider=provider(), state_dir=state, adopt=True).ok
    assert _account_privileges(emu, "DATA_TEAM") == {"CREATE WAREHOUSE"}
    assert not api.plan(exact, target="snowflake", provider=provider(), state_dir=state).has_changes
