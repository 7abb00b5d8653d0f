"""Reading an account in a few round trips (targets/snowflake/batch.py): the same answers as one statement per
request, whatever the number of roles, rules, integrations and functions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    FunctionArgument,
    Grant,
    NetworkRule,
    Role,
    RoleGrant,
    Schema,
    Service,
    ServiceFunction,
    ServiceRoleGrant,
    Stack,
)
from spcs_iac.drivers import api
from spcs_iac.errors import ProviderError
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from spcs_iac.targets.snowflake.read import missing_object
from tests.snowflake.support import spec

Factory = Callable[..., SnowflakeProvider]
WAREHOUSE = "READ_WH"
BLOCKS = 12  # each with its own role, network rule, integration, service and function


def many_blocks(n: int) -> Stack:
    """The shape whose reads used to grow: every block has its own role, rule, integration and function."""
    stack = Stack("manyblocks")
    admin = "ACCOUNTADMIN"
    owner = stack.add(Role(name="MB_OWNER", owner=admin))
    stack.add(RoleGrant(role=owner, to_role=admin, owner=admin))
    stack.add(Grant(to=owner, on="ACCOUNT", owner=admin, privileges=[
        "CREATE DATABASE", "CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT"]))
    db = stack.add(Database(name="MB_DB", owner=owner))
    pool = stack.add(ComputePool(name="MB_POOL", instance_family="CPU_X64_XS", max_nodes=1, owner=owner))
    for i in range(n):
        reader = stack.add(Role(name=f"MB_READER_{i}", owner=admin))
        stack.add(RoleGrant(role=reader, to_role="SYSADMIN", owner=admin))
        schema = stack.add(Schema(name=f"S{i}", database=db, owner=owner))
        rule = stack.add(NetworkRule(name=f"RULE_{i}", database=db, schema=schema, type="HOST_PORT", mode="EGRESS",
                                     value_list=[f"api{i}.example.com:443"], owner=owner))
        eai = stack.add(ExternalAccessIntegration(name=f"MB_EAI_{i}", allowed_network_rules=[rule], owner=admin))
        stack.add(Grant(to=owner, on=eai, privileges=["USAGE"], owner=admin))
        svc = stack.add(Service(name="SVC", database=db, schema=schema, compute_pool=pool,
                                spec=spec(f"registry.example.com/app{i}:1"), external_access_integrations=[eai],
                                owner=owner))
        stack.add(ServiceFunction(name="SCORE", database=db, schema=schema, service=svc, endpoint="api",
                                  path="/score", returns="FLOAT",
                                  arguments=[FunctionArgument(name="x", datatype="FLOAT")], owner=owner))
        stack.add(ServiceRoleGrant(service=svc, service_role="ALL_ENDPOINTS_USAGE", to_role=reader))
        stack.add(Grant(to=reader, on=schema, privileges=["USAGE"], owner=owner))
    return stack


@pytest.fixture
def warehouse(emu: Any) -> str:
    """Several statements in one request need a warehouse in the session (the SQL API page says so)."""
    emu.emulator.execute(emu.emulator.login("admin"), f"CREATE WAREHOUSE {WAREHOUSE}")
    return WAREHOUSE


def refresh(emu: Any, p: SnowflakeProvider, stack: Stack, state: Path) -> tuple[dict[str, Any], int, Any]:
    """(what the plan read, per address; the round trips it cost; the plan)."""
    seen: dict[str, Any] = {}
    read = p.read

    def recording(requests: Any) -> Any:
        out = read(requests)
        seen.update({a: (o.props, o.outputs) for a, o in out.items()})
        return out

    p.read = recording  # type: ignore[method-assign]
    emu.emulator.reset_stats()
    plan = api.plan(stack, "snowflake", provider=p, state_dir=str(state))
    return seen, emu.emulator.stats()["round_trips"], plan


def one_per_request(provider: Factory) -> SnowflakeProvider:
    p = provider(warehouse=WAREHOUSE)
    p.db.multi_statement = False  # as on an account that takes one statement per request
    return p


def test_a_refresh_costs_at_most_five_round_trips_whatever_the_stack(emu: Any, provider: Factory, warehouse: str,
                                                                      tmp_path: Path) -> None:
    stack = many_blocks(BLOCKS)
    state = tmp_path / "state"
    batched, trips, _ = refresh(emu, provider(warehouse=warehouse), stack, state)
    single, _, _ = refresh(emu, one_per_request(provider), stack, state)
    assert trips <= 5 and batched == single == {}  # empty target: nothing found

    assert api.apply(stack, "snowflake", provider=provider(), state_dir=str(state), parallelism=8).ok
    batched, trips, plan = refresh(emu, provider(warehouse=warehouse), stack, state)
    single, single_trips, _ = refresh(emu, one_per_request(provider), stack, state)
    # Login, the request, its first result, the SELECT of the others: 4, for 12 of everything.
    assert trips <= 5, emu.emulator.stats()["round_trips_by_kind"]
    assert single_trips > 5 * BLOCKS  # one per DESCRIBE / SHOW GRANTS: what the batch saves
    assert batched == single and len(batched) == len(stack)
    assert not plan.has_changes

    # Objects the state does not record yet (adopting them): one more batch, for the reads SHOW shows are needed.
    adopting, trips, _ = refresh(emu, provider(warehouse=warehouse), stack, tmp_path / "fresh-state")
    assert adopting == single and trips <= 7


def test_objects_dropped_by_hand_read_as_absent(emu: Any, provider: Factory, warehouse: str, tmp_path: Path) -> None:
    stack = many_blocks(3)
    assert api.apply(stack, "snowflake", provider=provider(), state_dir=str(tmp_path), parallelism=8).ok
    admin = emu.emulator.login("admin")
    emu.emulator.execute(admin, "DROP FUNCTION MB_DB.S1.SCORE(FLOAT)")
    emu.emulator.execute(admin, "DROP ROLE MB_READER_2")
    # The guesses for what the state records fail on the first missing object; the read still completes.
    batched, trips, plan = refresh(emu, provider(warehouse=warehouse), stack, tmp_path)
    logins = emu.emulator.stats()["round_trips_by_kind"].get("login", 0)
    single, _, _ = refresh(emu, one_per_request(provider), stack, tmp_path)
    assert batched == single
    # The failed request, then two batches of three. The two batches may overlap, and whether the second one
    # logs a session in of its own depends on timing: logins are counted apart.
    assert trips - logins <= 7 and logins <= 2, (trips, logins)
    created = {c.name for c in plan.actionable if c.action.value == "create"}
    assert "MB_READER_2" in created and any(name.startswith("MB_DB.S1.SCORE") for name in created)


def test_a_failing_statement_in_the_middle_is_that_statement_s_answer(emu: Any, provider: Factory,
                                                                      warehouse: str) -> None:
    admin = emu.emulator.login("admin")
    emu.emulator.execute(admin, "CREATE DATABASE MID_DB")
    emu.emulator.execute(admin, "CREATE NETWORK RULE MID_DB.PUBLIC.R TYPE = HOST_PORT MODE = EGRESS "
                                "VALUE_LIST = ('a.example.com')")
    sqls = ["SHOW ROLES", "DESC NETWORK RULE MID_DB.PUBLIC.GONE", "DESC NETWORK RULE MID_DB.PUBLIC.R", "SHOW DATABASES"]
    p = provider(warehouse=warehouse)
    emu.emulator.reset_stats()
    answers = p.db.read_batch(sqls, tolerate=missing_object)
    stats = emu.emulator.stats()
    by_kind = stats["round_trips_by_kind"]
    gone = answers["DESC NETWORK RULE MID_DB.PUBLIC.GONE"]
    assert isinstance(gone, ProviderError) and "does not exist or not authorized" in str(gone)
    # The failed request, then the others again: request, first result, one SELECT of the rest.
    assert by_kind == {"login": 1, "query": 3, "result": 1}
    assert p.db.count == stats["total"] == 2 + 3 + 1  # what ran: two of the failed request, three and the SELECT
    single = one_per_request(provider).db.read_batch(sqls, tolerate=missing_object)
    assert {s: a for s, a in answers.items() if s != sqls[1]} == {s: a for s, a in single.items() if s != sqls[1]}

    with pytest.raises(ProviderError, match="(?s)DESC NETWORK RULE MID_DB.PUBLIC.GONE\n  failed: .*does not exist"):
        p.db.read_batch(["SHOW SCHEMAS IN ACCOUNT", "DESC NETWORK RULE MID_DB.PUBLIC.GONE"])  # nothing tolerated


def test_without_a_warehouse_reads_go_one_per_request(emu: Any, provider: Factory) -> None:
    p = provider()
    sqls = ["SHOW ROLES", "SHOW DATABASES", "SHOW WAREHOUSES"]
    emu.emulator.reset_stats()
    answers = p.db.read_batch(sqls)
    assert p.db.multi_statement is False
    assert emu.emulator.stats()["round_trips_by_kind"]["query"] == 1 + len(sqls)  # the refused request, then each
    assert [r["name"] for r in answers["SHOW ROLES"]] == ["ACCOUNTADMIN", "PUBLIC", "SECURITYADMIN", "SYSADMIN",
                                                         "USERADMIN"]
    p.db.read_batch(["SHOW ROLES", "SHOW SCHEMAS IN ACCOUNT"])
    assert emu.emulator.stats()["round_trips_by_kind"]["query"] == 1 + len(sqls) + 1  # not asked again; cached
