"""Bad grants are refused when declared, naming the object and the field, before any SQL runs."""

from __future__ import annotations

import pytest

from spcs_iac import Database, Grant, Stage
from spcs_iac.errors import DeclarationError


def _message(**kw: object) -> str:
    with pytest.raises(DeclarationError) as info:
        Grant(to="ANALYST", **kw)
    return str(info.value)


def test_a_privilege_the_securable_does_not_have_names_object_field_and_allowed() -> None:
    stage = Stage(name="SPECS", database=Database(name="APP_DB"))
    text = _message(on=stage, privileges=["MONITOR"])
    assert "privileges" in text and "'MONITOR'" in text
    assert "STAGE APP_DB.PUBLIC.SPECS" in text and "to ANALYST" in text
    assert "allowed: READ, USAGE, WRITE" in text


def test_an_unknown_privilege_is_a_typo_not_a_grant() -> None:
    text = _message(on="APP_DB", on_type="DATABASE", privileges=["USAGEE"])
    assert "'USAGEE'" in text and "DATABASE APP_DB" in text and "allowed:" in text and "USAGE" in text


def test_an_object_type_without_grants() -> None:
    text = _message(on="APP_DB.PUBLIC.X", on_type="SEQUENCEX", privileges=["USAGE"])
    assert "on_type" in text and "'SEQUENCEX'" in text and "allowed:" in text
