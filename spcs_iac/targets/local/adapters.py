"""One adapter per kind: how the local target backs it, and what read / create / update / delete do.

``ADAPTERS`` is the only list of kinds in the local target; the provider dispatches through it. Each
adapter says what backs its kind locally (``Backing``) and references the functions below. ``props``
names the declared fields the local target reads by name from the object or its catalog record, so a
test can hold them against the kind declarations; the secret fields are not named here but read from
the declarations (``Prop.sensitive``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.model import Change
from spcs_iac.plan.running import NOT_READY
from spcs_iac.plan.target import ApplyContext, Observed, ReadRequest
from spcs_iac.targets import images as docker_images
from spcs_iac.targets.local import edge, naming
from spcs_iac.targets.local import statements as st
from spcs_iac.targets.local import tables as tb
from spcs_iac.targets.local.instances import drift, job_status, looping, not_ready
from spcs_iac.targets.local.records import Record, find_anywhere
from spcs_iac.targets.local.runtime import Runtime, build_runtime, dns_name

if TYPE_CHECKING:
    from spcs_iac.targets.local.provider import LocalProvider


class Backing(StrEnum):
    """What holds a kind's objects locally (every kind also has a catalog record)."""

    RECORD = "record"  # the catalog record only; dropped with its database
    NETWORK = "network"  # Docker networks (compute pools)
    REGISTRY = "registry"  # a path or a tag in the local registry
    CONTAINERS = "containers"  # labelled containers (services, jobs)
    WAREHOUSE = "warehouse"  # tables in the stack's DuckDB warehouse (tables.py)


@dataclass(frozen=True)
class Listing:
    """The Docker listings one read takes, once per run for every object."""

    containers: dict[str, list[dict[str, Any]]]  # object address -> its container summaries
    networks: set[str | None]  # addresses of the pools whose internal network exists
    digests: dict[str, str | None] = field(default_factory=dict)  # image address -> the registry's digest


Observe = Callable[["LocalProvider", ReadRequest, Record | None, Listing], Observed | None]
Put = Callable[["LocalProvider", Resource, Record, Change, ApplyContext, bool], dict[str, Any]]  # bool: creating
Remove = Callable[["LocalProvider", Change, Record | None], None]
Lines = Callable[[Change, Resource, str, str], list[str]]  # change, desired object, stack, registry host
DropLine = Callable[[Change, str], str]  # change, stack
DropDetail = Callable[["LocalProvider", Change], list[str]]  # what a delete also removes (read at plan time)
Op = Callable[["LocalProvider", Record], Any]


def _nothing_more(p: LocalProvider, change: Change, rec: Record | None) -> None:
    """Deleting is forgetting the record (which the provider does for every kind)."""


@dataclass(frozen=True)
class LocalAdapter:
    kind: str
    backing: Backing
    observe: Observe  # read: what the target has, None when absent
    put: Put  # create and update: returns the outputs
    lines: Lines  # plan statements of a create / update
    drop_line: DropLine  # plan statement of a delete
    remove: Remove = _nothing_more  # delete: tear down what backs it, before the record goes
    props: tuple[str, ...] = ()  # declared fields read by name (from the object or its record)
    status: Op | None = None  # CLI operations the kind supports
    suspend: Op | None = None
    resume: Op | None = None
    drop_detail: DropDetail | None = None

    @property
    def sensitive(self) -> tuple[str, ...]:
        """Fields whose values containers get at run time: the kind's ``sensitive`` declarations."""
        return tuple(d.name for d in kind_props(KINDS[self.kind]) if d.prop.sensitive)


def adapter_for(kind: str) -> LocalAdapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise ProviderError(f"the local target does not know kind {kind!r}") from None


def kinds_backed_by(backing: Backing) -> tuple[str, ...]:
    return tuple(k for k, a in ADAPTERS.items() if a.backing is backing)


def kinds_supporting(op: str) -> tuple[str, ...]:
    """Kinds with the CLI operation ``op`` ("status", "suspend", "resume")."""
    return tuple(k for k, a in ADAPTERS.items() if getattr(a, op) is not None)


