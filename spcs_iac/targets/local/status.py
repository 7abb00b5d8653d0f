"""``spcs-iac status`` on the local target: containers in SPCS's terms, restarts, problems.

Each spec container is inspected (status is an operation, not a plan: it may take a call per container):
READY (running, readiness probe passing; without a probe, not restarted in the last ``SETTLE``
seconds), PENDING (starting, probe not passing yet, or restarted just now), FAILED (exited, or
crash-looping: restarting now or up briefly after many restarts), DONE (a job container that exited
0) or SUSPENDED. A service is RUNNING only when every instance is READY; a crash-looping container
makes it FAILED, with the container's restarts, exit code and last log line among the problems.
"""

from __future__ import annotations

import time
from typing import Any

from spcs_iac.targets.local import edge, naming
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.instances import (
    drift,
    group,
    healthy_gen,
    job_status,
    labels,
    ordered,
    proxy_down,
)
from spcs_iac.targets.local.readiness import (
    RESTART_LIMIT,
    SETTLE,
    container_ip,
    last_exit_code,
    probe,
    started_at,
)
from spcs_iac.targets.local.runtime import Runtime

LOOP_WINDOW = 60.0


def service_status(host: DockerHost, rec: dict[str, Any], stack: str, internal: str) -> dict[str, Any]:
    rt: Runtime = rec["runtime"]
    summaries = host.containers(obj=rec["address"], stack=stack)
    suspended = rec.get("status") == "SUSPENDED"
    owners = {(labels(s).get(naming.LABEL_INSTANCE), labels(s).get(naming.LABEL_GEN)): s for s in summaries
              if naming.role(s) == naming.ROLE_NETNS}
    rows, problems, looping_ids = [], [], set()
    for s in ordered([s for s in summaries if naming.role(s) == naming.ROLE_MEMBER], rt):
        row, problem = _row(host, rt, s, owners, internal, suspended)
        rows.append(row)
        if problem and row["current"]:
            problems.append(problem)
        if row["status"] == "FAILED" and row.get("looping"):
            looping_ids.add(s["Id"])
    if rt["job"]:
        state, codes = job_status(summaries, rt) if summaries else ("DELETED", [])
        extra: dict[str, Any] = {"exit_codes": codes}
    else:
        if not suspended:
            down = ["the endpoint proxy is not running"] if proxy_down(summaries, bool(edge.proxied(rt))) else []
            problems = drift(rt, summaries, looping_ids) + down + problems  # crash loops: in the rows' problems
        current = [r for r in rows if r["current"]]
        state = "SUSPENDED" if suspended else "FAILED" if any(r["status"] == "FAILED" for r in current) else (
            "PENDING" if problems or any(r["status"] != "READY" for r in current) else "RUNNING")
        healthy = {i for i, gens in group(summaries).items() if healthy_gen(rt, gens, looping_ids) is not None}
        ready = [i for i in healthy if all(r["status"] == "READY" for r in current if r["instance_id"] == i)]
        extra = {"problems": problems, "ready_instances": f"{min(len(ready), rt['instances'])}/{rt['instances']}"}
    for r in rows:
        r.pop("looping", None)
    return {
        "name": rec["name"], "kind": rt["kind"], "status": state, "dns_name": rt["aliases"][-1],
        "endpoints": edge.public_urls(rt, rec.get("edge")),
        "private_endpoints": {e["name"]: f"{rt['aliases'][-1]}:{e['port'] or e['port_range']}"
                              for e in rt["endpoints"] if not e["public"]},
        "containers": rows, **extra,
    }


