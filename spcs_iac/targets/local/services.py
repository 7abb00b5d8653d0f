"""Services and job services on Docker: deploy, rolling upgrade, drift, suspend/resume, jobs, status.

A service's containers are labelled with its address, instance id, generation and config hash. Deploy
reconciles what runs with the runtime description: instances whose containers all run with the
current hash are kept (a no-op apply recreates nothing); missing or broken instances are created and
waited for together; instances still serving an old hash are upgraded one at a time, highest instance
id first as Snowflake does, the new generation READY before the old one is removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.containers import (
    Placement,
    SecretLookup,
    create_instance,
    describe,
    wait_exit,
    wait_ready,
)
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.records import Catalog, Record, find_anywhere
from spcs_iac.targets.local.runtime import Runtime

Say = Callable[[str], None]
SERVING = ("running", "restarting")
STOP_GRACE = 10  # seconds between SIGTERM and SIGKILL (Snowflake: 30)
Groups = dict[int, dict[str, list[dict[str, Any]]]]  # instance -> generation -> container summaries


def group(summaries: list[dict[str, Any]]) -> Groups:
    out: Groups = {}
    for s in summaries:
        labels = s.get("Labels") or {}
        try:
            index = int(labels.get(naming.LABEL_INSTANCE, "-1"))
        except ValueError:
            continue
        out.setdefault(index, {}).setdefault(labels.get(naming.LABEL_GEN, ""), []).append(s)
    return out


def healthy_gen(rt: Runtime, gens: dict[str, list[dict[str, Any]]]) -> str | None:
    """The generation of an instance whose containers all exist, carry the current hash and run."""
    want = {c["name"] for c in rt["containers"]}
    for gen, items in gens.items():
        names = {(s.get("Labels") or {}).get(naming.LABEL_CONTAINER) for s in items}
        if names == want and all((s.get("Labels") or {}).get(naming.LABEL_HASH) == rt["hash"]
                                 and s.get("State") in SERVING for s in items):
            return gen
    return None


def drift(rt: Runtime, summaries: list[dict[str, Any]]) -> list[str]:
    """What differs between the runtime and the containers Docker has (empty = in sync)."""
    groups = group(summaries)
    problems = []
    for i in range(rt["instances"]):
        gens = groups.get(i, {})
        if healthy_gen(rt, gens) is not None:
            continue
        if not gens:
            problems.append(f"instance {i} has no containers")
            continue
        items = [s for g in gens.values() for s in g]
        bad = sorted({f"{(s.get('Labels') or {}).get(naming.LABEL_CONTAINER)} is {s.get('State')}"
                      for s in items if s.get("State") not in SERVING})
        if any((s.get("Labels") or {}).get(naming.LABEL_HASH) != rt["hash"] for s in items):
            bad.append("containers were replaced (different config hash)")
        problems.append(f"instance {i}: " + (", ".join(bad) or "containers missing"))
    extra = sorted(i for i in groups if i >= rt["instances"] or i < 0)
    if extra:
        problems.append(f"unexpected instances {extra}")
    leftovers = sorted({i for i, gens in groups.items() if 0 <= i < rt["instances"] and len(gens) > 1})
    if leftovers and not problems:
        problems.append(f"instances {leftovers} have containers of an older configuration")
    return problems


def exit_code(summary: dict[str, Any]) -> int | None:
    m = re.match(r"Exited \((-?\d+)\)", summary.get("Status") or "")
    return int(m.group(1)) if m else None


def job_status(summaries: list[dict[str, Any]], rt: Runtime | None = None) -> tuple[str, list[int]]:
    """Snowflake's job status from container states: PENDING, RUNNING, DONE or FAILED."""
    states = [s.get("State") for s in summaries]
    codes = [c for c in (exit_code(s) for s in _ordered(summaries, rt)) if c is not None]
    if any(st in ("running", "restarting") for st in states):
        return "RUNNING", codes
    if any(st == "created" for st in states):
        return "PENDING", codes
    return ("FAILED" if any(codes) or len(codes) < len(states) else "DONE"), codes


