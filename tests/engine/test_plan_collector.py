"""Planning runs with Python's cyclic garbage collector paused (its passes over the growing heap made a
large plan grow faster than the stack: bench/bench_engine.py) and leaves the collector as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.drivers import api
from spcs_iac.plan.target import Observed, ReadRequest
from tests.engine.stacks import app_stack
from tests.support.memory_provider import MemoryProvider, MemoryTarget


class WatchedProvider(MemoryProvider):
    """The in-memory target, noting whether the collector was on while the plan read and compiled."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.collector_on: list[bool] = []

    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        self.collector_on.append(gc.isenabled())
        return super().read(requests)

    def statements(self, change: Any, outputs: Any = None) -> list[str]:
        self.collector_on.append(gc.isenabled())
        return super().statements(change, outputs)


@pytest.fixture
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_plan_and_apply_pause_the_collector_and_turn_it_back_on(tmp_path: Path, collector_restored: None) -> None:
    stack, target = app_stack(tmp_path / "ctx"), MemoryTarget()
    provider = WatchedProvider(target=target)
    gc.enable()
    plan = api.plan(stack, "memory", provider=provider, state_dir=tmp_path)
    assert plan.actionable and provider.collector_on and not any(provider.collector_on)
    assert gc.isenabled() and gc.get_freeze_count() == 0  # nothing is left out of later collections
    provider.collector_on.clear()
    result = api.apply(stack, "memory", provider=provider, state_dir=tmp_path)
    assert result.ok and provider.collector_on and not any(provider.collector_on)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_collector_the_caller_turned_off_stays_off(tmp_path: Path, collector_restored: None) -> None:
    gc.disable()
    api.plan(app_stack(tmp_path / "ctx"), "memory", provider=MemoryProvider(target=MemoryTarget()),
             state_dir=tmp_path)
    assert not gc.isenabled()


def test_objects_the_caller_froze_stay_frozen(tmp_path: Path, collector_restored: None) -> None:
    gc.enable()
    held = [[] for _ in range(1000)]  # frozen with the rest, and alive throughout: they must stay frozen
    gc.freeze()  # as a server does before forking workers
    assert gc.get_freeze_count() >= len(held)
    api.plan(app_stack(tmp_path / "ctx"), "memory", provider=MemoryProvider(target=MemoryTarget()),
             state_dir=tmp_path)
    # Frozen objects that died meanwhile leave the count (the plan's worker threads end); ours are alive, so
    # only an unfreeze (which empties the count) could take them out.
    assert gc.isenabled() and gc.get_freeze_count() >= len(held)
