"""When an instance is READY, and what the wait shows while it is not.

An instance is READY when its namespace owner runs and every container of it runs and passes its
readiness probe (HTTP GET on the instance's address, from inside its namespace, as the kubelet probes
the pod IP). A container without a probe must have stayed up ``SETTLE`` seconds since its last
(re)start: SPCS calls it READY once it runs, but a restart means it is not, and a local apply that
returned READY for a container crashing seconds later would only show the failure to the next plan.
All instances are checked on every round, so one that passed and then restarts is waiting again. A
container that restarted ``RESTART_LIMIT`` times is failed at once (a crash loop never becomes READY);
so is one that exited without a restart policy. The wait prints progress every ``PROGRESS_EVERY`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.runtime import Runtime

RESTART_LIMIT = 3
# Seconds a container without a readiness probe must stay up since its last start to be READY. Docker's
# own rule: a start is successful once the container has been up 10 s (before that its restart policy
# counts it a failed start and backs off). So an app that dies during its start-up (a bad config, a lost
# connection, a port in use) fails the apply instead of passing as READY. It costs those containers' first
# apply 10 s; containers with a probe are READY as soon as it passes.
SETTLE = 10.0
PROGRESS_EVERY = 5.0
POLL = 0.3
Say = Callable[[str], None]


@dataclass
class Instance:
    index: int
    netns: str  # id of the namespace owner
    members: list[str]  # ids of the spec containers, in spec order


def started_at(info: dict[str, Any]) -> float | None:
    """Docker's ``State.StartedAt`` as a POSIX time (None when never started)."""
    return _stamp(str((info.get("State") or {}).get("StartedAt") or ""))


def last_exit_code(host: DockerHost, info: dict[str, Any]) -> int | None:
    """The exit code of the container's last run. A restarted container that runs again reports 0 in
    its state, so the engine's recorded "die" events are asked instead."""
    state = info.get("State") or {}
    if state.get("Status") != "running" or not info.get("RestartCount"):
        return state.get("ExitCode")
    try:
        since = int(_stamp(str(info.get("Created") or "")) or time.time() - 3600)
        events = host.api.events(since=since, until=f"{time.time():.3f}", decode=True,
                                 filters={"container": info["Id"], "event": "die"})
        codes = [((e.get("Actor") or {}).get("Attributes") or {}).get("exitCode") for e in events]
    except Exception:  # events are a nicety; the restart count says enough
        return None
    return int(codes[-1]) if codes and codes[-1] is not None else None


def _stamp(text: str) -> float | None:
    if not text or text.startswith("0001-"):
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    try:
        stamp = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    return stamp + (float("0." + frac[:6]) if frac[:6].isdigit() else 0.0)


def container_ip(info: dict[str, Any], network: str | None = None) -> str | None:
    nets = (info.get("NetworkSettings") or {}).get("Networks") or {}
    if network and (nets.get(network) or {}).get("IPAddress"):
        return str(nets[network]["IPAddress"])
    return next((str(n["IPAddress"]) for n in nets.values() if n.get("IPAddress")), None)


def probe(host: DockerHost, netns_id: str, ip: str | None, port: int, path: str) -> bool:
    """HTTP GET of a readiness probe from inside the instance's namespace (the owner has curl)."""
    url = f"http://{ip or '127.0.0.1'}:{port}{path}"
    try:
        # -g: the path as declared; curl would read [..] and {..} in it as URL globs (ranges, alternatives).
        res = host.api.exec_create(netns_id, ["curl", "-g", "-fsS", "-o", "/dev/null", "-m", "2", url])
        host.api.exec_start(res["Id"])
        return host.api.exec_inspect(res["Id"]).get("ExitCode") == 0
    except Exception:  # the owner is restarting: not ready now
        return False


