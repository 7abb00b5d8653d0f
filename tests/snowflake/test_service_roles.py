"""Service roles: a spec's ``serviceRoles`` are granted with GRANT SERVICE ROLE <service>!<role> TO ROLE
(https://docs.snowflake.com/en/sql-reference/sql/grant-service-role), read back with SHOW GRANTS OF
SERVICE ROLE, revoked when removed from the stack."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ServiceRoleGrant, Stack
from spcs_iac.drivers import api
from spcs_iac.errors import StackValidationError
from spcs_iac.targets.snowflake.statements import create_steps

ROOT = Path(__file__).resolve().parents[2]
GRANT = "service_role_grant.CONVERT_DB.PUBLIC.CONVERT_API!CONVERTER_USERS->ANALYSTS"


def example() -> Stack:
    return runpy.run_path(str(ROOT / "examples" / "service_roles.py"))["stack"]


def test_the_example_grants_a_service_role_as_the_service_owner() -> None:
    p = api.plan(example(), target="snowflake", assume_empty=True)
    c = next(c for c in p.actionable if c.address == GRANT)
    assert c.statements[-1] == "GRANT SERVICE ROLE CONVERT_DB.PUBLIC.CONVERT_API!CONVERTER_USERS TO ROLE ANALYSTS"
    assert [s.role for s in create_steps(c.resource, {})] == ["CONVERT_OWNER"]


def test_service_role_grants_apply_read_back_and_revoke(emu: Any, provider: Any, tmp_path: Path) -> None:
    state = str(tmp_path)
    stack = example()
    result = api.apply(stack, target="snowflake", provider=provider(), state_dir=state)
    assert result.ok, result.failed
    again = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
    assert not again.has_changes, [(c.address, c.changed_fields) for c in again.actionable]
    rows = emu.rows("SHOW GRANTS OF SERVICE ROLE CONVERT_DB.PUBLIC.CONVERT_API!CONVERTER_USERS", role="CONVERT_OWNER")
    assert [(r["granted_to"], r["grantee_name"]) for r in rows] == [("ROLE", "ANALYSTS")]

    # Revoked by hand: granted again.
    emu.rows("REVOKE SERVICE ROLE CONVERT_DB.PUBLIC.CONVERT_API!CONVERTER_USERS FROM ROLE ANALYSTS",
             role="CONVERT_OWNER")
    drift = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
    assert [(c.action.value, c.address) for c in drift.actionable] == [("create", GRANT)]

    # Removed from the stack: revoked.
    assert api.apply(stack, target="snowflake", provider=provider(), state_dir=state).ok
    fewer = Stack(stack.name)
    fewer.extend(r for r in stack if not isinstance(r, ServiceRoleGrant))
    p = api.plan(fewer, target="snowflake", provider=provider(), state_dir=state)
    c = next(c for c in p.actionable if c.address == GRANT)
    assert c.statements[-1] == "REVOKE SERVICE ROLE CONVERT_DB.PUBLIC.CONVERT_API!CONVERTER_USERS FROM ROLE ANALYSTS"
    assert api.apply(fewer, target="snowflake", provider=provider(), state_dir=state).ok
    assert emu.rows("SHOW GRANTS OF SERVICE ROLE CONVERT_DB.PUBLIC.CONVERT_API!CONVERTER_USERS",
                    role="CONVERT_OWNER") == []


def test_a_service_role_the_spec_does_not_declare_is_rejected_before_any_sql() -> None:
    stack = example()
    svc = stack.get("service.CONVERT_DB.PUBLIC.CONVERT_API")
    stack.add(ServiceRoleGrant(service=svc, service_role="NO_SUCH_ROLE", to_role="ANALYSTS"))
    with pytest.raises(StackValidationError) as info:
        stack.validate()
    text = str(info.value)
    assert "service_role" in text and "NO_SUCH_ROLE" in text and "CONVERTER_USERS" in text
