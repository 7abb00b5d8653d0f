"""Warehouses whose defaults and changes depend on their type, through the real connector against the
emulator: a Snowpark-optimized warehouse's default size is MEDIUM, and its type changes only while it is
suspended (https://docs.snowflake.com/en/user-guide/warehouses-snowpark-optimized)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from spcs_iac import Stack, Warehouse
from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.provider import SnowflakeProvider

Factory = Callable[..., SnowflakeProvider]


def _stack(**fields: Any) -> Stack:
    s = Stack("wh")
    s.add(Warehouse(name="ML_WH", **fields))
    return s


def _state(emu: Any) -> dict[str, Any]:
    admin = emu.emulator.login("check")
    return emu.emulator.execute(admin, "SHOW WAREHOUSES LIKE 'ML_WH'").as_dicts()[0]


def test_a_snowpark_optimized_warehouse_left_at_its_default_size_plans_nothing_after_apply(
        emu: Any, provider: Factory, tmp_path: Path) -> None:
    stack = _stack(warehouse_type="SNOWPARK-OPTIMIZED")
    assert api.apply(stack, "snowflake", provider=provider(), state_dir=str(tmp_path)).ok
    assert _state(emu)["size"] == "Medium"
    again = api.plan(stack, "snowflake", provider=provider(), state_dir=str(tmp_path))
    assert not again.actionable, [(c.address, c.fields, c.statements) for c in again.actionable]


def test_changing_a_running_warehouse_to_snowpark_optimized_suspends_it_first(
        emu: Any, provider: Factory, tmp_path: Path) -> None:
    assert api.apply(_stack(), "snowflake", provider=provider(), state_dir=str(tmp_path)).ok
    assert _state(emu)["state"] == "STARTED"
    changed = _stack(warehouse_type="SNOWPARK-OPTIMIZED")
    plan = api.plan(changed, "snowflake", provider=provider(), state_dir=str(tmp_path))
    assert plan.actionable[0].statements[-2:] == [
        "-- wait until warehouse ML_WH is SUSPENDED (suspending it if it runs)",
        "ALTER WAREHOUSE ML_WH SET WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED' WAREHOUSE_SIZE = MEDIUM"]
    result = api.apply(changed, "snowflake", provider=provider(), state_dir=str(tmp_path))
    assert result.ok, result.failed
    row = _state(emu)
    assert (row["type"], row["size"], row["state"]) == ("SNOWPARK-OPTIMIZED", "Medium", "SUSPENDED")
    assert not api.plan(changed, "snowflake", provider=provider(), state_dir=str(tmp_path)).actionable
    # Back, on a warehouse already suspended (SUSPEND would fail on it), and one that cannot resume by itself.
    back = _stack(auto_resume=False)
    result = api.apply(back, "snowflake", provider=provider(), state_dir=str(tmp_path))
    assert result.ok, result.failed
    row = _state(emu)
    assert (row["type"], row["size"], row["state"]) == ("STANDARD", "X-Small", "STARTED")


def test_the_emulator_refuses_a_type_change_on_a_running_warehouse(emu: Any) -> None:
    admin = emu.emulator.login("check")
    emu.emulator.execute(admin, "CREATE WAREHOUSE RUNNING_WH")
    try:
        emu.emulator.execute(admin, "ALTER WAREHOUSE RUNNING_WH SET WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED'")
    except Exception as exc:  # noqa: BLE001 - the error's text is what is checked
        assert "suspend it first" in str(exc)
    else:
        raise AssertionError("a running warehouse changed its type")
