"""What the containers of a service's instance request, against a node of its pool's instance family.

A service instance is its spec's containers running together on one node of the compute pool
(https://docs.snowflake.com/en/sql-reference/sql/create-service), and requests are validated against the node
capacity of the pool's instance family (https://docs.snowflake.com/en/release-notes/bcr-bundles/2024_06/bcr-1648;
https://docs.snowflake.com/en/developer-guide/snowpark-container-services/specification-reference, containers.
resources): requests beyond it could never be scheduled, while a limit beyond it is only capped. Checked only
where the pool is declared with a family spcs-iac knows; only requests the spec states are counted (what
Snowflake derives for the others is at most 0.5 vCPU and 0.5 GiB each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spcs_iac.errors import Issue
from spcs_iac.model.amounts import GIB, memory_bytes, vcpus
from spcs_iac.model.kinds import ComputePool, JobService, Service

ONE_NODE = "the containers of an instance run together on one node"


def check_capacity(svc: Service | JobService) -> list[Issue]:
    pool = svc.compute_pool
    family = pool.family if isinstance(pool, ComputePool) else None
    if family is None:  # a pool named by string, or a family spcs-iac does not know: Snowflake decides
        return []
    node = (f"a node of pool {pool.name} ({pool.instance_family}) has {family.vcpu:g} vCPU, "
            f"{family.memory_gib} GiB memory, {family.gpus} GPUs")
    issues = [
        *_requests(svc, "cpu", vcpus, family.vcpu, lambda total: round(total, 3), "{} vCPU", node),
        *_requests(svc, "memory", memory_bytes, family.memory_gib * GIB,
                   lambda total: f"{round(total / GIB, 2):g} GiB", "{} of memory", node),
    ]
    gpus = [(i, c.name, c.resources.gpus) for i, c in enumerate(svc.typed_spec.containers)
            if c.resources and c.resources.gpus]
    total = sum(n for _i, _name, n in gpus)
    if total > family.gpus:
        where, who = _who(gpus)
        together = f"{who} ask for {total} GPU(s) together" if len(gpus) > 1 else f"asks for {total} GPU(s)"
        issues.append(Issue(svc.describe(), f"spec.containers[{where}].resources.limits.nvidia.com/gpu",
                            f"{together} but pool {pool.name} ({pool.instance_family}) has {family.gpus} per node"
                            + (f"; {ONE_NODE}" if len(gpus) > 1 else ""), total))
    return issues


def _requests(svc: Service | JobService, amount: str, parse: Callable[[Any], float], capacity: float,
              shown_total: Callable[[float], Any], unit: str, node: str) -> list[Issue]:
    asked = [(i, c.name, getattr(c.resources.requests, amount))
             for i, c in enumerate(svc.typed_spec.containers) if c.resources and c.resources.requests]
    asked = [(i, name, value) for i, name, value in asked if value is not None]
    total = round(sum(parse(value) for _i, _name, value in asked), 6)  # 0.2 + 0.4 + 0.3 + 0.1 is 1 vCPU
    if total <= capacity:
        return []
    where, who = _who(asked)
    field = f"spec.containers[{where}].resources.requests.{amount}"
    if len(asked) == 1:
        given = asked[0][2]
        message = f"container {asked[0][1]} requests {unit.format(given)}, but {node}"
    else:
        given = shown_total(total)
        message = f"{who} request {unit.format(given)} together, but {node}; {ONE_NODE}"
    return [Issue(svc.describe(), field, message, given)]


def _who(parts: list[tuple[int, str, Any]]) -> tuple[str, str]:
    """``0,2`` and ``containers main (1) and side (2)``: where in the spec, and who asks for how much."""
    named = [f"{name} ({value})" for _i, name, value in parts]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    return ",".join(str(i) for i, _name, _value in parts), f"containers {listed}"