# ---- catalog records ---------------------------------------------------------------------------------
def save(p: LocalProvider, rec: Record) -> None:
    old = p.catalog.get(rec["address"]) or {}
    for key in ("status", "suspended_by_pool", "edge"):  # runtime state survives property changes
        if key in old and key not in rec:
            rec[key] = old[key]
    p.catalog.put(rec["address"], rec)


def observe_record(p: LocalProvider, req: ReadRequest, rec: Record | None, seen: Listing) -> Observed | None:
    if rec is None:
        return None
    return Observed(dict(rec.get("props") or {}), dict(rec.get("outputs") or {}))


def put_record(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
               creating: bool) -> dict[str, Any]:
    save(p, rec)
    return {}


def put_stage(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
              creating: bool) -> dict[str, Any]:
    directory = naming.stage_dir(p.root, *r.name_parts())
    rec["dir"] = str(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save(p, rec)
    return {}


def remove_stage(p: LocalProvider, change: Change, rec: Record | None) -> None:
    # DROP STAGE removes the stage's files, as Snowflake does (the plan says how many).
    shutil.rmtree(naming.stage_dir(p.root, *ids.split_qualified(change.name)), ignore_errors=True)


def stage_drop_detail(p: LocalProvider, change: Change) -> list[str]:
    directory = naming.stage_dir(p.root, *ids.split_qualified(change.name))
    files = sum(1 for f in directory.rglob("*") if f.is_file()) if directory.is_dir() else 0
    return [f"rm -r {directory} (removes {files} file{'s' if files != 1 else ''} of the stage)"]


def put_database(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
                 creating: bool) -> dict[str, Any]:
    save(p, rec)
    if creating:  # CREATE DATABASE also creates schema PUBLIC: record it so declaring it later is an import
        address = f"schema.{ids.qualified(r.name, 'PUBLIC')}"
        if p.catalog.get(address) is None:
            p.catalog.put(address, {"address": address, "kind": "schema", "name": ids.qualified(r.name, "PUBLIC"),
                                    "stack": p.stack, "database": r.name, "implicit": True,
                                    "props": {"comment": None, "owner": r.owner_name}, "outputs": {}})
    return {}


def remove_database(p: LocalProvider, change: Change, rec: Record | None) -> None:
    """DROP DATABASE drops what only lives in it; objects with a Docker or registry footprint are deleted
    by their own changes (the plan orders them first)."""
    database = ids.split_qualified(change.name)[0]
    records = set(kinds_backed_by(Backing.RECORD))
    with p.catalog.edit() as objects:
        for address in [a for a, r in objects.items() if r.get("database") == database and r.get("kind") in records]:
            gone = objects.pop(address)
            if gone.get("kind") == "stage":  # a dropped database takes its stages' files with it
                shutil.rmtree(naming.stage_dir(p.root, *ids.split_qualified(gone["name"])), ignore_errors=True)


# ---- compute pools: Docker networks ------------------------------------------------------------------
def observe_pool(p: LocalProvider, req: ReadRequest, rec: Record | None, seen: Listing) -> Observed | None:
    if rec is None or req.address not in seen.networks:
        return None  # a network removed by hand: the plan creates it again
    return Observed(dict(rec.get("props") or {}), {"network": naming.network_name(p.stack, rec["name"]),
                                                   "state": rec.get("status", "ACTIVE")})


def put_pool(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
             creating: bool) -> dict[str, Any]:
    old = p.catalog.get(r.address) or {}
    rec["status"] = old.get("status") or ("SUSPENDED" if getattr(r, "initially_suspended", False) else "ACTIVE")
    save(p, rec)
    network = p.host.ensure_network(r.address, r.name, p.stack, "internal")
    if not creating and "instance_family" in change.changed_fields:
        p.services.apply_pool_family(r.address, rec["props"]["instance_family"])
    return {"network": network}


def remove_pool(p: LocalProvider, change: Change, rec: Record | None) -> None:
    p.services.clear_pool(change.address)
    p.host.remove_networks(change.address)


# ---- image repositories and images: the local registry -----------------------------------------------
def observe_repository(p: LocalProvider, req: ReadRequest, rec: Record | None, seen: Listing) -> Observed | None:
    if rec is None:
        return None
    return Observed(dict(rec.get("props") or {}), {"repository_url": f"{p.registry.host}/{rec['registry_path']}"})


def put_repository(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
                   creating: bool) -> dict[str, Any]:
    rec["registry_path"] = r.registry_path  # type: ignore[attr-defined]
    save(p, rec)
    return {"repository_url": f"{p.registry.host}/{rec['registry_path']}"}


def remove_repository(p: LocalProvider, change: Change, rec: Record | None) -> None:
    path = (rec or {}).get("registry_path") or "/".join(s.lower() for s in ids.split_qualified(change.name))
    p.registry.delete_repository(path)
    host = p.registry.recorded_host()
    if host and p.connect:
        p.host.remove_local_images(f"{host}/{path}/")  # the engine's tags of the repository's images
    p.registry_changed = True


def image_location(name: str, rec: Record | None) -> tuple[str, str, str]:
    """(registry path of the repository, image name, tag) of an image record or recorded name."""
    if rec and rec.get("registry_path"):
        return rec["registry_path"], rec["image"], rec["tag"]
    repo, _, rest = name.partition("/")
    image, _, tag = rest.rpartition(":")
    return "/".join(s.lower() for s in ids.split_qualified(repo)), image, tag


def image_digests(p: LocalProvider, requests: list[ReadRequest], records: Mapping[str, Record]) -> dict[str, str | None]:
    """The digest the registry serves for each image read: one HEAD each, all at once."""
    wanted = {r.address: image_location(r.name, records.get(r.address)) for r in requests if r.kind == "image"}
    if not wanted:
        return {}
    p.registry.ensure()  # started (if need be) once, not by each lookup

    def lookup(where: tuple[str, str, str]) -> str | None:
        return p.registry.digest(f"{where[0]}/{where[1]}", where[2])

    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        return dict(zip(wanted, pool.map(lookup, wanted.values()), strict=True))


def observe_image(p: LocalProvider, req: ReadRequest, rec: Record | None, seen: Listing) -> Observed | None:
    # The registry is the truth: an image pushed by hand exists without a record.
    path, name, tag = image_location(req.name, rec)
    digest = seen.digests[req.address] if req.address in seen.digests else p.registry.digest(f"{path}/{name}", tag)
    if digest is None:
        return None
    props = {k: v for k, v in (rec or {}).get("props", {}).items() if k != "build_hash"}
    props["build_hash"] = rec.get("build_hash") if rec and rec.get("digest") == digest else None
    return Observed(props, {"digest": digest})


def put_image(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
              creating: bool) -> dict[str, Any]:
    path, name, tag = r.registry_path, r.name, r.tag  # type: ignore[attr-defined]
    ref = f"{p.registry.host}/{path}/{name}:{tag}"
    docker_images.build(r, ref, p.host.client, ctx.say)  # type: ignore[arg-type]
    digest = docker_images.push(ref, None, p.host.client, ctx.say)
    rec.update(registry_path=path, image=name, tag=tag, digest=digest, build_hash=rec["props"].get("build_hash"))
    save(p, rec)
    return {"digest": digest}


def remove_image(p: LocalProvider, change: Change, rec: Record | None) -> None:
    path, name, tag = image_location(change.name, rec)
    p.registry.delete_image(f"{path}/{name}", tag)
    host = p.registry.recorded_host()
    if host and p.connect:  # the engine's tag of the build, and the digest containers were pinned to
        p.host.remove_local_images(f"{host}/{path}/{name}", tag=tag, digest=(rec or {}).get("digest"))
    p.registry_changed = True


# ---- services and job services: containers -----------------------------------------------------------
def observe_service(p: LocalProvider, req: ReadRequest, rec: Record | None, seen: Listing) -> Observed | None:
    if rec is None:
        return None
    props, rt = dict(rec.get("props") or {}), rec["runtime"]
    containers = seen.containers.get(req.address, [])
    props["suspended"] = rec.get("status") == "SUSPENDED"  # the running state is compared, as on Snowflake
    if not props["suspended"]:
        loops = looping(p.host, containers)
        problems = drift(rt, containers, loops)
        if problems:
            props["spec"] = "drifted: " + "; ".join(problems)
        # As declared but not READY (a crash loop) is no drift: the plan says so and the apply starts it again.
        unready = not_ready(rt, containers, loops, proxied=bool(edge.proxied(rt)))
        if unready:
            props[NOT_READY] = "; ".join(unready)
    return Observed(props, {"endpoints": edge.public_urls(rt, rec.get("edge")), "dns_name": dns_name(rt)})


def observe_job(p: LocalProvider, req: ReadRequest, rec: Record | None, seen: Listing) -> Observed | None:
    containers = seen.containers.get(req.address, [])
    if rec is None or not containers:
        return None  # the job's containers are gone: running it again is the way back
    props, rt = dict(rec.get("props") or {}), rec["runtime"]
    status, codes = job_status(containers, rt)
    props["outcome"] = "FAILED" if status == "FAILED" else "DONE"
    if any((s.get("Labels") or {}).get(naming.LABEL_HASH) != rt["hash"] for s in containers):
        props["spec"] = "drifted: containers were replaced (different config hash)"
    return Observed(props, {"status": status, "exit_codes": codes})


def _runtime(p: LocalProvider, r: Resource, rec: Record, ctx: ApplyContext) -> Runtime:
    props = rec["props"]
    rt = build_runtime(
        r, ctx.outputs, stack=p.stack, registry_host=p.registry.host,  # type: ignore[arg-type]
        egress=_egress(p, props.get("external_access_integrations") or []),
        pool_address=f"compute_pool.{props['compute_pool']}", local_root=p.root,
        account=p.account, snowflake_host=p.snowflake_host,
    )
    rec["runtime"] = rt
    return rt


def _egress(p: LocalProvider, integrations: list[str]) -> bool:
    """Outbound network for a service: some enabled integration allows an EGRESS network rule."""
    allowed = False
    for eai in integrations:
        rec = find_anywhere(p.root, f"external_access_integration.{eai}", p.catalog)
        if rec is None:
            raise ProviderError(f"external access integration {eai} does not exist on the local target")
        props = rec.get("props") or {}
        for rule in props.get("allowed_network_rules") or []:
            rule_rec = find_anywhere(p.root, f"network_rule.{rule}", p.catalog)
            if rule_rec is None:
                raise ProviderError(f"network rule {rule} (of integration {eai}) does not exist on the local target")
            if props.get("enabled", True) and (rule_rec.get("props") or {}).get("mode") == "EGRESS":
                allowed = True
    return allowed


def put_service(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
                creating: bool) -> dict[str, Any]:
    rt = _runtime(p, r, rec, ctx)
    old = p.catalog.get(r.address) or {}
    rec["status"] = old.get("status") or "RUNNING"
    rec["suspended_by_pool"] = old.get("suspended_by_pool", False)
    rec["edge"] = edge.plan_edge(rt, old.get("edge"))  # endpoint ports: allocated once, then kept
    p.catalog.put(r.address, rec)
    outputs = {"endpoints": edge.public_urls(rt, rec["edge"]), "dns_name": dns_name(rt)}
    want = r.desired().get("suspended")
    if rec["status"] == "SUSPENDED" and want is False:
        p.services.resume(rec, ctx.say)  # the new spec is deployed below
        rec["status"] = "RUNNING"
    if rec["status"] == "SUSPENDED":
        ctx.say(f"    {r.fqn} is suspended: the new spec runs when it is resumed")
        return outputs
    try:
        p.services.deploy(rt, rec["edge"], ctx.say)
    finally:
        p.catalog.patch(r.address, edge=rec["edge"])  # a port taken by another program may have moved
    if want is True:
        p.services.suspend(p.catalog.get(r.address) or rec, ctx.say)
    return {**outputs, "endpoints": edge.public_urls(rt, rec["edge"])}


def put_job(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
            creating: bool) -> dict[str, Any]:
    rt = _runtime(p, r, rec, ctx)
    save(p, rec)  # first, so status and logs find a failed run
    return p.services.run_job(rt, wait=not getattr(r, "run_async", False), say=ctx.say)


def remove_containers(p: LocalProvider, change: Change, rec: Record | None) -> None:
    p.services.remove(change.address)
    shutil.rmtree(naming.session_dir(p.root, p.stack, change.name), ignore_errors=True)


# ---- CLI operations ----------------------------------------------------------------------------------
def service_status(p: LocalProvider, rec: Record) -> dict[str, Any]:
    return p.services.status(rec)


def pool_status(p: LocalProvider, rec: Record) -> dict[str, Any]:
    return p.services.pool_status(rec)


def suspend_service(p: LocalProvider, rec: Record) -> None:
    p.services.suspend(rec, p.say)


def resume_service(p: LocalProvider, rec: Record) -> None:
    p.services.resume(rec, p.say)


def suspend_pool(p: LocalProvider, rec: Record) -> None:
    p.services.suspend_pool(rec, p.say)


def resume_pool(p: LocalProvider, rec: Record) -> None:
    p.services.resume_pool(rec["address"], p.say)


# ---- the registry ------------------------------------------------------------------------------------
def _record_kind(kind: str, put: Put = put_record, remove: Remove = _nothing_more,
                 props: tuple[str, ...] = ()) -> LocalAdapter:
    return LocalAdapter(kind, Backing.RECORD, observe_record, put, st.record_lines, st.record_drop_line, remove,
                        props)


_SERVICE_PROPS = ("compute_pool", "external_access_integrations", "spec")

# Container kinds come before compute_pool: CLI lookups name the kinds they search in this order.
ADAPTERS: dict[str, LocalAdapter] = {
    "role": _record_kind("role"),
    "role_grant": _record_kind("role_grant"),
    "service_role_grant": _record_kind("service_role_grant"),  # endpoints are not access-checked locally
    "grant": _record_kind("grant"),
    "warehouse": _record_kind("warehouse"),
    "database": _record_kind("database", put_database, remove_database, props=("owner",)),
    "schema": _record_kind("schema"),
    "stage": replace(_record_kind("stage", put_stage, remove_stage), drop_detail=stage_drop_detail),
    "secret": _record_kind("secret"),  # its values: the fields declared sensitive (see .sensitive)
    "network_rule": _record_kind("network_rule", props=("mode",)),  # read by services' egress
    "external_access_integration": _record_kind("external_access_integration",
                                                props=("allowed_network_rules", "enabled")),
    # Called through the gateway (gateway.py), which reads these from the record.
    "service_function": _record_kind("service_function", props=("service", "endpoint", "path", "arguments",
                                                                "max_batch_rows", "returns")),
    "service": LocalAdapter(
        "service", Backing.CONTAINERS, observe_service, put_service, st.service_lines, st.containers_drop_line,
        remove_containers, props=(*_SERVICE_PROPS, "min_instances", "auto_resume"),
        status=service_status, suspend=suspend_service, resume=resume_service,
    ),
    "job_service": LocalAdapter(
        "job_service", Backing.CONTAINERS, observe_job, put_job, st.job_lines, st.containers_drop_line,
        remove_containers, props=(*_SERVICE_PROPS, "replicas", "run_async", "outcome"), status=service_status,
    ),
    "compute_pool": LocalAdapter(
        "compute_pool", Backing.NETWORK, observe_pool, put_pool, st.pool_lines, st.networks_drop_line, remove_pool,
        props=("instance_family", "initially_suspended", "auto_resume"),
        status=pool_status, suspend=suspend_pool, resume=resume_pool,
    ),
    "image_repository": LocalAdapter(
        "image_repository", Backing.REGISTRY, observe_repository, put_repository, st.repository_lines,
        st.registry_drop_line, remove_repository,
    ),
    "image": LocalAdapter(
        "image", Backing.REGISTRY, observe_image, put_image, st.image_lines, st.registry_drop_line, remove_image,
        props=("build_hash",),
    ),
    "table": LocalAdapter(
        "table", Backing.WAREHOUSE, tb.observe_table, tb.put_table, tb.table_lines, tb.table_drop_line,
        tb.remove_table, props=("columns",),
    ),
}
