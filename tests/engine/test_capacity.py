"""A service's instance runs its containers together on one node of its pool: what they request together
must fit the pool's instance family (checked when the pool is declared, so its family is known)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, JobService, Service, Stack
from spcs_iac.drivers import api
from spcs_iac.errors import DeclarationError, StackValidationError
from tests.support.memory_provider import MemoryProvider, MemoryTarget

IMAGE = "registry.example.com/app:1"


def container(name: str, requests: dict[str, Any] | None = None, limits: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v is not None}
    return {"name": name, "image": IMAGE, **({"resources": resources} if resources else {})}


def stack_with(*containers: dict[str, Any], family: str = "CPU_X64_XS", kind: type = Service,
               pool: Any = None) -> tuple[Stack, Any]:
    s = Stack("capacity")
    pool = pool if pool is not None else s.add(ComputePool(name="POOL", instance_family=family))
    svc = s.add(kind(name="API", database="DB", compute_pool=pool, spec={"spec": {"containers": list(containers)}}))
    return s, svc


def issues(s: Stack) -> list[str]:
    with pytest.raises(StackValidationError) as refused:
        s.validate()
    return [str(i) for i in refused.value.issues]


@pytest.mark.parametrize("kind", [Service, JobService])
def test_requests_beyond_the_instance_family_are_refused(kind: type) -> None:
    s, svc = stack_with(container("main", {"memory": "64Gi", "cpu": 40}), kind=kind)
    assert issues(s) == [
        f"{type(svc).__name__} DB.PUBLIC.API: spec.containers[0].resources.requests.cpu: container main requests "
        "40 vCPU, but a node of pool POOL (CPU_X64_XS) has 1 vCPU, 6 GiB memory, 0 GPUs (given: 40)",
        f"{type(svc).__name__} DB.PUBLIC.API: spec.containers[0].resources.requests.memory: container main "
        "requests 64Gi of memory, but a node of pool POOL (CPU_X64_XS) has 1 vCPU, 6 GiB memory, 0 GPUs "
        "(given: '64Gi')",
    ]


def test_a_plan_is_refused_as_validate_is(tmp_path: Path) -> None:
    s, _svc = stack_with(container("main", {"memory": "64Gi"}))
    with pytest.raises(StackValidationError, match=r"requests 64Gi of memory, but a node of pool POOL"):
        api.plan(s, "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=str(tmp_path))


def test_the_containers_of_an_instance_add_up() -> None:
    s, _svc = stack_with(container("main", {"memory": "4Gi", "cpu": "600m"}), container("side"),
                         container("proxy", {"memory": "2500Mi", "cpu": 0.5}))
    assert issues(s) == [
        "Service DB.PUBLIC.API: spec.containers[0,2].resources.requests.cpu: containers main (600m) and proxy "
        "(0.5) request 1.1 vCPU together, but a node of pool POOL (CPU_X64_XS) has 1 vCPU, 6 GiB memory, 0 GPUs; "
        "the containers of an instance run together on one node (given: 1.1)",
        "Service DB.PUBLIC.API: spec.containers[0,2].resources.requests.memory: containers main (4Gi) and proxy "
        "(2500Mi) request 6.44 GiB of memory together, but a node of pool POOL (CPU_X64_XS) has 1 vCPU, 6 GiB "
        "memory, 0 GPUs; the containers of an instance run together on one node (given: '6.44 GiB')",
    ]


def test_gpus_add_up_too() -> None:
    gpu = {"nvidia.com/gpu": 1}
    s, _svc = stack_with(container("a", gpu, gpu), container("b", gpu, gpu), family="GPU_NV_S")
    assert issues(s) == [
        "Service DB.PUBLIC.API: spec.containers[0,1].resources.limits.nvidia.com/gpu: containers a (1) and b (1) "
        "ask for 2 GPU(s) together but pool POOL (GPU_NV_S) has 1 per node; the containers of an instance run "
        "together on one node (given: 2)",
    ]
    stack_with(container("a", gpu, gpu), container("b"), family="GPU_NV_S")[0].validate()


@pytest.mark.parametrize("requests", [
    {"cpu": 1, "memory": "6Gi"}, {"cpu": "1000m", "memory": "6G"}, {"cpu": 0.25},
])
def test_requests_that_fit_a_node_pass(requests: dict[str, Any]) -> None:
    stack_with(container("main", requests), container("side"))[0].validate()


def test_a_node_filled_exactly_by_several_containers_passes() -> None:
    # 0.2 + 0.4 + 0.3 + 0.1 is 1.0000000000000002 in floating point: still one vCPU.
    stack_with(*(container(f"c{i}", {"cpu": cpu, "memory": "1.5Gi"}) for i, cpu in enumerate(
        (0.2, "400m", 0.3, "100m"))))[0].validate()


def test_limits_beyond_the_node_are_capped_not_refused() -> None:
    # Snowflake caps a limit above the node's capacity (specification reference, containers.resources).
    stack_with(container("main", None, {"cpu": 8, "memory": "64Gi"}))[0].validate()


def test_a_pool_named_by_string_or_of_an_unknown_family_is_not_checked() -> None:
    big = container("main", {"memory": "64Gi", "cpu": 40})
    stack_with(big, pool="SOME_POOL")[0].validate()
    with pytest.warns(UserWarning, match="not one spcs-iac knows"):
        pool = ComputePool(name="NEW", instance_family="CPU_X64_NEXT")
    stack_with(big, pool=pool)[0].validate()


@pytest.mark.parametrize("amount, requested, limited", [("memory", "2Gi", "1Gi"), ("cpu", 2, "1500m")])
def test_a_limit_below_its_request_is_refused(amount: str, requested: Any, limited: Any) -> None:
    with pytest.raises(DeclarationError) as refused:
        stack_with(container("main", {amount: requested}, {amount: limited}), pool="SOME_POOL")
    [issue] = refused.value.issues
    assert issue.obj == "Service 'API'"
    assert issue.field == "spec.containers[main].resources"
    assert (f"limits.{amount} {limited} is below requests.{amount} {requested}: a container's limit must be at "
            "least its request") in issue.message
    # Equal, or one of the two left out, is fine.
    stack_with(container("main", {amount: requested}, {amount: requested}), pool="SOME_POOL")
    stack_with(container("main", None, {amount: limited}), pool="SOME_POOL")
