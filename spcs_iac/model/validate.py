"""Cross-object validation: rules that need more than one object (run by ``validate`` and ``plan``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from spcs_iac.errors import Issue
from spcs_iac.model.base import Resource
from spcs_iac.model.kinds import ComputePool, Image, JobService, Service, ServiceFunction

if TYPE_CHECKING:
    from spcs_iac.model.stack import Stack

# A full external image reference starts with a registry host (has a dot or a port, or is localhost).
EXTERNAL_IMAGE = re.compile(r"^(localhost|[^/]*[.:][^/]*)/.+")


def validate_stack(stack: Stack) -> list[Issue]:
    index = stack.resources()
    issues: list[Issue] = []
    for r in index.values():
        if isinstance(r, Service | JobService):
            issues.extend(_check_service(r))
        if isinstance(r, ServiceFunction):
            issues.extend(_check_function(r))
    return issues


def _check_service(svc: Service | JobService) -> list[Issue]:
    issues: list[Issue] = []
    spec = svc.typed_spec
    pool = svc.compute_pool
    for i, c in enumerate(spec.containers):
        where = f"spec.containers[{i}]"
        if isinstance(c.image, str) and not EXTERNAL_IMAGE.match(c.image):
            issues.append(Issue(
                svc.describe(), f"{where}.image",
                "names no Image or repository declared in the stack; declare the Image, or give a full "
                "external reference (registry-host/path:tag)", c.image,
            ))
        gpus = c.resources.gpus if c.resources else 0
        if gpus and isinstance(pool, ComputePool) and gpus > pool.family.gpus:
            issues.append(Issue(
                svc.describe(), f"{where}.resources.limits.nvidia.com/gpu",
                f"asks for {gpus} GPU(s) but pool {pool.name} ({pool.instance_family}) has {pool.family.gpus} per node",
                gpus,
            ))
        if isinstance(c.image, Image) and isinstance(pool, ComputePool):
            arch = pool.family.arch
            if not c.image.platform.endswith(arch):
                issues.append(Issue(
                    svc.describe(), f"{where}.image",
                    f"image {c.image.fqn} is built for {c.image.platform}, pool {pool.name} runs linux/{arch}",
                    c.image.platform,
                ))
    if isinstance(svc, JobService):
        for e in spec.endpoints or []:
            if e.public:
                issues.append(Issue(svc.describe(), "spec.endpoints", "a job service cannot have public endpoints", e.name))
    return issues


def _check_function(fn: ServiceFunction) -> list[Issue]:
    svc = fn.service
    if not isinstance(svc, Resource):
        return []
    if isinstance(svc, JobService):
        return [Issue(fn.describe(), "service", "job services cannot back a service function", svc.fqn)]
    if not isinstance(svc, Service):
        return [Issue(fn.describe(), "service", "must be a Service or a service name", svc.describe())]
    endpoint = svc.typed_spec.endpoint(fn.endpoint)
    names = [e.name for e in svc.typed_spec.endpoints or []]
    if endpoint is None:
        return [Issue(fn.describe(), "endpoint", f"service {svc.fqn} has no such endpoint; it has: {names or '(none)'}",
                      fn.endpoint)]
    if not endpoint.is_http:
        return [Issue(fn.describe(), "endpoint", "service functions need an HTTP endpoint", f"{fn.endpoint} (TCP)")]
    return []
