"""Counting a stack's objects does not resolve the whole stack again (a loop that adds and counts stays
linear), and the count is always the number of objects a resolution finds."""

from __future__ import annotations

from typing import Any

import pytest

from spcs_iac import ComputePool, Database, Grant, Role, Schema, Service, ServiceSpec, Stack, Stage
from spcs_iac.errors import StackValidationError
from spcs_iac.model import stack as stack_module


@pytest.fixture
def resolutions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a stack was resolved (each resolution collects every object once)."""
    calls: list[int] = []
    collect = stack_module._collect

    def counted(added: Any) -> Any:
        calls.append(len(added))
        return collect(added)

    monkeypatch.setattr(stack_module, "_collect", counted)
    return calls


def spec(port: int) -> ServiceSpec:
    return ServiceSpec.model_validate({"spec": {
        "containers": [{"name": "main", "image": "registry.example.com/app:1"}],
        "endpoints": [{"name": "api", "port": port}]}})


def test_counting_while_adding_resolves_nothing_until_the_objects_are_used(resolutions: list[int]) -> None:
    s = Stack("counted")
    owner = s.add(Role(name="OWNER"))
    db = s.add(Database(name="DB", owner=owner))
    counts = [len(s), len(s)]
    for i in range(200):
        schema = Schema(name=f"S{i}", database=db, owner=owner)  # referenced, never added itself
        s.add(Stage(name="FILES", database=db, schema=schema, owner=owner))
        counts.append(len(s))
    assert counts == [2, 2, *(2 + 2 * (i + 1) for i in range(200))]
    assert resolutions == []
    assert len(s.resources()) == len(s) == 402 and resolutions == [202]
    assert len(s) == 402 and resolutions == [202]  # resolved once, counted from it since


def test_the_count_is_what_a_resolution_finds(resolutions: list[int]) -> None:
    s = Stack("same")
    role = s.add(Role(name="APP"))
    pools = [ComputePool(name=f"POOL_{i}", instance_family="CPU_X64_XS", max_nodes=1) for i in range(7)]
    expected = []
    for i in range(30):  # services share the pools, which only they refer to
        svc = s.add(Service(name=f"SVC_{i}", database="DB", compute_pool=pools[i % 7], spec=spec(8000 + i),
                            owner=role))
        s.add(Grant(to=role, on=svc, privileges=["MONITOR"]))
        expected.append(len(s))
        if i % 10 == 9:  # resolving in between leaves the count where it was
            assert len(s.resources()) == expected[-1]
    fresh = Stack("same")
    fresh.extend(s._added)
    assert len(fresh.resources()) == expected[-1]
    assert expected == [1 + 2 * (i + 1) + min(i + 1, 7) for i in range(30)]
    assert resolutions == [21, 41, 61, 61]  # the three in between and the fresh stack's


def test_two_objects_with_one_name_are_still_reported_when_counting() -> None:
    s = Stack("clash")
    s.add(Role(name="R"))
    assert len(s) == 1
    s.add(Role(name="r"))
    with pytest.raises(StackValidationError, match="same name in one scope"):
        len(s)
