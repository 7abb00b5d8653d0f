"""A plan that deletes an object declared objects still name is refused before anything runs: the stage a
spec mounts, the service a function calls, the image tag a spec runs (in-memory target)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spcs_iac import (
    ComputePool,
    Container,
    Database,
    FunctionArgument,
    Image,
    ImageRepository,
    Service,
    ServiceFunction,
    ServiceSpec,
    Stack,
    Stage,
    Volume,
)
from spcs_iac.drivers import api
from spcs_iac.errors import StackValidationError
from spcs_iac.plan.model import Action
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def _stack(tmp_path: Path, *, stage: bool = True, service_declared: bool = True, tag: str = "dev") -> Stack:
    (tmp_path / "ctx").mkdir(exist_ok=True)
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    s = Stack("uses")
    db = s.add(Database(name="USES_DB"))
    pool = s.add(ComputePool(name="USES_POOL", instance_family="CPU_X64_XS"))
    repo = s.add(ImageRepository(name="REPO", database=db))
    s.add(Image(name="app", tag=tag, repository=repo, context=str(tmp_path / "ctx")))
    if stage:
        s.add(Stage(name="FILES", database=db))
    spec = ServiceSpec(containers=[Container(name="app", image="/uses_db/public/repo/app:dev")],
                       endpoints=[{"name": "api", "port": 8000}],
                       volumes=[Volume(name="files", source="@FILES")])
    svc = Service(name="API", database=db, compute_pool=pool, spec=spec)
    if service_declared:
        s.add(svc)
    s.add(ServiceFunction(name="SCORE", database=db, service="API", endpoint="api", path="/score",
                          arguments=[FunctionArgument(name="x", datatype="FLOAT")], returns="FLOAT"))
    if not service_declared:
        s.add(ComputePool(name="OTHER_POOL", instance_family="CPU_X64_XS"))
    return s


def _plan(stack: Stack, target: MemoryTarget, state: Path):
    return api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=state)


def _apply(stack: Stack, target: MemoryTarget, state: Path) -> None:
    result = api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=state)
    assert result.ok, result.failed


def test_deleting_a_stage_a_spec_still_mounts_is_refused(tmp_path: Path) -> None:
    target = MemoryTarget()
    _apply(_stack(tmp_path), target, tmp_path / "state")
    with pytest.raises(StackValidationError) as err:
        _plan(_stack(tmp_path, stage=False), target, tmp_path / "state")
    text = str(err.value)
    assert "Service USES_DB.PUBLIC.API" in text and "spec.volumes[0].source" in text, text
    assert "stage USES_DB.PUBLIC.FILES, which this plan deletes" in text, text


def test_deleting_a_service_a_function_still_calls_is_refused(tmp_path: Path) -> None:
    target = MemoryTarget()
    _apply(_stack(tmp_path), target, tmp_path / "state")
    with pytest.raises(StackValidationError) as err:
        _plan(_stack(tmp_path, service_declared=False), target, tmp_path / "state")
    assert "service USES_DB.PUBLIC.API, which this plan deletes" in str(err.value), str(err.value)
    assert "SCORE" in str(err.value)


def test_deleting_the_image_tag_a_spec_still_runs_is_refused(tmp_path: Path) -> None:
    target = MemoryTarget()
    _apply(_stack(tmp_path), target, tmp_path / "state")
    with pytest.raises(StackValidationError) as err:
        _plan(_stack(tmp_path, tag="v2"), target, tmp_path / "state")
    text = str(err.value)
    assert "spec.containers[0].image" in text and "image USES_DB.PUBLIC.REPO/app:dev, which this plan deletes" in text


def test_deleting_what_nothing_names_any_more_plans(tmp_path: Path) -> None:
    target = MemoryTarget()
    _apply(_stack(tmp_path), target, tmp_path / "state")
    s = _stack(tmp_path)
    s._added = [r for r in s._added if r.kind not in ("service", "service_function")]
    p = _plan(s, target, tmp_path / "state")
    assert {c.address for c in p.actionable if c.action is Action.DELETE} == {
        "service.USES_DB.PUBLIC.API", "service_function.USES_DB.PUBLIC.SCORE(FLOAT)"}