def check(host: DockerHost, rt: Runtime, inst: Instance, internal: str, settle: float = SETTLE,
          probes: bool = True, baseline: dict[str, int] | None = None) -> tuple[str, str]:
    """("ready" | "waiting" | "failed", why) for one instance. ``baseline``: restart counts to count from
    (Docker's count covers the container's whole life; a resumed container may have restarted before)."""
    api = host.api
    owner = api.inspect_container(inst.netns)
    ostate = owner.get("State") or {}
    if ostate.get("Status") != "running":
        if ostate.get("Status") in ("exited", "dead"):
            return "failed", f"its network namespace owner exited (code {ostate.get('ExitCode')})"
        return "waiting", "its network namespace owner is starting"
    owner_start = started_at(owner) or 0.0
    ip = container_ip(owner, internal)
    waiting: str | None = None
    for pos, cid in enumerate(inst.members):
        spec = rt["containers"][pos]
        name = spec["name"]
        info = api.inspect_container(cid)
        state = info.get("State") or {}
        status, restarts, code = state.get("Status"), int(info.get("RestartCount") or 0), state.get("ExitCode")
        if baseline is not None:
            restarts -= baseline.setdefault(cid, restarts)
        policy = ((info.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name")
        if restarts >= RESTART_LIMIT:
            return "failed", (f"container {name} keeps restarting ({restarts} restarts, last exit code "
                              f"{last_exit_code(host, info)})")
        if status in ("exited", "dead") and policy in (None, "", "no"):
            return "failed", f"container {name} exited with code {code}"
        if waiting is not None:
            continue  # keep looking for failures only
        if status != "running":
            waiting = f"container {name} is {status}" + (f" (exit code {code})" if restarts else "")
            continue
        since = started_at(info) or 0.0
        if since + 0.5 < owner_start:
            return "failed", f"container {name} lost its network: the namespace owner restarted after it"
        p = spec["probe"]
        if p is None and time.time() - since < settle:  # no probe: staying up is all there is to go by
            waiting = f"container {name} is starting"
            continue
        if probes and p is not None and not probe(host, inst.netns, ip, p["port"], p["path"]):
            waiting = f"container {name}: readiness probe GET {p['path']} on port {p['port']} does not pass yet"
    return ("waiting", waiting) if waiting else ("ready", "")


def wait_ready(host: DockerHost, rt: Runtime, instances: list[Instance], internal: str, timeout: float,
               say: Say, label: str | None = None, total: int | None = None, fresh: bool = True) -> None:
    """Until every instance is READY; raises (with status, exit codes and logs) on failure or timeout.
    ``fresh``: the containers were just created (else restarts are counted from now)."""
    if not instances:
        return
    baseline: dict[str, int] | None = None if fresh else {}
    label = label or rt["name"]
    total = total or len(instances)
    start = last_said = time.monotonic()
    while True:
        waiting: dict[int, str] = {}
        for inst in instances:
            verdict, why = check(host, rt, inst, internal, baseline=baseline)
            if verdict == "failed":
                raise not_ready(host, rt, inst, why)
            if verdict == "waiting":
                waiting[inst.index] = why
        if not waiting:
            return
        now = time.monotonic()
        first = min(waiting)
        if now - start > timeout:
            inst = next(i for i in instances if i.index == first)
            raise not_ready(host, rt, inst, f"not READY after {timeout:.0f}s: {waiting[first]}")
        if now - last_said >= PROGRESS_EVERY:
            last_said = now
            ready = total - len(waiting)
            say(f"    {label}: {ready}/{total} instances ready, {now - start:.0f} s of {timeout:.0f} s "
                f"(instance {first}: {waiting[first]})")
        time.sleep(POLL)


def not_ready(host: DockerHost, rt: Runtime, inst: Instance, why: str) -> ProviderError:
    return ProviderError(f"{_what(rt)} {rt['fqn']} instance {inst.index}: {why}\n"
                         + describe(host, rt, inst.members, netns=inst.netns))


def _what(rt: Runtime) -> str:
    return "job service" if rt["job"] else "service"


def describe(host: DockerHost, rt: Runtime, ids: list[str], lines: int = 15, netns: str | None = None) -> str:
    """Status, exit code, restarts and last log lines of each container, for error messages."""
    out = []
    entries = [(f"container {rt['containers'][pos]['name']}" if pos < len(rt["containers"]) else cid[:12], cid)
               for pos, cid in enumerate(ids)]
    if netns is not None:
        info = _inspect(host, netns)
        if info is not None and (info.get("State") or {}).get("Status") != "running":
            entries.insert(0, ("network namespace owner", netns))
    for what, cid in entries:
        try:
            info = host.api.inspect_container(cid)
            state = info.get("State") or {}
            logs = host.api.logs(cid, tail=lines).decode(errors="replace").rstrip()
        except Exception as exc:  # the container may be gone already
            out.append(f"  {what}: cannot inspect ({exc})")
            continue
        status = f"{state.get('Status')} exit={last_exit_code(host, info)} restarts={info.get('RestartCount', 0)}"
        msg = state.get("Error") or ("OOM killed" if state.get("OOMKilled") else "")
        out.append(f"  {what}: {status}{' ' + msg if msg else ''}")
        if logs:
            out.append("    " + logs.replace("\n", "\n    "))
    return "\n".join(out)


def _inspect(host: DockerHost, cid: str) -> dict[str, Any] | None:
    try:
        return dict(host.api.inspect_container(cid))
    except Exception:  # gone
        return None


def wait_exit(host: DockerHost, ids: list[str], timeout: float) -> list[int] | None:
    """Exit codes once every container has exited, or None at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        states = [host.api.inspect_container(cid).get("State") or {} for cid in ids]
        if all(s.get("Status") in ("exited", "dead") for s in states):
            return [int(s.get("ExitCode") or 0) for s in states]
        if time.monotonic() > deadline:
            return None
        time.sleep(0.3)
