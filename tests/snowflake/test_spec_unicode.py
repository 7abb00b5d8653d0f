"""Every Unicode character of an inline service spec round-trips: characters outside the Basic
Multilingual Plane (emoji) too, which JSON would otherwise send as a pair of \\u escapes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from spcs_iac import ComputePool, Database, Grant, Image, ImageRepository, Service, Stack
from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from spcs_iac.targets.snowflake.sql import spec_text
from tests.snowflake.support import spec

ENV = {"GREETING": "🚀 launch", "MIXED": "naïve – 𝔘nicode ✓ 中文", "CONTROL": "tab\there\u2028next\x85"}


def unicode_stack(context: Path) -> Stack:
    s = Stack("unicode")
    s.add(Grant(to="SYSADMIN", on="ACCOUNT", privileges=["CREATE COMPUTE POOL"], owner="ACCOUNTADMIN"))
    db = s.add(Database(name="UNI_DB", owner="SYSADMIN"))
    pool = s.add(ComputePool(name="UNI_POOL", instance_family="CPU_X64_XS", owner="SYSADMIN"))
    repo = s.add(ImageRepository(name="REPO", database=db, owner="SYSADMIN"))
    image = s.add(Image(name="app", tag="v1", repository=repo, context=str(context)))
    s.add(Service(name="SVC", database=db, compute_pool=pool, spec=spec(image, env=ENV), owner="SYSADMIN"))
    return s


def test_spec_text_carries_characters_not_surrogate_escapes() -> None:
    text = spec_text({"spec": {"containers": [{"name": "c", "image": "/d/s/r/i:1", "env": ENV}]}})
    assert "🚀 launch" in text and "𝔘nicode" in text and "\\ud83d" not in text.lower()
    assert yaml.safe_load(text)["spec"]["containers"][0]["env"] == ENV  # a YAML reader gets every character


def test_an_emoji_in_an_inline_spec_round_trips(emu: Any, provider: Callable[..., SnowflakeProvider], context: Path,
                                                tmp_path: Path) -> None:
    stack = unicode_stack(context)
    result = api.apply(stack, target="snowflake", provider=provider(), state_dir=str(tmp_path))
    assert result.ok, result.failed
    [row] = emu.rows("DESC SERVICE UNI_DB.PUBLIC.SVC", role="SYSADMIN")
    assert "🚀 launch" in row["spec"]  # the character itself, not escapes of its two halves
    assert yaml.safe_load(row["spec"])["spec"]["containers"][0]["env"] == ENV
    again = api.plan(stack, target="snowflake", provider=provider(), state_dir=str(tmp_path))
    assert not again.has_changes, [c.to_json() for c in again.actionable]


def test_the_emulator_joins_escaped_surrogate_pairs_as_a_yaml_reader_does(emu: Any) -> None:
    emu.rows("GRANT CREATE COMPUTE POOL ON ACCOUNT TO ROLE SYSADMIN")
    emu.rows("CREATE DATABASE ESC_DB", role="SYSADMIN")
    emu.rows("CREATE COMPUTE POOL ESC_POOL MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS", role="SYSADMIN")
    escaped = ('{"spec": {"containers": [{"name": "c", "image": "/esc_db/public/r/i:1", '
               '"env": {"A": "\\ud83d\\ude80 launch"}}]}}')
    emu.rows(f"CREATE SERVICE ESC_DB.PUBLIC.SVC IN COMPUTE POOL ESC_POOL FROM SPECIFICATION $${escaped}$$",
             role="SYSADMIN")
    [row] = emu.rows("DESC SERVICE ESC_DB.PUBLIC.SVC", role="SYSADMIN")
    assert yaml.safe_load(row["spec"])["spec"]["containers"][0]["env"]["A"] == "🚀 launch"
