"""Grants on functions: SHOW GRANTS names a function ``DB.S."NAME(ARG TYPE, ...):RETURN_TYPE"``.

Snowflake prints the argument names, full types (``NUMBER(38,0)``) and the return type inside one quoted
part (https://docs.snowflake.com/en/sql-reference/sql/show-grants). A grant on a function must read back
as the same securable, or every plan re-grants it and a removed privilege is never revoked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spcs_iac import Database, FunctionArgument, Grant, Role, ServiceFunction, Stack
from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.grants import row_target_key, target_key
from tests.snowflake.support import every_kind


@pytest.mark.parametrize("shown, declared", [
    ('DB.S."F(X NUMBER(38,0), Y VARCHAR):NUMBER(38,0)"', "DB.S.F(NUMBER, VARCHAR)"),
    ('DB.S."F(X FLOAT):VARCHAR(16777216)"', "DB.S.F(FLOAT)"),
    ('DB.S."F():FLOAT"', "DB.S.F()"),
    ('DB.S."F(A NUMBER(10,2), B TIMESTAMP_NTZ(9)):NUMBER(10,2)"', "DB.S.F(NUMBER, TIMESTAMP_NTZ)"),
    ('"my db".S."lower(X FLOAT):FLOAT"', '"my db".S."lower"(FLOAT)'),
])
def test_show_grants_function_names_match_the_declared_signature(shown: str, declared: str) -> None:
    assert row_target_key({"granted_on": "FUNCTION", "name": shown}) == target_key("FUNCTION", declared)


def test_a_function_named_differently_or_overloaded_does_not_match() -> None:
    want = target_key("FUNCTION", "DB.S.F(FLOAT)")
    assert row_target_key({"granted_on": "FUNCTION", "name": 'DB.S."F(X VARCHAR):FLOAT"'}) != want
    assert row_target_key({"granted_on": "FUNCTION", "name": 'DB.S."G(X FLOAT):FLOAT"'}) != want
    assert row_target_key({"granted_on": "FUNCTION", "name": 'DB.S."F(X FLOAT, Y FLOAT):FLOAT"'}) != want


def test_grant_on_an_unmanaged_function_plans(emu: Any, provider: Any, tmp_path: Path) -> None:
    stack = Stack("fngrant")
    role = stack.add(Role(name="CALLER"))
    grant = stack.add(Grant(to=role, on="DB.S.FN(FLOAT)", on_type="FUNCTION", privileges=["USAGE"]))
    assert grant.name == "CALLER:FUNCTION:DB.S.FN(FLOAT)"
    p = api.plan(stack, target="snowflake", provider=provider(), state_dir=str(tmp_path))
    statements = [s for c in p.actionable for s in c.statements]
    assert "GRANT USAGE ON FUNCTION DB.S.FN(FLOAT) TO ROLE CALLER" in statements


def _with_function_grant(context: Path, privileges: list[str]) -> Stack:
    stack = every_kind(context)
    fn = stack.get("service_function.APP_DB.PUBLIC.APP_FN(VARCHAR)")
    db = stack.get("database.APP_DB")
    assert isinstance(fn, ServiceFunction) and isinstance(db, Database)
    caller = stack.add(Role(name="FN_CALLER"))
    stack.add(Grant(to=caller, on=fn, privileges=privileges))
    # A NUMBER argument: SHOW GRANTS prints it as NUMBER(38,0).
    num = stack.add(ServiceFunction(name="NUM_FN", database=db, service=fn.service, endpoint="api", path="/n",
                                    arguments=[FunctionArgument(name="n", datatype="NUMBER")], returns="NUMBER",
                                    owner=fn.owner))
    stack.add(Grant(to=caller, on=num, privileges=privileges))
    return stack


def test_function_grants_converge_and_revoke(emu: Any, provider: Any, context: Path, tmp_path: Path) -> None:
    state = str(tmp_path)
    stack = _with_function_grant(context, ["USAGE"])
    assert api.apply(stack, target="snowflake", provider=provider(), state_dir=state).ok
    again = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
    assert not again.has_changes, [(c.address, c.changed_fields) for c in again.actionable]

    emu.emulator.execute(emu.emulator.login("x", role="ACCOUNTADMIN"),
                         "REVOKE USAGE ON FUNCTION APP_DB.PUBLIC.APP_FN(VARCHAR) FROM ROLE FN_CALLER")
    drift = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
    assert [c.address for c in drift.actionable] == ["grant.FN_CALLER:FUNCTION:APP_DB.PUBLIC.APP_FN(VARCHAR)"]

    result = api.destroy(stack, target="snowflake", provider=provider(), state_dir=state)
    assert result.ok, result.failed
    rows = emu.emulator.execute(emu.emulator.login("x", role="ACCOUNTADMIN"), "SHOW GRANTS TO ROLE ACCOUNTADMIN")
    assert not [r for r in rows.as_dicts() if r["granted_on"] == "FUNCTION"]
