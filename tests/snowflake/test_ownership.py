"""Owners Snowflake's SHOW output does not show: external access integrations and service functions.

SHOW EXTERNAL ACCESS INTEGRATIONS and SHOW USER FUNCTIONS have no owner column; the owner is the
OWNERSHIP row of SHOW GRANTS ON the object. A hand-moved owner must show up in the plan, be moved back
with GRANT OWNERSHIP run as the role that owns it now, and later statements must run as the real owner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spcs_iac.drivers import api
from spcs_iac.plan.model import Plan
from tests.snowflake.support import every_kind

EAI = "external_access_integration.APP_EAI"
FN = "service_function.APP_DB.PUBLIC.APP_FN(VARCHAR)"


def _admin(emu: Any, sql: str) -> None:
    emulator = emu.emulator
    emulator.execute(emulator.login("admin", role="ACCOUNTADMIN"), sql)


def _by_address(p: Plan) -> dict[str, Any]:
    return {c.address: c for c in p.actionable}


def test_hand_moved_owners_are_seen_and_moved_back(emu: Any, provider: Any, context: Path, tmp_path: Path) -> None:
    state = str(tmp_path)
    stack = every_kind(context)
    assert api.apply(stack, target="snowflake", provider=provider(), state_dir=state).ok
    _admin(emu, "CREATE ROLE OTHER")
    _admin(emu, "GRANT ROLE OTHER TO ROLE ACCOUNTADMIN")
    _admin(emu, "GRANT OWNERSHIP ON INTEGRATION APP_EAI TO ROLE OTHER COPY CURRENT GRANTS")
    _admin(emu, "GRANT OWNERSHIP ON FUNCTION APP_DB.PUBLIC.APP_FN(VARCHAR) TO ROLE OTHER COPY CURRENT GRANTS")

    drift = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
    changes = _by_address(drift)
    assert sorted(changes) == [EAI, FN]
    assert set(changes[EAI].changed_fields) == {"owner"} == set(changes[FN].changed_fields)
    # Moved back by the role that owns it now.
    assert changes[EAI].statements == ["USE ROLE OTHER",
                                       "GRANT OWNERSHIP ON INTEGRATION APP_EAI TO ROLE ACCOUNTADMIN COPY CURRENT GRANTS"]
    assert changes[FN].statements[-1] == (
        "GRANT OWNERSHIP ON FUNCTION APP_DB.PUBLIC.APP_FN(VARCHAR) TO ROLE APP_ROLE COPY CURRENT GRANTS")
    assert api.apply(stack, target="snowflake", provider=provider(), state_dir=state).ok
    again = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
    assert not again.has_changes, [(c.address, c.changed_fields) for c in again.actionable]


def test_a_declared_owner_change_is_planned_and_later_statements_run_as_the_new_owner(
        emu: Any, provider: Any, context: Path, tmp_path: Path) -> None:
    state = str(tmp_path)
    assert api.apply(every_kind(context), target="snowflake", provider=provider(), state_dir=state).ok
    changed = every_kind(context, comment="second")
    eai = changed.get(EAI)
    eai.owner = changed.get("role.APP_ROLE")  # the integration moves from ACCOUNTADMIN to the app's role
    p = api.plan(changed, target="snowflake", provider=provider(), state_dir=state)
    c = _by_address(p)[EAI]
    assert sorted(c.changed_fields) == ["comment", "owner"]
    assert c.statements == [
        "USE ROLE ACCOUNTADMIN",
        "GRANT OWNERSHIP ON INTEGRATION APP_EAI TO ROLE APP_ROLE COPY CURRENT GRANTS",
        "USE ROLE APP_ROLE",
        "ALTER EXTERNAL ACCESS INTEGRATION APP_EAI SET COMMENT = 'second [spcs-iac:stack=test]'",
    ][-len(c.statements):]
    result = api.apply(changed, target="snowflake", provider=provider(), state_dir=state)
    assert result.ok, result.failed
    again = api.plan(changed, target="snowflake", provider=provider(), state_dir=state)
    assert not again.has_changes, [(x.address, x.changed_fields) for x in again.actionable]


def test_an_object_deleted_after_a_hand_moved_owner_is_dropped_as_its_real_owner(
        emu: Any, provider: Any, context: Path, tmp_path: Path) -> None:
    state = str(tmp_path)
    stack = every_kind(context)
    assert api.apply(stack, target="snowflake", provider=provider(), state_dir=state).ok
    _admin(emu, "CREATE ROLE OTHER")
    _admin(emu, "GRANT ROLE OTHER TO ROLE ACCOUNTADMIN")
    _admin(emu, "GRANT OWNERSHIP ON FUNCTION APP_DB.PUBLIC.APP_FN(VARCHAR) TO ROLE OTHER COPY CURRENT GRANTS")
    p = api.plan(stack, target="snowflake", provider=provider(), state_dir=state, destroy=True)
    drop = _by_address(p)[FN]
    assert drop.statements[-2:] == ["USE ROLE OTHER", "DROP FUNCTION IF EXISTS APP_DB.PUBLIC.APP_FN(VARCHAR)"]
    result = api.destroy(stack, target="snowflake", provider=provider(), state_dir=state)
    assert result.ok, result.failed
