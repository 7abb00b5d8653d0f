"""The quickstart on the Snowflake target against the account emulator, whose image registry is a
real local registry: images are built and pushed, then apply-then-plan shows 0 changes."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.local.conftest import BASE_IMAGE
from tests.snowflake.test_images_docker import emu_registry, registry  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_quickstart_apply_then_plan_is_empty(emu_registry, tmp_path: Path, monkeypatch,  # noqa: F811
                                             request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("SPCS_IAC_BASE_IMAGE", BASE_IMAGE)
    stack = runpy.run_path(str(ROOT / "stacks" / "quickstart.py"))["stack"]
    params = emu_registry.connection_params()

    def provider() -> SnowflakeProvider:  # each closed at the end: none left to the connector's exit cleanup
        made = SnowflakeProvider(stack_name=stack.name, state_dir=str(tmp_path), **params)
        request.addfinalizer(made.close)
        return made

    result = api.apply(stack, "snowflake", provider=provider(), state_dir=str(tmp_path))
    assert result.ok, result.failed
    again = api.plan(stack, "snowflake", provider=provider(), state_dir=str(tmp_path))
    assert not again.has_changes, [c.to_json() for c in again.actionable]
    services = {r["name"]: r for r in emu_registry.rows("SHOW SERVICES IN ACCOUNT")}
    assert services["CONVERT_API"]["owner"] == "CONTAINER_USER_ROLE"
    assert "@sha256:" in emu_registry.rows("DESC SERVICE CONTAINER_HOL_DB.PUBLIC.CONVERT_API",
                                           role="CONTAINER_USER_ROLE")[0]["spec"]  # digests pinned
    assert api.destroy(stack, "snowflake", provider=provider(), state_dir=str(tmp_path)).ok

