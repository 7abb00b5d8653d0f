"""Dropping a database, schema or stage takes everything inside with it. When a plan would drop a
container holding objects or files the stack does not manage, it lists them and the apply is refused
unless the user agrees (--destroy-adopted); nothing is changed before that."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from spcs_iac import Database, Schema, Stack, Stage
from spcs_iac.drivers import api
from spcs_iac.errors import SpcsIacError
from spcs_iac.plan.model import Plan
from spcs_iac.plan.render import render


def _stack(encryption: str = "SNOWFLAKE_SSE") -> Stack:
    stack = Stack("containers")
    db = stack.add(Database(name="KEEP_DB"))
    sc = stack.add(Schema(name="APP", database=db))
    stack.add(Stage(name="FILES", database=db, schema=sc, encryption=encryption))
    return stack


def _admin(emu: Any, sql: str) -> list[dict[str, Any]]:
    return emu.emulator.execute(emu.emulator.login("x", role="ACCOUNTADMIN"), sql).as_dicts()


def _shown(plan: Plan) -> str:
    console = Console(record=True, width=200)
    render(plan, console)
    return console.export_text()


def test_destroy_refuses_to_drop_a_database_holding_unmanaged_objects(emu: Any, provider: Any,
                                                                       tmp_path: Path) -> None:
    state = str(tmp_path)
    assert api.apply(_stack(), target="snowflake", provider=provider(), state_dir=state).ok
    _admin(emu, "CREATE TABLE KEEP_DB.APP.HAND_MADE (ID NUMBER)")
    _admin(emu, "CREATE SCHEMA KEEP_DB.SCRATCH")

    plan = api.plan(_stack(), target="snowflake", provider=provider(), state_dir=state, destroy=True)
    by_address = {c.address: c.loses for c in plan.actionable}
    assert by_address["database.KEEP_DB"] == ["schema KEEP_DB.SCRATCH", "table KEEP_DB.APP.HAND_MADE"]
    assert by_address["schema.KEEP_DB.APP"] == ["table KEEP_DB.APP.HAND_MADE"]
    assert "- table KEEP_DB.APP.HAND_MADE" in _shown(plan)
    assert Plan.from_json(plan.to_json()).changes[0].loses == plan.changes[0].loses or any(
        c.loses for c in Plan.from_json(plan.to_json()).changes)

    with pytest.raises(SpcsIacError, match=r"holds .*table KEEP_DB.APP.HAND_MADE.*--destroy-adopted"):
        api.destroy(_stack(), target="snowflake", provider=provider(), state_dir=state)
    assert _admin(emu, "SHOW TABLES LIKE 'HAND_MADE' IN ACCOUNT"), "nothing is dropped when refused"
    assert _admin(emu, "SHOW STAGES LIKE 'FILES' IN ACCOUNT")

    assert api.destroy(_stack(), target="snowflake", provider=provider(), state_dir=state,
                       destroy_adopted=True).ok
    assert not _admin(emu, "SHOW DATABASES LIKE 'KEEP_DB'")


def test_a_replace_that_would_drop_files_put_by_hand_is_refused(emu: Any, provider: Any, tmp_path: Path) -> None:
    state = str(tmp_path)
    assert api.apply(_stack(), target="snowflake", provider=provider(), state_dir=state).ok
    emu.emulator.put_stage_file("KEEP_DB.APP.FILES", "reports/q3.csv", "a,b\n1,2\n")

    changed = _stack(encryption="SNOWFLAKE_FULL")
    plan = api.plan(changed, target="snowflake", provider=provider(), state_dir=state)
    stage = next(c for c in plan.actionable if c.address == "stage.KEEP_DB.APP.FILES")
    assert stage.action.value == "replace"
    assert stage.loses == ["file reports/q3.csv on stage KEEP_DB.APP.FILES (8 bytes)"]
    with pytest.raises(SpcsIacError, match="reports/q3.csv"):
        api.apply(changed, target="snowflake", provider=provider(), state_dir=state)
    assert _admin(emu, "LIST @KEEP_DB.APP.FILES"), "the file is still there"


def test_an_empty_container_is_dropped_without_asking(emu: Any, provider: Any, tmp_path: Path) -> None:
    state = str(tmp_path)
    assert api.apply(_stack(), target="snowflake", provider=provider(), state_dir=state).ok
    plan = api.plan(_stack(), target="snowflake", provider=provider(), state_dir=state, destroy=True)
    assert not any(c.loses for c in plan.actionable), [(c.address, c.loses) for c in plan.actionable]
    assert api.destroy(_stack(), target="snowflake", provider=provider(), state_dir=state).ok
