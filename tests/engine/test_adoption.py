"""Never touch what is not the stack's: adopting needs consent, so does destroying what was adopted, and
taking back an object whose create reply was lost needs none."""

from __future__ import annotations

from pathlib import Path

import pytest

from spcs_iac.drivers import api
from spcs_iac.errors import SpcsIacError
from spcs_iac.plan.model import Action
from spcs_iac.state.store import StateStore
from tests.engine.stacks import app_stack
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def _apply(stack, target, state, **kw):  # type: ignore[no-untyped-def]
    return api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(state), **kw)


def test_an_existing_object_is_not_adopted_without_consent(tmp_path: Path) -> None:
    target = MemoryTarget()
    target.objects["database.APP_DB"] = {"owner": "APP_ROLE", "comment": "made by hand"}
    stack = app_stack(tmp_path / "ctx")
    plan = api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path))
    change = plan.get("database.APP_DB")
    assert change.action is Action.IMPORT and change.adopting and "--adopt" in (change.reason or "")
    with pytest.raises(SpcsIacError, match=r"nothing was changed(.|\n)*database\.APP_DB(.|\n)*--adopt"):
        _apply(stack, target, tmp_path)
    assert set(target.objects) == {"database.APP_DB"} and not target.ops  # nothing half-applied
    assert _apply(stack, target, tmp_path, adopt=True).ok
    assert StateStore("app", "memory", tmp_path).entries["database.APP_DB"].adopted


def test_destroying_an_adopted_object_needs_its_own_consent(tmp_path: Path) -> None:
    target = MemoryTarget()
    target.objects["database.APP_DB"] = {"owner": "APP_ROLE", "comment": None}
    stack = app_stack(tmp_path / "ctx")
    assert _apply(stack, target, tmp_path, adopt=True).ok
    with pytest.raises(SpcsIacError, match=r"would delete 1 object\(s\) this stack did not create: database\.APP_DB"):
        api.destroy(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path))
    assert "database.APP_DB" in target.objects and "role.APP_ROLE" in target.objects
    result = api.destroy(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path),
                         destroy_adopted=True)
    assert result.ok and not target.objects


def test_replacing_an_object_the_stack_did_not_create_needs_both_consents(tmp_path: Path) -> None:
    target = MemoryTarget()
    target.objects["image_repository.APP_DB.PUBLIC.REPO"] = {"owner": "APP_ROLE", "encryption": "SNOWFLAKE_SSE",
                                                             "comment": None}
    stack = app_stack(tmp_path / "ctx")
    with pytest.raises(SpcsIacError, match="--adopt") as err:
        _apply(stack, target, tmp_path)
    assert "--destroy-adopted" in str(err.value) and "would replace" in str(err.value)
    with pytest.raises(SpcsIacError, match="would replace 1 object"):
        _apply(stack, target, tmp_path, adopt=True)
    assert target.objects["image_repository.APP_DB.PUBLIC.REPO"]["encryption"] == "SNOWFLAKE_SSE"
    assert _apply(stack, target, tmp_path, adopt=True, destroy_adopted=True).ok
    entry = StateStore("app", "memory", tmp_path).entries["image_repository.APP_DB.PUBLIC.REPO"]
    assert not entry.adopted  # the stack created the new one


def test_an_object_whose_create_reply_was_lost_is_taken_back_without_consent(tmp_path: Path) -> None:
    target = MemoryTarget()
    stack = app_stack(tmp_path / "ctx")

    class LostReply(MemoryProvider):
        def create(self, change, ctx):  # type: ignore[no-untyped-def]
            out = super().create(change, ctx)
            if change.address == "database.APP_DB":
                raise ConnectionError("the reply to CREATE DATABASE was lost")
            return out

    result = api.apply(stack, "memory", provider=LostReply(target=target), state_dir=str(tmp_path))
    assert "database.APP_DB" in result.failed and "database.APP_DB" in target.objects
    store = StateStore("app", "memory", tmp_path)
    assert "database.APP_DB" not in store.entries and store.pending == {"database.APP_DB"}
    plan = api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(tmp_path))
    change = plan.get("database.APP_DB")
    assert change.action is Action.IMPORT and not change.adopting and "taken back" in (change.reason or "")
    assert _apply(stack, target, tmp_path).ok  # no --adopt needed: it is the stack's own
    store = StateStore("app", "memory", tmp_path)
    assert not store.pending and not store.entries["database.APP_DB"].adopted
