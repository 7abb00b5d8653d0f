"""Services and job services on Docker: deploy, rolling upgrade, suspend/resume, jobs, status.

A service's containers are labelled with its address, instance id, generation, role and config hash
(``instances``). Deploy reconciles what runs with the runtime description: instances whose
containers all run with the current hash are kept (a no-op apply recreates nothing); missing or
broken instances are created and waited for together; instances still serving an old hash are
upgraded one at a time, highest instance id first as Snowflake does, the new generation READY (and
taken in by the endpoint proxy) before the old one is retired. The endpoint proxy (``edge``) keeps
each endpoint's host port through all of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.local import edge, infra, naming
from spcs_iac.targets.local import status as status_view
from spcs_iac.targets.local.containers import Placement, SecretLookup, create_instance, wait_netns
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.instances import Groups, group, healthy_gen, looping, position, proxies, serving
from spcs_iac.targets.local.readiness import Instance, container_ip, describe, wait_exit, wait_ready
from spcs_iac.targets.local.records import Catalog, Record, catalogs, find_anywhere
from spcs_iac.targets.local.runtime import Runtime

Say = Callable[[str], None]
STOP_GRACE = 10  # seconds between SIGTERM and SIGKILL (Snowflake: 30)


class Services:
    def __init__(self, host: DockerHost, catalog: Catalog, local_root: Path, stack: str, secrets: SecretLookup,
                 ready_timeout: float, job_timeout: float) -> None:
        self.host, self.catalog, self.root, self.stack = host, catalog, local_root, stack
        self.secrets = secrets
        self.ready_timeout, self.job_timeout = ready_timeout, job_timeout

    # ---- placement ---------------------------------------------------------------------------------
    def pool_record(self, pool_address: str) -> Record:
        rec = find_anywhere(self.root, pool_address, self.catalog)
        if rec is None:
            raise ProviderError(f"compute pool {pool_address.split('.', 1)[-1]} does not exist on the local target")
        return rec

    def placement(self, rt: Runtime, say: Say, stack: str | None = None) -> Placement:
        pool = self.pool_record(rt["pool"])
        if pool.get("status") == "SUSPENDED":
            if not (pool.get("props") or {}).get("auto_resume", True):
                raise ProviderError(f"compute pool {pool['name']} is suspended and AUTO_RESUME is FALSE")
            say(f"    resuming compute pool {pool['name']} (AUTO_RESUME)")
            self.resume_pool(rt["pool"], say)
        owner = pool.get("stack", self.stack)
        internal = self.host.ensure_network(rt["pool"], pool["name"], owner, "internal")
        egress = self.host.ensure_network(rt["pool"], pool["name"], owner, "egress") if rt["egress"] else None
        ingress = self.host.ensure_network(rt["pool"], pool["name"], owner, "ingress") if edge.proxied(rt) else None
        subnet, gateway = self.host.subnet(internal)
        family = (pool.get("props") or {}).get("instance_family")
        return Placement(stack or self.stack, internal, egress, ingress, family, restart=not rt["job"],
                         subnet=subnet, gateway=gateway, say=say)

    # ---- services ------------------------------------------------------------------------------------
    def deploy(self, rt: Runtime, edge_info: edge.Edge, say: Say) -> None:
        """Reconcile the service's containers with ``rt`` (create, repair, rolling upgrade, scale)."""
        where = self.placement(rt, say)
        started = time.monotonic()
        image = infra.infra_image(self.host.client)
        summaries = self.host.containers(obj=rt["address"])
        groups, loops = group(summaries), looping(self.host, summaries)
        keep: dict[int, str] = {}
        fresh, rolling = [], []
        for i in range(rt["instances"]):
            gens = groups.get(i, {})
            gen = healthy_gen(rt, gens, loops)
            if gen is not None:
                keep[i] = gen
            elif serving(gens) and not any(s["Id"] in loops for g in gens.values() for s in g):
                rolling.append(i)  # still serving an older config: replace without a gap
            else:
                fresh.append(i)
        with ThreadPoolExecutor(max_workers=1) as side:
            # The proxy starts beside the new instances (each takes a second or two) and finds them by DNS.
            proxying = side.submit(edge.ensure, self.host, rt, edge_info, stack=self.stack, internal=where.internal,
                                   ingress=where.ingress, image=image, say=say)
            try:
                # Broken leftovers go first: repeated failing applies must not pile up generations.
                self._retire(rt, [s for i in fresh for g in groups.get(i, {}).values() for s in g], None, new=None,
                             internal=where.internal)
                with ThreadPoolExecutor(max_workers=4) as starting:  # instances start at once, as in SPCS
                    created = dict(zip(fresh, starting.map(lambda i: self._start(rt, i, where), fresh), strict=True))
                # On failure the instances stay as they are, as in SPCS (a crash loop keeps restarting):
                # `status` and `logs` show why, and the next apply replaces them.
                wait_ready(self.host, rt, [inst for _g, inst in created.values()], where.internal,
                           self.ready_timeout, say, total=rt["instances"])
            except BaseException:
                proxying.exception()  # let the proxy finish; the instances' failure is the one to report
                raise
            proxy = proxying.result()
        # Instances kept as they are were READY once, or were started by a run that did not see them become
        # READY (interrupted): either way the apply returns only once they are.
        wait_ready(self.host, rt, instances_of(rt, groups, keep), where.internal, self.ready_timeout, say,
                   total=rt["instances"], fresh=False)
        keep.update({i: gen for i, (gen, _inst) in created.items()})
        for i in sorted(rolling, reverse=True):
            gen, inst = self._start(rt, i, where)
            try:
                wait_ready(self.host, rt, [inst], where.internal, self.ready_timeout, say,
                           label=f"{rt['name']} instance {i} (rolling upgrade)", total=1)
            except ProviderError as exc:
                self._remove_ids([*inst.members, inst.netns])  # the old generation keeps serving
                raise ProviderError(f"rolling upgrade of service {rt['fqn']} stopped at instance {i}; older "
                                    f"instances still run.\n{exc}") from None
            keep[i] = gen
            self._retire(rt, [s for g, items in groups.get(i, {}).items() if g != gen for s in items], proxy,
                         new=inst, internal=where.internal)
            say(f"    upgraded instance {i} of {rt['fqn']}")
        # Everything not kept: older generations, broken leftovers, instances beyond the count.
        current = group(self.host.containers(obj=rt["address"]))
        stale = [s for i, gens in current.items() for g, items in gens.items() if keep.get(i) != g for s in items]
        self._retire(rt, stale, proxy, new=None, internal=where.internal)
        self._remove_volumes(rt["address"], keep_gens=set(keep.values()))
        if proxy is not None:
            edge.wait_ready(self.host, proxy, rt, max(5.0, self.ready_timeout - (time.monotonic() - started)))
            # When apply returns, every instance serves: the proxy finds instances by DNS and checks each every
            # second, so on a busy machine it may still be taking the last one in (best effort).
            # The listing already carries each kept owner's address on the pool network.
            ips = {ip for i, gens in current.items() for g, items in gens.items() if keep.get(i) == g
                   for s in items if naming.role(s) == naming.ROLE_NETNS
                   if (ip := container_ip(s, where.internal))}
            edge.wait_servers(self.host, proxy, up=ips, down=set(), timeout=10.0)

    def _start(self, rt: Runtime, index: int, where: Placement) -> tuple[str, Instance]:
        gen = naming.new_generation()
        return gen, create_instance(self.host, rt, index, gen, where, self.secrets)

    def _retire(self, rt: Runtime, summaries: list[dict[str, Any]], proxy: str | None, *, new: Instance | None,
                internal: str) -> None:
        """Remove old containers without failing requests: the proxy takes in the new instance first;
        spec containers go before their namespace owner, so requests still routed there are refused at
        once (the proxy retries elsewhere) rather than timing out on a vanished address."""
        if not summaries:
            return
        owners = [s for s in summaries if naming.role(s) == naming.ROLE_NETNS]
        old_ips = {ip for ip in (container_ip(self._inspect(s["Id"]), internal) for s in owners) if ip}
        new_ip = container_ip(self._inspect(new.netns), internal) if new is not None else None
        if proxy is not None and new_ip:
            edge.wait_servers(self.host, proxy, up={new_ip}, down=set())
        self._remove_ids([s["Id"] for s in summaries if naming.role(s) != naming.ROLE_NETNS])
        if proxy is not None and old_ips:
            edge.wait_servers(self.host, proxy, up=set(), down=old_ips, timeout=3.0)
        self._remove_ids([s["Id"] for s in owners])

    def _inspect(self, cid: str) -> dict[str, Any]:
        try:
            return dict(self.host.api.inspect_container(cid))
        except Exception:  # gone
            return {}

    def _remove_ids(self, ids: list[str]) -> None:
        for cid in ids:
            _quiet(lambda cid=cid: self.host.api.remove_container(cid, force=True))

    def _stop(self, ids: list[str], grace: int = STOP_GRACE) -> None:
        self._each(ids, lambda cid: self.host.api.stop(cid, timeout=grace))  # SIGTERM, SIGKILL after the grace

    @staticmethod
    def _each(ids: list[str], fn: Callable[[str], Any]) -> None:
        """``fn`` on every id at once (best effort: failures are left for the caller to find)."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda cid: _quiet(lambda: fn(cid)), ids))

    def _remove_volumes(self, address: str, keep_gens: set[str] | None = None) -> None:
        for v in self.host.volumes(obj=address):
            labels = v.get("Labels") or {}
            gen = labels.get(naming.LABEL_GEN, "")
            # Block volumes (no generation) outlive generations; they go with the service.
            if keep_gens is not None and (not gen or gen in keep_gens):
                continue
            _quiet(lambda name=v["Name"]: self.host.api.remove_volume(name, force=True))

    def remove(self, address: str) -> None:
        """Delete a service or job: its containers and volumes (stage directories stay)."""
        self._remove_ids([s["Id"] for s in self.host.containers(obj=address)])
        self._remove_volumes(address)

    def endpoints(self, rec: Record) -> dict[str, str]:
        """Public endpoints -> http://127.0.0.1:<port> of the service's proxy (stable for its lifetime)."""
        return edge.public_urls(rec["runtime"], rec.get("edge"))

    # ---- suspend / resume ----------------------------------------------------------------------------
    def suspend(self, rec: Record, say: Say, by_pool: bool = False) -> None:
        """Stop the containers (kept, so resume restarts the same digest, as Snowflake does)."""
        summaries = self.host.containers(obj=rec["address"], stack=_stack(self, rec))
        running = [s for s in summaries if s.get("State") in ("running", "restarting")]
        self._stop([s["Id"] for s in running if naming.role(s) == naming.ROLE_MEMBER])
        self._stop([s["Id"] for s in running if naming.role(s) != naming.ROLE_MEMBER], grace=1)
        _catalog_of(self, rec).patch(rec["address"], status="SUSPENDED", suspended_by_pool=by_pool)
        say(f"    suspended {rec['name']}")

    def resume(self, rec: Record, say: Say) -> None:
        rt = rec["runtime"]
        stack = _stack(self, rec)
        summaries = self.host.containers(obj=rec["address"], stack=stack)
        current = [s for s in summaries if (s.get("Labels") or {}).get(naming.LABEL_HASH) == rt["hash"]]
        # Namespace owners first (members cannot join a stopped one), then spec containers and the proxy
        # (it finds the instances while they start). What fails to start, deploy below replaces.
        owners = [s["Id"] for s in current if naming.role(s) == naming.ROLE_NETNS and s.get("State") != "running"]
        self._each(owners, lambda cid: (self.host.api.start(cid), wait_netns(self.host, cid, rt)))
        rest = [s for s in current if naming.role(s) == naming.ROLE_MEMBER] + proxies(summaries)
        self._each([s["Id"] for s in rest if s.get("State") != "running"], self.host.api.start)
        _catalog_of(self, rec).patch(rec["address"], status="RUNNING", suspended_by_pool=False)
        where = self.placement(rt, say, stack)
        groups = group(self.host.containers(obj=rec["address"], stack=stack))
        chosen = {i: gen for i in range(rt["instances"]) if (gen := healthy_gen(rt, groups.get(i, {}))) is not None}
        wait_ready(self.host, rt, instances_of(rt, groups, chosen), where.internal, self.ready_timeout, say,
                   total=rt["instances"], fresh=False)
        if stack == self.stack:
            self.deploy(rt, rec.get("edge") or edge.plan_edge(rt, None), say)  # recreates what was removed
        say(f"    resumed {rec['name']}")

    def suspend_pool(self, pool: Record, say: Say) -> None:
        for rec in self.services_on(pool):
            if rec.get("status") != "SUSPENDED" and not rec["runtime"]["job"]:
                self.suspend(rec, say, by_pool=True)  # jobs are left to finish
        self.catalog_for(pool).patch(pool["address"], status="SUSPENDED")

    def resume_pool(self, address: str, say: Say) -> None:
        pool = self.pool_record(address)
        self.catalog_for(pool).patch(address, status="ACTIVE")
        for rec in self.services_on(pool):
            if rec.get("suspended_by_pool"):
                self.resume(rec, say)

    def stop_all(self, pool: Record, say: Say) -> list[str]:
        """ALTER COMPUTE POOL STOP ALL: every service and job on the pool is deleted."""
        gone = []
        for rec in self.services_on(pool):
            self.remove(rec["address"])
            _catalog_of(self, rec).remove(rec["address"])
            gone.append(rec["name"])
        for s in self.host.containers(pool=self.pool_net(pool), stack=""):  # leftovers without a record
            self._remove_ids([s["Id"]])
        say(f"    stopped {len(gone)} service(s) on {pool['name']}")
        return gone

    def clear_pool(self, pool_address: str) -> None:
        """Before a pool is dropped: remove this stack's containers, volumes and records still on it
        (STOP ALL, as Terraform does before DROP). Catches services whose creation failed, which the
        state never recorded and a destroy therefore does not list."""
        net = naming.network_name(self.stack, pool_address.split(".", 1)[1])
        self._remove_ids([s["Id"] for s in self.host.containers(pool=net)])
        for v in self.host.volumes():
            if (v.get("Labels") or {}).get(naming.LABEL_POOL) == net:
                _quiet(lambda name=v["Name"]: self.host.api.remove_volume(name, force=True))
        with self.catalog.edit() as objects:
            for address in [a for a, r in objects.items() if (r.get("runtime") or {}).get("pool") == pool_address]:
                objects.pop(address)

    def apply_pool_family(self, pool_address: str, family: str) -> None:
        """A new instance family changes the CPU/memory of the pool's running containers in place."""
        for rec in self.services_on(self.pool_record(pool_address)):
            specs = {c["name"]: c for c in rec["runtime"]["containers"]}
            for s in self.host.containers(obj=rec["address"], stack=_stack(self, rec)):
                c = specs.get((s.get("Labels") or {}).get(naming.LABEL_CONTAINER, ""))
                if c is not None:
                    self.host.update_limits(s["Id"], self.host.limits(family, c["cpus"], c["memory"], 0))

    def services_on(self, pool: Record) -> list[Record]:
        """Services and jobs of any stack in this state dir that run on ``pool`` (a pool name resolves to
        the referencing stack's own pool first, as in ``placement``)."""
        out = []
        owner = _stack(self, pool)
        for catalog in catalogs(self.root):
            for address, rec in catalog.load().items():
                if (rec.get("runtime") or {}).get("pool") != pool["address"]:
                    continue
                resolved = find_anywhere(self.root, pool["address"], catalog)
                if resolved is not None and resolved.get("stack", catalog.stack) == owner:
                    out.append({**rec, "address": address, "stack": catalog.stack})
        return out

    def pool_net(self, pool: Record) -> str:
        """The pool's internal network: also the pool label of its containers."""
        return naming.network_name(_stack(self, pool), pool["name"])

    def catalog_for(self, rec: Record) -> Catalog:
        return _catalog_of(self, rec)

    # ---- jobs ------------------------------------------------------------------------------------------
    def run_job(self, rt: Runtime, wait: bool, say: Say) -> dict[str, Any]:
        """EXECUTE JOB SERVICE: ``replicas`` instances that run once; waits unless async."""
        self.remove(rt["address"])  # a job name runs one execution at a time
        where = self.placement(rt, say)
        instances = [self._start(rt, i, where)[1] for i in range(rt["instances"])]
        ids = [cid for inst in instances for cid in inst.members]
        if not wait:
            return {"status": "RUNNING", "exit_codes": []}
        codes = wait_exit(self.host, ids, self.job_timeout)
        self._stop([inst.netns for inst in instances], grace=1)  # nothing left in the namespaces
        if codes is None:
            self._remove_ids(ids)
            raise ProviderError(f"job service {rt['fqn']} did not finish within {self.job_timeout:.0f}s (cancelled)")
        if any(codes):
            raise ProviderError(f"job service {rt['fqn']} FAILED, exit codes {codes}\n" + describe(self.host, rt, ids))
        say(f"    job {rt['fqn']} DONE ({rt['instances']} replica(s))")
        return {"status": "DONE", "exit_codes": codes}

    # ---- status ---------------------------------------------------------------------------------------
    def status(self, rec: Record) -> dict[str, Any]:
        pool = find_anywhere(self.root, rec["runtime"]["pool"], self.catalog)
        internal = self.pool_net(pool) if pool else ""
        return status_view.service_status(self.host, rec, _stack(self, rec), internal)

    def pool_status(self, pool: Record) -> dict[str, Any]:
        networks = sorted(self.host.pool_network_names(pool["address"], _stack(self, pool)).values())
        return status_view.pool_status(self.host, pool, self.pool_net(pool), networks, self.services_on(pool))


def _stack(svc: Services, rec: Record) -> str:
    return str(rec.get("stack") or svc.stack)


def _catalog_of(svc: Services, rec: Record) -> Catalog:
    stack = rec.get("stack") or svc.stack
    return svc.catalog if stack == svc.stack else Catalog(svc.root, stack)


def _quiet(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # best-effort cleanup
        pass


def instances_of(rt: Runtime, groups: Groups, chosen: dict[int, str]) -> list[Instance]:
    """The instances of the chosen generation of each index, from the container listing."""
    out = []
    for i, gen in sorted(chosen.items()):
        items = groups[i][gen]
        owner = next(s for s in items if naming.role(s) == naming.ROLE_NETNS)
        members = sorted((s for s in items if naming.role(s) == naming.ROLE_MEMBER), key=lambda s: position(rt, s))
        out.append(Instance(i, owner["Id"], [s["Id"] for s in members]))
    return out
