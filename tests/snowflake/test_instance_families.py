"""Instance families: known ones keep their limits and GPU checks; a family Snowflake adds later passes."""

from __future__ import annotations

import pytest

from spcs_iac import ComputePool, Service, ServiceSpec, Stack
from spcs_iac.errors import DeclarationError
from spcs_iac.model.kinds.spcs import UnknownInstanceFamily
from spcs_iac.model.validate import validate_stack
from spcs_iac.targets.snowflake.statements import create_steps


def test_an_unknown_family_passes_with_a_warning_naming_it() -> None:
    with pytest.warns(UnknownInstanceFamily, match=r"ComputePool NEW_POOL: instance_family 'GPU_NEXT_G9_8'"):
        pool = ComputePool(name="NEW_POOL", instance_family="gpu_next_g9_8")
    assert pool.family is None
    assert [s.render() for s in create_steps(pool, {})] == [
        "CREATE COMPUTE POOL NEW_POOL MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = GPU_NEXT_G9_8"]


def test_a_known_family_raises_no_warning_and_keeps_its_gpu_check(recwarn: pytest.WarningsRecorder) -> None:
    stack = Stack("gpus")
    pool = stack.add(ComputePool(name="CPU_POOL", instance_family="CPU_X64_XS"))
    spec = ServiceSpec.model_validate({"spec": {"containers": [{
        "name": "main", "image": "registry.example.com/x:1",
        "resources": {"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 1}}}]}})
    stack.add(Service(name="SVC", database="DB", compute_pool=pool, spec=spec))
    assert not [w for w in recwarn if issubclass(w.category, UnknownInstanceFamily)]
    issues = validate_stack(stack)
    assert any("asks for 1 GPU(s) but pool CPU_POOL (CPU_X64_XS) has 0 per node" in str(i) for i in issues)


def test_a_family_that_is_not_a_keyword_is_still_rejected() -> None:
    with pytest.raises(DeclarationError, match="instance_family"):
        ComputePool(name="P", instance_family="CPU X64; DROP")


def test_gpus_on_an_unknown_family_are_not_checked(recwarn: pytest.WarningsRecorder) -> None:
    stack = Stack("gpus")
    pool = stack.add(ComputePool(name="NEW_POOL", instance_family="GPU_NEXT_G9_8"))
    spec = ServiceSpec.model_validate({"spec": {"containers": [{
        "name": "main", "image": "registry.example.com/x:1",
        "resources": {"requests": {"nvidia.com/gpu": 8}, "limits": {"nvidia.com/gpu": 8}}}]}})
    stack.add(Service(name="SVC", database="DB", compute_pool=pool, spec=spec))
    assert validate_stack(stack) == []