def _row(host: DockerHost, rt: Runtime, s: dict[str, Any], owners: dict[tuple[Any, Any], dict[str, Any]],
         internal: str, suspended: bool) -> tuple[dict[str, Any], str | None]:
    lab = labels(s)
    name = lab.get(naming.LABEL_CONTAINER)
    where = f"instance {lab.get(naming.LABEL_INSTANCE)}: container {name}"
    try:
        info = host.inspect_container(s["Id"])
    except Exception:  # removed meanwhile
        info = {"State": {"Status": "removed"}}
    state = info.get("State") or {}
    docker_state, code = state.get("Status"), last_exit_code(host, info)
    restarts = int(info.get("RestartCount") or 0)
    spec = next((c for c in rt["containers"] if c["name"] == name), None)
    up = time.time() - (started_at(info) or time.time())
    status, message, problem, loop = "READY", "", None, False
    if docker_state == "restarting" or (docker_state == "running" and restarts >= RESTART_LIMIT and up < LOOP_WINDOW):
        status, loop = "FAILED", True
        message = f"keeps restarting ({restarts} restarts, last exit code {code})"
    elif docker_state == "running":
        if rt["job"]:
            status = "RUNNING"
        elif spec and spec["probe"]:
            owner = owners.get((lab.get(naming.LABEL_INSTANCE), lab.get(naming.LABEL_GEN)))
            ip = container_ip(host.inspect_container(owner["Id"]), internal) if owner else None
            if owner is None or not probe(host, owner["Id"], ip, spec["probe"]["port"], spec["probe"]["path"]):
                status = "PENDING"
                message = f"readiness probe GET {spec['probe']['path']} on port {spec['probe']['port']} does not pass"
        elif restarts and up < SETTLE:  # the rule the apply waits by (readiness.py): a restart is not READY
            status = "PENDING"
            message = f"restarted {restarts} time(s), last exit code {code}; up {up:.0f} s, READY after {SETTLE:.0f} s"
        if restarts and not message:
            message = f"restarted {restarts} time(s), last exit code {code}"
    elif rt["job"] and docker_state == "exited":
        status = "DONE" if code == 0 else "FAILED"
        message = f"exit code {code}"
    elif suspended and docker_state in ("exited", "created"):
        status = "SUSPENDED"
    else:
        status = "FAILED" if docker_state in ("exited", "dead") else "PENDING"
        message = f"{docker_state}, exit code {code}"
    if status == "FAILED" or (status == "PENDING" and not rt["job"]):
        last = _last_log_line(host, s["Id"])
        problem = f"{where} {message}" + (f"; last log line: {last}" if last else "")
    row = {"instance_id": int(lab.get(naming.LABEL_INSTANCE, "0") or 0), "container_name": name, "status": status,
           "message": message, "restart_count": restarts, "last_exit_code": code, "docker_state": docker_state,
           "image_name": (info.get("Config") or {}).get("Image") or s.get("Image"),
           "current": lab.get(naming.LABEL_HASH) == rt["hash"], "looping": loop}
    return row, problem


def _last_log_line(host: DockerHost, cid: str) -> str:
    try:
        text = host.api.logs(cid, tail=5).decode(errors="replace").strip()
    except Exception:  # removed meanwhile
        return ""
    return text.splitlines()[-1][:200] if text else ""


def pool_status(host: DockerHost, pool: dict[str, Any], net: str, networks: list[str],
                services: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for s in host.containers(pool=net, stack=""):
        lab = labels(s)
        rows.append({"object": lab.get(naming.LABEL_OBJECT), "role": naming.role(s),
                     "instance": lab.get(naming.LABEL_INSTANCE, ""), "container": lab.get(naming.LABEL_CONTAINER, ""),
                     "name": (s.get("Names") or ["?"])[0].lstrip("/"), "state": s.get("State"),
                     "status": s.get("Status")})
    return {
        "name": pool["name"], "kind": "compute_pool", "status": pool.get("status", "ACTIVE"),
        "instance_family": (pool.get("props") or {}).get("instance_family"), "networks": networks,
        "services": [{"name": r["name"], "kind": (r.get("runtime") or {}).get("kind"), "status": r.get("status"),
                      "stack": r.get("stack")} for r in sorted(services, key=lambda r: r["name"])],
        "containers": rows,
    }
