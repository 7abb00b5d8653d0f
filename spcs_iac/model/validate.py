"""Cross-object validation: rules that need more than one object (run by ``validate`` and ``plan``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

from spcs_iac.errors import Issue
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.capacity import check_capacity
from spcs_iac.model.kinds import (
    ComputePool,
    Image,
    ImageRepository,
    JobService,
    RoleGrant,
    Service,
    ServiceFunction,
    ServiceRoleGrant,
)

if TYPE_CHECKING:
    from spcs_iac.model.stack import Stack

# A full external image reference starts with a registry host (has a dot or a port, or is localhost).
EXTERNAL_IMAGE = re.compile(r"^(localhost|[^/]*[.:][^/]*)/.+")


def validate_stack(stack: Stack) -> list[Issue]:
    index = stack.resources()
    issues: list[Issue] = []
    repositories = {r.registry_path for r in index.values() if isinstance(r, ImageRepository)}
    for r in index.values():
        if isinstance(r, Service | JobService):
            issues.extend(_check_service(r, repositories))
        if isinstance(r, ServiceFunction):
            issues.extend(_check_function(r))
        if isinstance(r, Image):
            issues.extend(_check_image(r))
        if isinstance(r, ServiceRoleGrant):
            issues.extend(_check_service_role(r))
    issues.extend(_role_grant_cycles([r for r in index.values() if isinstance(r, RoleGrant)]))
    return issues


def _role_grant_cycles(grants: list[RoleGrant]) -> list[Issue]:
    """Role grants that would form a cycle: Snowflake refuses the grant closing it, so an apply would stop
    with the others made. Roles are compared by name (declared or not)."""
    def name(v: Resource | str) -> str:
        return v.name if isinstance(v, Resource) else v

    granted_to: dict[str, set[str]] = {}  # role -> roles it is granted to (which then inherit it)
    for g in grants:
        granted_to.setdefault(name(g.role), set()).add(name(g.to_role))
    try:
        TopologicalSorter(granted_to).prepare()
    except CycleError as exc:
        cycle = [str(n) for n in exc.args[1]]
        links = set(zip(cycle, cycle[1:], strict=False))  # graphlib lists a cycle from a node back to it
        closing = next((g for g in grants if (name(g.to_role), name(g.role)) in links), grants[0])
        path = " -> ".join(ids.quote(n) for n in reversed(cycle))
        return [Issue(closing.describe(), "to_role", f"makes a cycle of role grants, which Snowflake refuses: "
                      f"{path} (each role granted to the next)", name(closing.to_role))]
    return []


def _check_service_role(grant: ServiceRoleGrant) -> list[Issue]:
    """The role must be one the service's spec declares (or the predefined ALL_ENDPOINTS_USAGE)."""
    svc = grant.service
    if not isinstance(svc, Resource):
        return []
    if not isinstance(svc, Service):
        return [Issue(grant.describe(), "service", "service roles belong to services, not job services", svc.fqn)]
    declared = ["ALL_ENDPOINTS_USAGE", *(r.name.upper() for r in svc.typed_spec.service_roles or [])]
    if grant.service_role.upper() not in declared:
        return [Issue(grant.describe(), "service_role", f"service {svc.fqn} declares no such service role; "
                      f"it has: {', '.join(declared)}", grant.service_role)]
    return []


def _check_image(img: Image) -> list[Issue]:
    """The build context must be there before anything runs (docker build fails late and obscurely)."""
    root = Path(img.context)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        return [Issue(img.describe(), "context", f"{what}; the image is built from this directory with docker "
                      f"build (relative paths are from the working directory, {Path.cwd()})", img.context)]
    if not (root / img.dockerfile).is_file():
        return [Issue(img.describe(), "dockerfile", f"there is no such file in the build context {img.context}",
                      img.dockerfile)]
    return []


def _check_ports(svc: Service | JobService) -> list[Issue]:
    """One port serves one endpoint, and one container of an instance listens on it (they share localhost)."""
    spec = svc.typed_spec
    issues: list[Issue] = []
    taken: list[tuple[int, int, str]] = []
    for j, e in enumerate(spec.endpoints or []):
        lo, _, hi = (e.port_range or "").partition("-")
        span = (e.port, e.port) if e.port else (int(lo), int(hi))
        clash = next((name for a, b, name in taken if a <= span[1] and span[0] <= b), None)
        if clash:
            issues.append(Issue(svc.describe(), f"spec.endpoints[{j}].{'port' if e.port else 'portRange'}",
                                f"endpoint {e.name} uses port {e.port or e.port_range}, which endpoint {clash} "
                                "already uses; one port serves one endpoint", e.port or e.port_range))
        taken.append((*span, e.name))
    listeners: dict[int, str] = {}
    for i, c in enumerate(spec.containers):
        for probe_name, probe in (("readinessProbe", c.readiness_probe), ("livenessProbe", c.liveness_probe)):
            if probe is None:
                continue
            owner = listeners.setdefault(probe.port, c.name)
            if owner != c.name:
                issues.append(Issue(
                    svc.describe(), f"spec.containers[{i}].{probe_name}.port",
                    f"container {c.name} declares port {probe.port}, which container {owner} declares too; the "
                    "containers of an instance share one network namespace, so only one of them can listen on it",
                    probe.port))
    return issues


