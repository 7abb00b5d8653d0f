"""Losing the state loses nothing: objects carry their stack's marker in their comment, and `state rebuild`
takes back exactly that stack's objects from the account (emulator, real connector)."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path
from typing import Any

from spcs_iac import Stack, Warehouse
from spcs_iac.drivers import api

ROOT = Path(__file__).resolve().parents[2]


def test_the_quickstart_is_recovered_from_the_account(emu: Any, provider: Any, tmp_path: Path) -> None:
    stack = runpy.run_path(str(ROOT / "stacks" / "quickstart.py"))["stack"]
    state = tmp_path / "state"

    def quickstart() -> Any:
        return provider(stack_name=stack.name)  # as the CLI makes it: the provider knows its stack

    assert api.apply(stack, "snowflake", provider=quickstart(), state_dir=str(state)).ok
    cur = emu.connect().cursor()
    rows = cur.execute("SHOW WAREHOUSES LIKE 'CONTAINER_HOL_WH'").fetchall()
    comment = rows[0][[d[0] for d in cur.description].index("comment")]
    assert comment.endswith("[spcs-iac:stack=quickstart]"), comment
    shutil.rmtree(state)  # the state is lost

    adopting = api.plan(stack, "snowflake", provider=quickstart(), state_dir=str(state))
    assert all(c.adopting for c in adopting.actionable)  # without it, every object looks foreign
    found = api.rebuild_state(stack, "snowflake", provider=quickstart(), state_dir=str(state))
    assert not found.missing and not found.foreign
    assert len(found.taken) + len(found.unmarked) == len(stack)
    assert [a for a in found.unmarked if not a.startswith(("grant.", "role_grant.", "image."))] == []
    again = api.plan(stack, "snowflake", provider=quickstart(), state_dir=str(state))
    assert not again.has_changes, [(c.address, c.action.value, c.changed_fields) for c in again.actionable]


def test_rebuild_leaves_another_stacks_objects_alone(emu: Any, provider: Any, tmp_path: Path) -> None:
    owner = Stack("owner")
    owner.add(Warehouse(name="SHARED_WH", auto_suspend=60))
    assert api.apply(owner, "snowflake", provider=provider(stack_name="owner"), state_dir=str(tmp_path)).ok
    other = Stack("other")
    other.add(Warehouse(name="SHARED_WH", auto_suspend=60))
    found = api.rebuild_state(other, "snowflake", provider=provider(stack_name="other"), state_dir=str(tmp_path))
    assert found.foreign == {"warehouse.SHARED_WH": "owner"} and not found.taken
    assert not api.plan(owner, "snowflake", provider=provider(stack_name="owner"),
                        state_dir=str(tmp_path)).has_changes
