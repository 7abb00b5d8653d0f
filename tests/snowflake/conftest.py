"""Fixtures for the Snowflake target: an emulator behind the real connector, a fake Docker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.snowflake.support import FakeImages

READY = 0.02  # seconds until emulated services, pools and jobs are ready


@pytest.fixture(scope="module")
def running() -> Iterator[Any]:
    testing = pytest.importorskip("spcs_emulator.testing", reason="the account emulator is not available")
    with testing.running_emulator(ready_delay_s=READY) as emu:
        yield emu


@pytest.fixture
def emu(running: Any) -> Any:
    running.emulator.reset()
    running.emulator.inject(ready_delay_s=READY)
    return running


@pytest.fixture
def images(emu: Any) -> FakeImages:
    return FakeImages(emu.emulator)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    ctx = tmp_path / "image-context"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    return ctx


@pytest.fixture
def provider(emu: Any, images: FakeImages) -> Iterator[Callable[..., SnowflakeProvider]]:
    """A factory of providers connected to the emulator (closed at the end of the test)."""
    made: list[SnowflakeProvider] = []

    def make(**options: Any) -> SnowflakeProvider:
        params = {**emu.connection_params(), "image_tool": images, "ready_timeout": 20, "pool_timeout": 20,
                  **options}
        p = SnowflakeProvider(params.pop("stack_name", "test"), **params)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