# Kinds a stack may name without declaring them: the target must have them (checked when planning).
NAMED_KINDS = ("secret", "stage", "external_access_integration", "network_rule")
# What objects run in, on or as, named by string: the database and schema they live in, the pool and
# warehouse they run on, the role that owns them or gets a grant, the service a function calls. The local
# target checks these too (nothing exists there outside its stacks); on an account they may well exist
# where the planning role cannot see them.
PLACE_KINDS = ("database", "schema", "compute_pool", "warehouse", "role", "service")
# Objects every account has (https://docs.snowflake.com/en/user-guide/security-access-control-overview
# #system-defined-roles, .../sql-reference/snowflake-db): never missing, whatever the target.
SYSTEM_ROLES = frozenset({"ACCOUNTADMIN", "SYSADMIN", "SECURITYADMIN", "USERADMIN", "PUBLIC", "ORGADMIN"})
SYSTEM_DATABASES = frozenset({"SNOWFLAKE"})
SYSTEM_SCHEMAS = frozenset({"INFORMATION_SCHEMA"})
IMPLICIT_SCHEMAS = frozenset({"PUBLIC", "INFORMATION_SCHEMA"})  # every database comes with these


@dataclass(frozen=True)
class NamedReference:
    """An object named, not declared, by another: which object, which field, what kind and name."""

    obj: Resource
    field: str  # e.g. spec.containers[0].secrets[0].snowflakeSecret
    kind: str
    name: str  # qualified and normalised, as the target stores it
    given: str

    def issue(self, why: str) -> Issue:
        label = self.kind.replace("_", " ")
        return Issue(self.obj.describe(), self.field, f"names {label} {self.name}, {why}", self.given)


def named_references(resources: Iterable[Resource], kinds: Iterable[str] = NAMED_KINDS) -> list[NamedReference]:
    """Objects of ``kinds`` that the given objects name but the set does not declare. Account-level names
    (roles, databases, pools, warehouses, integrations) are taken as they are; the others are qualified by
    the naming object's database and schema. A grant's ``on`` is left out: grants name all sorts of things,
    and the grant itself fails clearly when its object is missing."""
    objects = list(resources)
    declared = {r.address for r in objects}
    wanted = set(kinds)
    out: list[NamedReference] = []

    def add(r: Resource, field: str, kind: str, given: str, qualify: bool = True) -> None:
        try:
            name = r.qualify(given) if qualify and hasattr(r, "qualify") else ids.qualified(*ids.split_qualified(given))
        except ids.IdentifierError:
            return  # a malformed name is reported by the field's own validation
        if f"{kind}.{name}" not in declared and not _always_there(kind, name, declared):
            out.append(NamedReference(r, field, kind, name, given))

    for r in objects:
        if isinstance(r, Service | JobService):
            spec = r.typed_spec
            for i, c in enumerate(spec.containers):
                for j, s in enumerate(c.secrets or []):
                    if "secret" in wanted:
                        add(r, f"spec.containers[{i}].secrets[{j}].snowflakeSecret", "secret", s.secret_name)
            for k, v in enumerate(spec.volumes or []):
                location = v.stage_location
                if location and "stage" in wanted:
                    field = "source" if v.source.startswith("@") else "stageConfig.name"
                    add(r, f"spec.volumes[{k}].{field}", "stage", location.lstrip("@").split("/", 1)[0])
        for field, kind, target in r.references():
            if kind in wanted and isinstance(target, str) and field not in ("spec", "on"):
                add(r, field, kind, target, qualify=kind in SCHEMA_LEVEL)
    return out


SCHEMA_LEVEL = frozenset({"secret", "stage", "network_rule", "service"})  # named relative to the schema


def _always_there(kind: str, name: str, declared: set[str]) -> bool:
    """System objects, and a declared database's PUBLIC and INFORMATION_SCHEMA schemas."""
    parts = ids.split_qualified(name)
    if kind == "role":
        return parts[-1] in SYSTEM_ROLES
    if kind == "database":
        return parts[-1] in SYSTEM_DATABASES
    if kind == "schema" and len(parts) == 2 and parts[1] in IMPLICIT_SCHEMAS:
        return parts[0] in SYSTEM_DATABASES or f"database.{ids.quote(parts[0])}" in declared
    return False


def unresolved_by_object(refs: Iterable[NamedReference], exists: Callable[[str, str], bool], where: str,
                         hint: str = "") -> dict[str, list[Issue]]:
    """Issues for the named objects ``exists(kind, name)`` does not find, e.g. on the local target (where
    nothing exists outside the stacks of its state directory) or in a Snowflake account, by the address of
    the object naming them."""
    out: dict[str, list[Issue]] = {}
    for ref in refs:
        if not exists(ref.kind, ref.name):
            out.setdefault(ref.obj.address, []).append(ref.issue(f"which {where} does not have{hint}"))
    return out


def image_repository_path(image: str) -> str | None:
    """``/db/schema/repo/name:tag[@digest]`` -> ``db/schema/repo``, the repository a spec's image path is in."""
    parts = image.lstrip("/").split("/")
    return "/".join(parts[:3]).lower() if image.startswith("/") and len(parts) >= 4 else None


def _check_service(svc: Service | JobService, repositories: set[str]) -> list[Issue]:
    issues: list[Issue] = []
    spec = svc.typed_spec
    pool = svc.compute_pool
    issues.extend(_check_ports(svc))
    issues.extend(check_capacity(svc))  # CPU, memory and GPUs an instance requests, against a node of its pool
    for i, c in enumerate(spec.containers):
        where = f"spec.containers[{i}]"
        # A path into a declared repository names an image pushed there by other means (an exported account).
        if isinstance(c.image, str) and not EXTERNAL_IMAGE.match(c.image) \
                and image_repository_path(c.image) not in repositories:
            issues.append(Issue(
                svc.describe(), f"{where}.image",
                "names no Image or repository declared in the stack; declare the Image, or give a full "
                "external reference (registry-host/path:tag)", c.image,
            ))
        family = pool.family if isinstance(pool, ComputePool) else None  # None: unknown, not checked
        if isinstance(c.image, Image) and isinstance(pool, ComputePool) and family is not None:
            arch = family.arch
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
