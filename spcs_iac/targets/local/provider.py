"""The ``local`` target: Snowpark Container Services emulated on the local Docker engine.

Kinds map to local things:

- compute pool -> Docker networks (``dockerhost``); instance family -> container CPU/memory limits;
- image repository -> a path ``db/schema/repo`` in a real registry on 127.0.0.1 (``registry``);
- image -> ``docker build`` + ``docker push`` there; read back as the registry's digest for the tag;
- service / job service -> labelled containers per instance (``services``, ``containers``);
- service function -> a record, called through the Python gateway (``gateway``);
- everything else (roles, grants, warehouses, databases, schemas, stages, secrets, network rules,
  integrations) -> records in a JSON catalog (``records``), read back with their declared field names.

The planner decides; this class translates each change into Docker calls, registry calls or records.
Ops methods (``status``, ``logs``, ``suspend``, ``resume``, ``stop_all``, ``endpoints``, ``call_function``)
serve the CLI and work from the catalog alone, without the stack.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.plan.model import Change
from spcs_iac.plan.target import ApplyContext, Observed, Provider, ReadRequest
from spcs_iac.targets import images as docker_images
from spcs_iac.targets.local import gateway, naming
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.records import Catalog, Record, find_anywhere
from spcs_iac.targets.local.registry import LocalRegistry
from spcs_iac.targets.local.runtime import build_runtime
from spcs_iac.targets.local.services import Services, drift, job_status
from spcs_iac.targets.local.statements import describe_change

RECORD_KINDS = frozenset({
    "role", "role_grant", "grant", "warehouse", "database", "schema", "stage", "secret", "network_rule",
    "external_access_integration", "service_function",
})
CONTAINER_KINDS = ("service", "job_service")
KIND_ALIASES = {"pool": "compute_pool", "compute pool": "compute_pool", "job": "job_service",
                "function": "service_function"}


class LocalProvider(Provider):
    target = "local"

    def __init__(self, stack_name: str, state_dir: str | None = None, connect: bool = True, *,
                 purge_stages: bool = False, ready_timeout: float = 180.0, job_timeout: float = 900.0,
                 account: str = "LOCAL", snowflake_host: str = "snowflake.local",
                 registry_binary: str | None = None, log: Any = None, **options: Any) -> None:
        if options:
            raise ProviderError(
                f"the local target does not take option(s) {', '.join(sorted(options))}; allowed: purge_stages, "
                "ready_timeout, job_timeout, account, snowflake_host, registry_binary"
            )
        self.stack = stack_name
        self.connect = connect  # False: plans against an empty target; nothing here touches Docker then
        self.root = naming.local_dir(state_dir)
        self.catalog = Catalog(self.root, stack_name)
        self.host = DockerHost(stack_name, log)
        self.registry = LocalRegistry(self.root, registry_binary)
        self.purge_stages = purge_stages
        self.account, self.snowflake_host = account, snowflake_host
        self.log = log
        # Secret values seen in this process (declared objects); never written anywhere by us.
        self._secrets: dict[str, dict[str, str]] = {}
        self.services = Services(self.host, self.catalog, self.root, stack_name, self._secrets.get,
                                 ready_timeout, job_timeout)

    def close(self) -> None:
        self.host.close()

    # ---- reading ------------------------------------------------------------------------------------
    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        records = self.catalog.load()
        kinds = {r.kind for r in requests}
        # One labelled listing per Docker object type for the whole run.
        containers = self.host.containers() if kinds & {"service", "job_service"} else []
        networks = {(n.get("Labels") or {}).get(naming.LABEL_OBJECT) for n in self.host.networks()
                    if (n.get("Labels") or {}).get(naming.LABEL_FLAVOUR, "internal") == "internal"} \
            if "compute_pool" in kinds else set()
        by_object: dict[str, list[dict[str, Any]]] = {}
        for s in containers:
            by_object.setdefault((s.get("Labels") or {}).get(naming.LABEL_OBJECT, ""), []).append(s)
        out: dict[str, Observed] = {}
        for req in requests:
            self._remember_secret(req.resource)
            rec = records.get(req.address)
            obs = self._observe(req, rec, by_object.get(req.address, []), networks)
            if obs is not None:
                out[req.address] = obs
        return out

    def _observe(self, req: ReadRequest, rec: Record | None, containers: list[dict[str, Any]],
                 networks: set[str | None]) -> Observed | None:
        kind = req.kind
        if kind == "image":
            return self._observe_image(req, rec)
        if rec is None:
            return None
        props = dict(rec.get("props") or {})
        if kind in RECORD_KINDS:
            return Observed(props, dict(rec.get("outputs") or {}))
        if kind == "compute_pool":
            if req.address not in networks:
                return None  # its network was removed by hand: the plan creates it again
            return Observed(props, {"network": naming.network_name(self.stack, rec["name"]),
                                    "state": rec.get("status", "ACTIVE")})
        if kind == "image_repository":
            return Observed(props, {"repository_url": f"{self.registry.host}/{rec['registry_path']}"})
        rt = rec["runtime"]
        if kind == "job_service":
            if not containers:
                return None  # the job's containers are gone: running it again is the way back
            status, codes = job_status(containers, rt)
            props["outcome"] = "FAILED" if status == "FAILED" else "DONE"
            if any((s.get("Labels") or {}).get(naming.LABEL_HASH) != rt["hash"] for s in containers):
                props["spec"] = "drifted: containers were replaced (different config hash)"
            return Observed(props, {"status": status, "exit_codes": codes})
        if rec.get("status") != "SUSPENDED":
            problems = drift(rt, containers)
            if problems:
                props["spec"] = "drifted: " + "; ".join(problems)
        return Observed(props, {"endpoints": self.services.endpoints(rt, containers), "dns_name": rt["dns"]})

    def _observe_image(self, req: ReadRequest, rec: Record | None) -> Observed | None:
        path, name, tag = _image_location(req.name, rec)
        digest = self.registry.digest(f"{path}/{name}", tag)
        if digest is None:
            return None
        props = {k: v for k, v in (rec or {}).get("props", {}).items() if k != "build_hash"}
        props["build_hash"] = rec.get("build_hash") if rec and rec.get("digest") == digest else None
        return Observed(props, {"digest": digest})

    def _remember_secret(self, resource: Resource | None) -> None:
        if resource is not None and resource.kind == "secret":
            values = {k: getattr(resource, k) for k in ("username", "password", "secret_string")}
            self._secrets[resource.fqn] = {k: v for k, v in values.items() if v is not None}

    # ---- plan display --------------------------------------------------------------------------------
    def statements(self, change: Change, outputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
        return describe_change(change, self.stack, self.registry.recorded_host() or "127.0.0.1:<port>")

    # ---- changes -------------------------------------------------------------------------------------
    def create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        return self._put(change, ctx, creating=True)

    def update(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        return self._put(change, ctx, creating=False)

    def _put(self, change: Change, ctx: ApplyContext, creating: bool) -> dict[str, Any]:
        r = change.resource
        assert r is not None, "create/update always carry the desired object"
        kind = r.kind
        rec = self._record(r, ctx)
        if kind in RECORD_KINDS:
            self._remember_secret(r)
            if kind == "stage":
                rec["dir"] = str(naming.stage_dir(self.root, *r.name_parts()))
                naming.stage_dir(self.root, *r.name_parts()).mkdir(parents=True, exist_ok=True)
            self._put_record(rec)
            if kind == "database" and creating:
                self._implicit_public(r)
            return {}
        if kind == "compute_pool":
            return self._put_pool(r, rec, change, creating)
        if kind == "image_repository":
            rec["registry_path"] = r.registry_path  # type: ignore[attr-defined]
            self._put_record(rec)
            return {"repository_url": f"{self.registry.host}/{rec['registry_path']}"}
        if kind == "image":
            return self._put_image(r, rec, ctx)
        if kind in CONTAINER_KINDS:
            return self._put_service(r, rec, ctx)
        raise ProviderError(f"the local target does not know kind {kind!r}")

    def _record(self, r: Resource, ctx: ApplyContext) -> Record:
        rec: Record = {"address": r.address, "kind": r.kind, "name": r.fqn, "stack": self.stack,
                       "props": r.desired(ctx.outputs), "outputs": {}}
        database = getattr(r, "database_name", None)
        if database:
            rec["database"] = database
        return rec

    def _put_record(self, rec: Record) -> None:
        old = self.catalog.get(rec["address"]) or {}
        for key in ("status", "suspended_by_pool"):  # runtime state survives property changes
            if key in old and key not in rec:
                rec[key] = old[key]
        self.catalog.put(rec["address"], rec)

    def _implicit_public(self, db: Resource) -> None:
        """CREATE DATABASE also creates schema PUBLIC; record it so declaring it later is an import."""
        address = f"schema.{ids.qualified(db.name, 'PUBLIC')}"
        if self.catalog.get(address) is None:
            self.catalog.put(address, {"address": address, "kind": "schema", "name": ids.qualified(db.name, "PUBLIC"),
                                       "stack": self.stack, "database": db.name, "implicit": True,
                                       "props": {"comment": None, "owner": db.owner_name}, "outputs": {}})

    def _put_pool(self, r: Resource, rec: Record, change: Change, creating: bool) -> dict[str, Any]:
        old = self.catalog.get(r.address) or {}
        rec["status"] = old.get("status") or ("SUSPENDED" if getattr(r, "initially_suspended", False) else "ACTIVE")
        self._put_record(rec)
        network = self.host.ensure_network(r.address, r.name, self.stack, "internal")
        if not creating and "instance_family" in change.changed_fields:
            self.services.apply_pool_family(r.address, rec["props"]["instance_family"])
        return {"network": network}

    def _put_image(self, r: Resource, rec: Record, ctx: ApplyContext) -> dict[str, Any]:
        path, name, tag = r.registry_path, r.name, r.tag  # type: ignore[attr-defined]
        ref = f"{self.registry.host}/{path}/{name}:{tag}"
        docker_images.build(r, ref, self.host.client, ctx.say)  # type: ignore[arg-type]
        digest = docker_images.push(ref, None, self.host.client, ctx.say)
        rec.update(registry_path=path, image=name, tag=tag, digest=digest, build_hash=rec["props"].get("build_hash"))
        self._put_record(rec)
        return {"digest": digest}

    def _put_service(self, r: Resource, rec: Record, ctx: ApplyContext) -> dict[str, Any]:
        props = rec["props"]
        rt = build_runtime(
            r, ctx.outputs, stack=self.stack, registry_host=self.registry.host,  # type: ignore[arg-type]
            egress=self._egress(props.get("external_access_integrations") or []),
            pool_address=f"compute_pool.{props['compute_pool']}", local_root=self.root,
            account=self.account, snowflake_host=self.snowflake_host,
        )
        rec["runtime"] = rt
        if r.kind == "job_service":
            self._put_record(rec)  # first, so status and logs find a failed run
            outputs = self.services.run_job(rt, wait=not getattr(r, "run_async", False), say=ctx.say)
            return outputs
        old = self.catalog.get(r.address) or {}
        rec["status"] = old.get("status") or "RUNNING"
        rec["suspended_by_pool"] = old.get("suspended_by_pool", False)
        self.catalog.put(r.address, rec)
        if rec["status"] == "SUSPENDED":
            ctx.say(f"    {r.fqn} is suspended: the new spec runs when it is resumed")
            return {"endpoints": {}, "dns_name": rt["dns"]}
        self.services.deploy(rt, ctx.say)
        return {"endpoints": self.services.endpoints(rt), "dns_name": rt["dns"]}

    def _egress(self, integrations: list[str]) -> bool:
        """Outbound network for a service: some enabled integration allows an EGRESS network rule."""
        allowed = False
        for eai in integrations:
            rec = find_anywhere(self.root, f"external_access_integration.{eai}", self.catalog)
            if rec is None:
                raise ProviderError(f"external access integration {eai} does not exist on the local target")
            props = rec.get("props") or {}
            for rule in props.get("allowed_network_rules") or []:
                rule_rec = find_anywhere(self.root, f"network_rule.{rule}", self.catalog)
                if rule_rec is None:
                    raise ProviderError(f"network rule {rule} (of integration {eai}) does not exist on the local target")
                if props.get("enabled", True) and (rule_rec.get("props") or {}).get("mode") == "EGRESS":
                    allowed = True
        return allowed

    def delete(self, change: Change, ctx: ApplyContext) -> None:
        address, kind = change.address, change.kind
        rec = self.catalog.get(address)
        if kind in CONTAINER_KINDS:
            self.services.remove(address)
            shutil.rmtree(self.root / "session" / naming.slug(self.stack) / naming.slug(change.name),
                          ignore_errors=True)
        elif kind == "compute_pool":
            self.services.clear_pool(address)
            self.host.remove_networks(address)
        elif kind == "image_repository":
            path = (rec or {}).get("registry_path") or "/".join(p.lower() for p in ids.split_qualified(change.name))
            self.registry.delete_repository(path)
        elif kind == "image":
            path, name, tag = _image_location(change.name, rec)
            self.registry.delete_image(f"{path}/{name}", tag)
        elif kind == "stage" and self.purge_stages:
            shutil.rmtree(naming.stage_dir(self.root, *ids.split_qualified(change.name)), ignore_errors=True)
        elif kind == "database":
            self._drop_contents(ids.split_qualified(change.name)[0])
        self.catalog.remove(address)

    def _drop_contents(self, database: str) -> None:
        with self.catalog.edit() as objects:
            for address in [a for a, r in objects.items()
                            if r.get("database") == database and r.get("kind") in RECORD_KINDS]:
                objects.pop(address)

    # ---- operations (CLI) ----------------------------------------------------------------------------
    def find(self, name: str, kinds: Iterable[str]) -> Record:
        """A catalog record by address, full name or bare name (case-insensitive unless quoted)."""
        kinds = tuple(kinds)
        want = _loose(name)
        hits = []
        for address, rec in self.catalog.load().items():
            if rec.get("kind") not in kinds:
                continue
            full = _loose(rec["name"])
            if want in (_loose(address), full, full.split("(")[0]) or full.split("(")[0].split(".")[-1] == want:
                hits.append({**rec, "address": address})
        if len(hits) != 1:
            what = "/".join(kinds)
            raise ProviderError(f"{'no' if not hits else 'more than one'} {what} named {name!r} in stack {self.stack}"
                                + (f": {[h['name'] for h in hits]}" if hits else ""))
        return hits[0]

    def status(self, name: str) -> dict[str, Any]:
        """Service or job: containers, states, endpoints; compute pool: state, networks, services."""
        rec = self.find(name, (*CONTAINER_KINDS, "compute_pool"))
        if rec["kind"] == "compute_pool":
            return self.services.pool_status(rec)
        return self.services.status(rec)

    def endpoints(self, name: str) -> dict[str, str]:
        rec = self.find(name, CONTAINER_KINDS)
        return self.services.endpoints(rec["runtime"])

    def logs(self, name: str, container: str | None = None, instance: int | None = None, follow: bool = False,
             lines: int = 100) -> str | Iterator[str]:
        rec = self.find(name, CONTAINER_KINDS)
        rt = rec["runtime"]
        picked = []
        for s in self.host.containers(obj=rec["address"], stack=rec.get("stack") or self.stack):
            labels = s.get("Labels") or {}
            if container is not None and labels.get(naming.LABEL_CONTAINER) != container:
                continue
            if instance is not None and labels.get(naming.LABEL_INSTANCE) != str(instance):
                continue
            picked.append(s)
        if not picked:
            names = [c["name"] for c in rt["containers"]]
            raise ProviderError(f"{rec['name']}: no container matches (containers: {names}, instances: "
                                f"0..{rt['instances'] - 1})")
        # Newest generation first per (instance, container): that is the one serving.
        picked.sort(key=lambda s: (int(s["Labels"][naming.LABEL_INSTANCE]), s["Labels"][naming.LABEL_CONTAINER],
                                   -int(s.get("Created") or 0)))
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for s in picked:
            seen.setdefault((s["Labels"][naming.LABEL_INSTANCE], s["Labels"][naming.LABEL_CONTAINER]), s)
        api = self.host.api
        if follow:
            s = next(iter(seen.values()))
            return (b.decode(errors="replace") for b in api.logs(s["Id"], stream=True, follow=True, tail=lines))
        chunks = []
        for (inst, cname), s in seen.items():
            text = api.logs(s["Id"], tail=lines).decode(errors="replace")
            chunks.append(text if len(seen) == 1 else f"==> instance {inst} / {cname} <==\n{text}")
        return "\n".join(chunks)

    def suspend(self, kind: str, name: str) -> None:
        kind = _kind(kind)
        rec = self.find(name, (kind,))
        if kind == "compute_pool":
            self.services.suspend_pool(rec, self._say)
        elif kind == "service":
            self.services.suspend(rec, self._say)
        else:
            raise ProviderError(f"only services and compute pools can be suspended, not {kind}")

    def resume(self, kind: str, name: str) -> None:
        kind = _kind(kind)
        rec = self.find(name, (kind,))
        if kind == "compute_pool":
            self.services.resume_pool(rec["address"], self._say)
        elif kind == "service":
            self.services.resume(rec, self._say)
        else:
            raise ProviderError(f"only services and compute pools can be resumed, not {kind}")

    def stop_all(self, name: str) -> list[str]:
        return self.services.stop_all(self.find(name, ("compute_pool",)), self._say)

    @property
    def gateway(self) -> gateway.Gateway:
        return gateway.Gateway(self.services, self._function_and_service)

    def call_function(self, name: str, rows: Iterable[Any]) -> list[Any]:
        """Call a service function on rows of arguments (a bare value per row for one argument)."""
        return self.gateway.call(name, rows)

    def _function_and_service(self, name: str) -> tuple[Record, Record | None]:
        fn = self.find(name, ("service_function",))
        service = (fn.get("props") or {}).get("service")
        svc = find_anywhere(self.root, f"service.{service}", self.catalog)
        return fn, ({**svc, "address": f"service.{service}"} if svc is not None else None)

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(text)


def _image_location(name: str, rec: Record | None) -> tuple[str, str, str]:
    """(registry path of the repository, image name, tag) of an image record or recorded name."""
    if rec and rec.get("registry_path"):
        return rec["registry_path"], rec["image"], rec["tag"]
    repo, _, rest = name.partition("/")
    image, _, tag = rest.rpartition(":")
    return "/".join(p.lower() for p in ids.split_qualified(repo)), image, tag


def _loose(name: str) -> str:
    return name.replace('"', "").upper()


def _kind(kind: str) -> str:
    k = kind.strip().lower()
    return KIND_ALIASES.get(k, k.replace(" ", "_"))
