"""The ``local`` target: Snowpark Container Services emulated on the local Docker engine.

Kinds map to local things (one adapter per kind in ``adapters.ADAPTERS``, which this class dispatches
through):

- compute pool -> Docker networks (``dockerhost``); instance family -> container CPU/memory limits;
- image repository -> a path ``db/schema/repo`` in a real registry on 127.0.0.1 (``registry``);
- image -> ``docker build`` + ``docker push`` there; read back as the registry's digest for the tag;
- service / job service -> labelled containers per instance (``services``, ``containers``);
- service function -> a record, called through the Python gateway (``gateway``);
- everything else (roles, grants, warehouses, databases, schemas, stages, secrets, network rules,
  integrations) -> records in a JSON catalog (``records``), read back with their declared field names.

The planner decides; the kind's adapter translates each change into Docker calls, registry calls or records.
Ops methods (``status``, ``logs``, ``suspend``, ``resume``, ``stop_all``, ``endpoints``, ``call_function``)
serve the CLI and work from the catalog alone, without the stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from spcs_iac.errors import Issue, ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.redact import scrub
from spcs_iac.model.validate import (
    NAMED_KINDS,
    PLACE_KINDS,
    NamedReference,
    named_references,
    unresolved_by_object,
)
from spcs_iac.plan.model import Action, Change
from spcs_iac.plan.target import ApplyContext, Observed, Provider, ReadRequest
from spcs_iac.targets.local import gateway, naming, sensitive
from spcs_iac.targets.local.adapters import (
    Backing,
    Listing,
    adapter_for,
    image_digests,
    kinds_backed_by,
    kinds_supporting,
)
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.follow import follow as follow_logs
from spcs_iac.targets.local.records import Catalog, Record, catalogs, find_anywhere
from spcs_iac.targets.local.registry import LocalRegistry
from spcs_iac.targets.local.services import Services

# What the local target checks that objects name: nothing exists there outside the stacks of its state directory.
LOCAL_NAMED_KINDS = (*NAMED_KINDS, *PLACE_KINDS)


def unresolved_names(refs: Iterable[NamedReference], exists: Callable[[str, str], bool]) -> dict[str, list[Issue]]:
    """The issues for the named objects ``exists(kind, name)`` does not find, by naming object, as the local
    target words them (its plans, ``validate``, and the Pulumi provider's check of one object at a time)."""
    return unresolved_by_object(refs, exists, "the stack does not declare and the local target",
                                hint=" (nothing exists on the local target outside the stacks of its state "
                                "directory: declare it in the stack)")


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
        self.host = DockerHost(stack_name, log, lock_dir=self.root)
        self.registry = LocalRegistry(self.root, registry_binary)
        self.purge_stages = purge_stages
        self.account, self.snowflake_host = account, snowflake_host
        self.log = log
        self.registry_changed = False  # a repository or image was deleted: stop the registry if unused
        self._unresolved: dict[str, list[Issue]] = {}
        # Secret values seen in this process (declared objects); never written anywhere by us.
        self._secrets: dict[str, dict[str, str]] = {}
        self.services = Services(self.host, self.catalog, self.root, stack_name, self._secrets.get,
                                 ready_timeout, job_timeout)

    def close(self) -> None:
        if self.registry_changed and not self._registry_in_use():
            self.registry.stop()  # the last repository of the state directory is gone
        self.host.close()

    def _registry_in_use(self) -> bool:
        """Whether any stack of the state directory still has a repository or an image."""
        held = set(kinds_backed_by(Backing.REGISTRY))
        return any(rec.get("kind") in held for catalog in catalogs(self.root) for rec in catalog.load().values())

    # ---- references to undeclared objects -----------------------------------------------------------
    def check_references(self, resources: Iterable[Resource]) -> list[Issue]:
        """Objects the given ones name but neither they nor another stack of this state directory declare
        (``validate`` asks; planning refuses them through :meth:`unresolved`)."""
        return [issue for issues in self._missing_names(resources).values() for issue in issues]

    def unresolved(self) -> Mapping[str, list[Issue]]:
        return self._unresolved

    def _missing_names(self, resources: Iterable[Resource],
                       elsewhere: Mapping[str, tuple[str, Record]] | None = None) -> dict[str, list[Issue]]:
        """Secrets, stages, integrations and network rules, and also the databases, schemas, pools,
        warehouses, roles and services objects live in, run on or belong to. On the local target nothing
        else exists (system roles and databases aside), so the apply would fail half-way, or, for a schema in
        a missing database, make what Snowflake refuses."""
        refs = named_references(resources, LOCAL_NAMED_KINDS)
        if refs and elsewhere is None:
            elsewhere = self._other_stacks()
        return unresolved_names(refs, lambda kind, name: f"{kind}.{name}" in (elsewhere or {}))

    def _other_stacks(self) -> dict[str, tuple[str, Record]]:
        """What the other stacks of this state directory record, read once: address -> (stack, record)."""
        out: dict[str, tuple[str, Record]] = {}
        for catalog in catalogs(self.root):
            if catalog.path != self.catalog.path:
                for address, rec in catalog.load().items():
                    out.setdefault(address, (str(rec.get("stack") or catalog.stack), rec))
        return out

    def _held_elsewhere(self, req: ReadRequest, stack: str, rec: Record) -> Observed | None:
        """An object another stack of this state directory made. On Snowflake it would simply exist: a
        catalog object (database, stage, role, grant...) is found, and taking it over needs --adopt, as for
        any object this stack did not make. What runs in Docker or lives in the registry is named after the
        stack that made it, so a second stack cannot take it over: its plan is refused, naming the holder."""
        if adapter_for(req.kind).backing is Backing.RECORD:
            return Observed(dict(rec.get("props") or {}), dict(rec.get("outputs") or {}))
        label = req.kind.replace("_", " ")
        self._unresolved.setdefault(req.address, []).append(Issue(
            req.address, "name", f"{label} {req.name} belongs to stack {stack} of this state directory; on the local "
            f"target a {label} belongs to one stack: keep it in that stack (other stacks may name it), or give "
            "this one another name", req.name))
        return None

    # ---- reading ------------------------------------------------------------------------------------
    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        records = self.catalog.load()
        backings = {adapter_for(r.kind).backing for r in requests}
        # One labelled listing per Docker object type for the whole run, only when some kind needs it.
        containers = self.host.containers() if Backing.CONTAINERS in backings else []
        networks = {(n.get("Labels") or {}).get(naming.LABEL_OBJECT) for n in self.host.networks()
                    if (n.get("Labels") or {}).get(naming.LABEL_FLAVOUR, "internal") == "internal"} \
            if Backing.NETWORK in backings else set()
        by_object: dict[str, list[dict[str, Any]]] = {}
        for s in containers:
            by_object.setdefault((s.get("Labels") or {}).get(naming.LABEL_OBJECT, ""), []).append(s)
        seen = Listing(by_object, networks, image_digests(self, requests, records))
        elsewhere = self._other_stacks()
        self._unresolved = self._missing_names([r.resource for r in requests if r.resource is not None], elsewhere)
        out: dict[str, Observed] = {}
        for req in requests:
            self._remember_sensitive(req.resource)
            rec = records.get(req.address)
            if rec is None and req.address in elsewhere and req.resource is not None:
                obs = self._held_elsewhere(req, *elsewhere[req.address])
            else:
                obs = adapter_for(req.kind).observe(self, req, rec, seen)
            if obs is not None:
                out[req.address] = obs
        return out

    def know_secret_values(self, fqn: str, values: Mapping[str, str]) -> None:
        """Secret values handed in by a driver whose operation does not declare the Secret (Pulumi: the
        service's inputs carry them); kept in this process only, like those of declared objects."""
        self._secrets[fqn] = {k: v for k, v in values.items() if v is not None}

    def _remember_sensitive(self, resource: Resource | None) -> None:
        """Keep the values of the fields a kind declares sensitive (secrets), for containers to get."""
        if resource is None:
            return
        fields = adapter_for(resource.kind).sensitive
        if fields:
            values = {k: getattr(resource, k) for k in fields}
            self._secrets[resource.fqn] = {k: v for k, v in values.items() if v is not None}

    # ---- plan display --------------------------------------------------------------------------------
    def statements(self, change: Change, outputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
        adapter = adapter_for(change.kind)
        dropping = change.action in (Action.DELETE, Action.REPLACE)
        drop = [adapter.drop_line(change, self.stack)] + (
            adapter.drop_detail(self, change) if adapter.drop_detail and dropping and self.connect else [])
        if change.action is Action.DELETE:
            return drop
        r = change.resource
        if r is None:
            return []
        lines = drop if change.action is Action.REPLACE else []
        return lines + adapter.lines(change, r, self.stack, self.registry.recorded_host() or "127.0.0.1:<port>")

    # ---- changes -------------------------------------------------------------------------------------
    def create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        return self._put(change, ctx, creating=True)

    def update(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        return self._put(change, ctx, creating=False)

    def _put(self, change: Change, ctx: ApplyContext, creating: bool) -> dict[str, Any]:
        r = change.resource
        assert r is not None, "create/update always carry the desired object"
        adapter = adapter_for(r.kind)
        self._remember_sensitive(r)
        return adapter.put(self, r, self._record(r, ctx), change, ctx, creating)

    def _record(self, r: Resource, ctx: ApplyContext) -> Record:
        rec: Record = {"address": r.address, "kind": r.kind, "name": r.fqn, "stack": self.stack,
                       "props": r.desired(ctx.outputs), "outputs": {}}
        database = getattr(r, "database_name", None)
        if database:
            rec["database"] = database
        return rec

    def delete(self, change: Change, ctx: ApplyContext) -> None:
        adapter_for(change.kind).remove(self, change, self.catalog.get(change.address))
        self.catalog.remove(change.address)

    # ---- operations (CLI) ----------------------------------------------------------------------------
    def find(self, name: str, kinds: Iterable[str]) -> Record:
        """A catalog record by address, full name or bare name (case-insensitive unless quoted)."""
        kinds = tuple(kinds)
        hits = []
        for address, rec in self.catalog.load().items():
            if rec.get("kind") not in kinds:
                continue
            if ids.name_matches(name, rec["name"], address, bare=True):
                hits.append({**rec, "address": address})
        if len(hits) != 1:
            what = "/".join(kinds)
            raise ProviderError(f"{'no' if not hits else 'more than one'} {what} named {name!r} in stack {self.stack}"
                                + (f": {[h['name'] for h in hits]}" if hits else ""))
        return hits[0]

    def status(self, name: str) -> dict[str, Any]:
        """Service or job: containers, states, endpoints; compute pool: state, networks, services."""
        rec = self.find(name, kinds_supporting("status"))
        info = adapter_for(rec["kind"]).status(self, rec)  # type: ignore[misc]  # found among kinds that have it
        return sensitive.hidden(info, self._held_secrets(rec))  # problems quote the containers' logs

    def endpoints(self, name: str) -> dict[str, str]:
        rec = self.find(name, kinds_backed_by(Backing.CONTAINERS))
        return self.services.endpoints(rec)

    def logs(self, name: str, container: str | None = None, instance: int | None = None, follow: bool = False,
             lines: int = 100) -> str | Iterator[str]:
        rec = self.find(name, kinds_backed_by(Backing.CONTAINERS))
        rt = rec["runtime"]
        picked = []
        for s in self.host.containers(obj=rec["address"], stack=rec.get("stack") or self.stack):
            labels = s.get("Labels") or {}
            if naming.role(s) != naming.ROLE_MEMBER:
                continue  # namespace owners and proxies run no user code
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
        held = self._held_secrets(rec)
        if follow:  # every picked container, each line prefixed when there are several
            sources = [(f"[{inst}/{cname}] " if len(seen) > 1 else "", s["Id"]) for (inst, cname), s in seen.items()]
            return sensitive.hidden_lines(follow_logs(api, sources, lines), held)
        chunks = []
        for (inst, cname), s in seen.items():
            text = api.logs(s["Id"], tail=lines).decode(errors="replace")
            chunks.append(text if len(seen) == 1 else f"==> instance {inst} / {cname} <==\n{text}")
        return scrub("\n".join(chunks), held)

    def _held_secrets(self, rec: Record) -> list[str]:
        """The secret values the containers of a service or job (or of the services on a pool) were given:
        what this command shows must not repeat them, as an apply's messages do not."""
        recs = self.services.services_on(rec) if rec.get("kind") == "compute_pool" else [rec]
        return sorted({v for r in recs for v in sensitive.held_values(self.host, r, self._secrets.get,
                                                                      r.get("stack") or self.stack)})

    def suspend(self, kind: str, name: str) -> None:
        kind = _kind(kind)
        rec = self.find(name, (kind,))
        op = adapter_for(kind).suspend
        if op is None:
            raise ProviderError(f"only services and compute pools can be suspended, not {kind}")
        op(self, rec)

    def resume(self, kind: str, name: str) -> None:
        kind = _kind(kind)
        rec = self.find(name, (kind,))
        op = adapter_for(kind).resume
        if op is None:
            raise ProviderError(f"only services and compute pools can be resumed, not {kind}")
        try:
            op(self, rec)
        except ProviderError as exc:  # a failed wait quotes the containers' logs
            raise ProviderError(scrub(str(exc), self._held_secrets(rec))) from None

    def stop_all(self, name: str) -> list[str]:
        return self.services.stop_all(self.find(name, ("compute_pool",)), self.say)

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

    def sql(self, text: str, database: str | None = None, schema: str | None = None) -> list[dict[str, Any]]:
        """Run Snowflake-dialect SQL on the stack's DuckDB warehouse (``spcs-iac sql``; see sql.py)."""
        from spcs_iac.targets.local.sql import LocalSql

        with LocalSql(self, database, schema) as session:
            return session.run(text)

    def say(self, text: str) -> None:
        if self.log is not None:
            self.log(text)


def _kind(kind: str) -> str:
    k = kind.strip().lower()
    return KIND_ALIASES.get(k, k.replace(" ", "_"))