def _ordered(summaries: list[dict[str, Any]], rt: Runtime | None = None) -> list[dict[str, Any]]:
    """Instance order, then spec container order."""
    def key(s: dict[str, Any]) -> tuple[int, int, str]:
        labels = s.get("Labels") or {}
        return int(labels.get(naming.LABEL_INSTANCE, "0")), _pos(rt, s) if rt else 0, str(s.get("Names"))

    return sorted(summaries, key=key)


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

    def placement(self, rt: Runtime, say: Say) -> Placement:
        pool = self.pool_record(rt["pool"])
        if pool.get("status") == "SUSPENDED":
            if not (pool.get("props") or {}).get("auto_resume", True):
                raise ProviderError(f"compute pool {pool['name']} is suspended and AUTO_RESUME is FALSE")
            say(f"    resuming compute pool {pool['name']} (AUTO_RESUME)")
            self.resume_pool(rt["pool"], say)
        owner = pool.get("stack", self.stack)
        internal = self.host.ensure_network(rt["pool"], pool["name"], owner, "internal")
        flavour = "egress" if rt["egress"] else "ingress" if rt["public"] else None
        extra = self.host.ensure_network(rt["pool"], pool["name"], owner, flavour) if flavour else None
        family = (pool.get("props") or {}).get("instance_family")
        return Placement(self.stack, internal, extra, family, restart=not rt["job"], say=say)

    # ---- services ------------------------------------------------------------------------------------
    def deploy(self, rt: Runtime, say: Say) -> None:
        """Reconcile the service's containers with ``rt`` (create, repair, rolling upgrade, scale)."""
        where = self.placement(rt, say)
        groups = group(self.host.containers(obj=rt["address"]))
        keep: dict[int, str] = {}
        fresh, rolling = [], []
        for i in range(rt["instances"]):
            gens = groups.get(i, {})
            gen = healthy_gen(rt, gens)
            if gen is not None:
                keep[i] = gen
            elif any(s.get("State") in SERVING for g in gens.values() for s in g):
                rolling.append(i)  # still serving an older config: replace without a gap
            else:
                fresh.append(i)
        created = {i: self._start(rt, i, where) for i in fresh}
        for i, (gen, ids) in created.items():
            try:
                wait_ready(self.host, rt, i, ids, where.internal, self.ready_timeout)
            except ProviderError:
                for cid in (c for _g, c_ids in created.values() for c in c_ids):
                    _quiet(lambda cid=cid: self.host.api.stop(cid, timeout=1))  # keep them for `logs`
                raise
            keep[i] = gen
        for i in sorted(rolling, reverse=True):
            gen, ids = self._start(rt, i, where)
            try:
                wait_ready(self.host, rt, i, ids, where.internal, self.ready_timeout)
            except ProviderError as exc:
                self._remove_ids(ids)  # the old generation keeps serving
                raise ProviderError(f"rolling upgrade stopped at instance {i}; older instances still run.\n{exc}") \
                    from None
            keep[i] = gen
            self._remove_ids([s["Id"] for g, items in groups.get(i, {}).items() if g != gen for s in items])
            say(f"    upgraded instance {i} of {rt['fqn']}")
        # Everything not kept: older generations, broken leftovers, instances beyond the count.
        stale = [s["Id"] for i, gens in group(self.host.containers(obj=rt["address"])).items()
                 for g, items in gens.items() if keep.get(i) != g for s in items]
        self._remove_ids(stale)
        self._remove_volumes(rt["address"], keep_gens=set(keep.values()))

    def _start(self, rt: Runtime, index: int, where: Placement) -> tuple[str, list[str]]:
        gen = naming.new_generation()
        return gen, create_instance(self.host, rt, index, gen, where, self.secrets)

    def _remove_ids(self, ids: list[str]) -> None:
        for cid in ids:
            _quiet(lambda cid=cid: self.host.api.remove_container(cid, force=True))

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

    def endpoints(self, rt: Runtime, summaries: list[dict[str, Any]] | None = None) -> dict[str, str]:
        """Public endpoints -> http://127.0.0.1:<port> of the lowest serving instance."""
        summaries = self.host.containers(obj=rt["address"]) if summaries is None else summaries
        owners = sorted((s for s in summaries if (s.get("Labels") or {}).get(naming.LABEL_ROLE) == "netns"
                         and s.get("State") == "running"), key=lambda s: int(s["Labels"][naming.LABEL_INSTANCE]))
        out: dict[str, str] = {}
        for e in rt["endpoints"]:
            if not e["public"]:
                continue
            for s in owners:
                port = next((p.get("PublicPort") for p in s.get("Ports") or []
                             if p.get("PrivatePort") == e["port"] and p.get("PublicPort")), None)
                if port:
                    out[e["name"]] = f"http://127.0.0.1:{port}"
                    break
        return out

    # ---- suspend / resume ----------------------------------------------------------------------------
    def suspend(self, rec: Record, say: Say, by_pool: bool = False) -> None:
        """Stop the containers (kept, so resume restarts the same digest, as Snowflake does)."""
        running = [s["Id"] for s in self.host.containers(obj=rec["address"], stack=_stack(self, rec)) if s.get("State") in SERVING]
        with ThreadPoolExecutor(max_workers=8) as pool:  # SIGTERM, then SIGKILL after the grace period
            list(pool.map(lambda cid: _quiet(lambda: self.host.api.stop(cid, timeout=STOP_GRACE)), running))
        _catalog_of(self, rec).patch(rec["address"], status="SUSPENDED", suspended_by_pool=by_pool)
        say(f"    suspended {rec['name']}")

    def resume(self, rec: Record, say: Say) -> None:
        rt = rec["runtime"]
        # Namespace owners first: members cannot join the network of a stopped container.
        for s in sorted(self.host.containers(obj=rec["address"], stack=_stack(self, rec)),
                        key=lambda s: (s.get("Labels") or {}).get(naming.LABEL_ROLE) != "netns"):
            if (s.get("Labels") or {}).get(naming.LABEL_HASH) == rt["hash"] and s.get("State") not in SERVING:
                _quiet(lambda cid=s["Id"]: self.host.api.start(cid))  # deploy below replaces what fails
        _catalog_of(self, rec).patch(rec["address"], status="RUNNING", suspended_by_pool=False)
        where = self.placement(rt, say)
        groups = group(self.host.containers(obj=rec["address"], stack=_stack(self, rec)))
        for i in range(rt["instances"]):
            gen = healthy_gen(rt, groups.get(i, {}))
            if gen is not None:
                ids = [s["Id"] for s in sorted(groups[i][gen], key=lambda s: _pos(rt, s))]
                wait_ready(self.host, rt, i, ids, where.internal, self.ready_timeout)
        self.deploy(rt, say)  # recreates instances whose containers were removed meanwhile
        say(f"    resumed {rec['name']}")

    def suspend_pool(self, pool: Record, say: Say) -> None:
        for rec in self._services_on(pool):
            if rec.get("status") != "SUSPENDED" and not rec["runtime"]["job"]:
                self.suspend(rec, say, by_pool=True)  # jobs are left to finish
        self.catalog_for(pool).patch(pool["address"], status="SUSPENDED")

    def resume_pool(self, address: str, say: Say) -> None:
        pool = self.pool_record(address)
        self.catalog_for(pool).patch(address, status="ACTIVE")
        for rec in self._services_on(pool):
            if rec.get("suspended_by_pool"):
                self.resume(rec, say)

    def stop_all(self, pool: Record, say: Say) -> list[str]:
        """ALTER COMPUTE POOL STOP ALL: every service and job on the pool is deleted."""
        gone = []
        for rec in self._services_on(pool):
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
        for rec in self._services_on(self.pool_record(pool_address)):
            specs = {c["name"]: c for c in rec["runtime"]["containers"]}
            for s in self.host.containers(obj=rec["address"], stack=_stack(self, rec)):
                c = specs.get((s.get("Labels") or {}).get(naming.LABEL_CONTAINER, ""))
                if c is not None:
                    self.host.update_limits(s["Id"], self.host.limits(family, c["cpus"], c["memory"], 0))

    def _services_on(self, pool: Record) -> list[Record]:
        """Services and jobs of any stack in this state dir that run on ``pool`` (a pool name resolves to
        the referencing stack's own pool first, as in ``placement``)."""
        out = []
        owner = _stack(self, pool)
        for path in sorted(self.root.glob("catalog-*.json")):
            stack = path.name[len("catalog-"):-len(".json")]
            catalog = Catalog(self.root, stack)
            for address, rec in catalog.load().items():
                if (rec.get("runtime") or {}).get("pool") != pool["address"]:
                    continue
                resolved = find_anywhere(self.root, pool["address"], catalog)
                if resolved is not None and resolved.get("stack", stack) == owner:
                    out.append({**rec, "address": address, "stack": stack})
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
        ids = [cid for i in range(rt["instances"]) for cid in self._start(rt, i, where)[1]]
        if not wait:
            return {"status": "RUNNING", "exit_codes": []}
        codes = wait_exit(self.host, ids, self.job_timeout)
        if codes is None:
            self._remove_ids(ids)
            raise ProviderError(f"job {rt['fqn']} did not finish within {self.job_timeout:.0f}s (cancelled)")
        if any(codes):
            raise ProviderError(f"job {rt['fqn']} FAILED, exit codes {codes}\n" + describe(self.host, rt, ids))
        say(f"    job {rt['fqn']} DONE ({rt['instances']} replica(s))")
        return {"status": "DONE", "exit_codes": codes}

    # ---- status ---------------------------------------------------------------------------------------
    def status(self, rec: Record) -> dict[str, Any]:
        rt = rec["runtime"]
        summaries = self.host.containers(obj=rec["address"], stack=_stack(self, rec))
        rows = [_row(s, rt) for s in _ordered(summaries, rt)]
        if rt["job"]:
            state, codes = job_status(summaries, rt) if summaries else ("DELETED", [])
            extra: dict[str, Any] = {"exit_codes": codes}
        else:
            problems = drift(rt, summaries)
            state = rec.get("status") or "RUNNING"
            state = "SUSPENDED" if state == "SUSPENDED" else ("RUNNING" if not problems else "PENDING")
            extra = {"problems": problems}
        return {
            "name": rec["name"], "kind": rt["kind"], "status": state, "dns_name": rt["dns"],
            "endpoints": self.endpoints(rt, summaries),
            "private_endpoints": {e["name"]: f"{rt['dns']}:{e['port'] or e['port_range']}"
                                  for e in rt["endpoints"] if not e["public"]},
            "containers": rows, **extra,
        }

    def pool_status(self, pool: Record) -> dict[str, Any]:
        services = self._services_on(pool)
        rows = [_row(s) for s in self.host.containers(pool=self.pool_net(pool), stack="")]
        return {
            "name": pool["name"], "kind": "compute_pool", "status": pool.get("status", "ACTIVE"),
            "instance_family": (pool.get("props") or {}).get("instance_family"),
            "networks": sorted(self.host.pool_network_names(pool["address"], _stack(self, pool)).values()),
            "services": sorted(r["name"] for r in services), "containers": rows,
        }


def _row(s: dict[str, Any], rt: Runtime | None = None) -> dict[str, Any]:
    labels = s.get("Labels") or {}
    ports = ", ".join(f"{p.get('IP')}:{p['PublicPort']}->{p.get('PrivatePort')}" for p in s.get("Ports") or []
                      if p.get("PublicPort"))
    row = {"instance": int(labels.get(naming.LABEL_INSTANCE, "0")), "container": labels.get(naming.LABEL_CONTAINER),
           "name": (s.get("Names") or ["?"])[0].lstrip("/"), "id": s["Id"][:12], "state": s.get("State"),
           "status": s.get("Status"), "ports": ports}
    if rt is not None:
        row["current"] = labels.get(naming.LABEL_HASH) == rt["hash"]
    else:
        row["object"] = labels.get(naming.LABEL_OBJECT)
    return row


def _pos(rt: Runtime, summary: dict[str, Any]) -> int:
    names = [c["name"] for c in rt["containers"]]
    name = (summary.get("Labels") or {}).get(naming.LABEL_CONTAINER)
    return names.index(name) if name in names else len(names)


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
