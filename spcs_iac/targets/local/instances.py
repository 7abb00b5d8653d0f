"""What a service's containers say about its instances, from Docker's container listing.

Containers carry their instance id, generation, role and config hash as labels (``naming``). An
instance generation is healthy when its namespace owner and every spec container exist with the
current hash and run (not restarting, not crash-looping). Plans call ``drift`` and ``not_ready`` on
the one listing a read takes; ``looping`` inspects only containers that started recently, to find
crash loops that happen to be up at the moment of the listing.

Drift is what was changed by hand: containers removed, stopped or of another config. An instance whose
containers are all there, as declared, but one keeps restarting is not drift: the service is not READY
(its code fails), and so it is when its endpoint proxy does not run (a port taken by another program).
"""

from __future__ import annotations

import re
import time
from collections.abc import Set as AbstractSet
from typing import Any

from spcs_iac.targets.local import naming
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.readiness import RESTART_LIMIT, started_at
from spcs_iac.targets.local.runtime import Runtime

Summary = dict[str, Any]
Groups = dict[int, dict[str, list[Summary]]]  # instance -> generation -> container summaries (owner + members)
LOOP_WINDOW = 60.0  # a container up for less than this after RESTART_LIMIT restarts is crash-looping
_RECENT = re.compile(r"^Up (Less than a second|\d+ seconds?|About a minute)")


def labels(s: Summary) -> dict[str, str]:
    return dict(s.get("Labels") or {})


def is_instance_part(s: Summary) -> bool:
    return naming.role(s) in (naming.ROLE_NETNS, naming.ROLE_MEMBER)


def group(summaries: list[Summary]) -> Groups:
    out: Groups = {}
    for s in summaries:
        if not is_instance_part(s):
            continue
        try:
            index = int(labels(s).get(naming.LABEL_INSTANCE, "-1"))
        except ValueError:
            continue
        out.setdefault(index, {}).setdefault(labels(s).get(naming.LABEL_GEN, ""), []).append(s)
    return out


def proxies(summaries: list[Summary]) -> list[Summary]:
    return [s for s in summaries if naming.role(s) == naming.ROLE_PROXY]


def looping(host: DockerHost, summaries: list[Summary]) -> set[str]:
    """Ids of spec containers in a crash loop: restarting now, or up briefly after many restarts."""
    out = set()
    now = time.time()
    for s in summaries:
        if naming.role(s) != naming.ROLE_MEMBER:
            continue
        if s.get("State") == "restarting":
            out.add(s["Id"])
        elif s.get("State") == "running" and _RECENT.match(s.get("Status") or ""):
            try:
                info = host.inspect_container(s["Id"])
            except Exception:  # removed meanwhile
                continue
            if int(info.get("RestartCount") or 0) >= RESTART_LIMIT and now - (started_at(info) or 0) < LOOP_WINDOW:
                out.add(s["Id"])
    return out


def healthy_gen(rt: Runtime, gens: dict[str, list[Summary]], looping_ids: AbstractSet[str] = frozenset()) -> str | None:
    """The generation of an instance whose owner and containers all exist with the current hash and run."""
    want = {c["name"] for c in rt["containers"]}
    for gen, items in gens.items():
        owners = [s for s in items if naming.role(s) == naming.ROLE_NETNS]
        members = [s for s in items if naming.role(s) == naming.ROLE_MEMBER]
        names = {labels(s).get(naming.LABEL_CONTAINER) for s in members}
        if len(owners) == 1 and names == want and all(
                labels(s).get(naming.LABEL_HASH) == rt["hash"] and s.get("State") == "running"
                and s["Id"] not in looping_ids for s in items):
            return gen
    return None


def serving(gens: dict[str, list[Summary]]) -> bool:
    """Some generation of the instance still has all its containers running (it may serve an old config)."""
    return any(all(s.get("State") == "running" for s in items) and len(items) > 1 for items in gens.values())


def crash_looping(rt: Runtime, gens: dict[str, list[Summary]], looping_ids: AbstractSet[str]) -> list[str]:
    """The spec containers that keep restarting in an instance otherwise as declared (one generation of
    the current config, owner running, every container there and the others running); else none."""
    if len(gens) != 1:
        return []
    [items] = gens.values()
    owners = [s for s in items if naming.role(s) == naming.ROLE_NETNS]
    members = [s for s in items if naming.role(s) == naming.ROLE_MEMBER]
    if len(owners) != 1 or owners[0].get("State") != "running" \
            or {labels(s).get(naming.LABEL_CONTAINER) for s in members} != {c["name"] for c in rt["containers"]} \
            or any(labels(s).get(naming.LABEL_HASH) != rt["hash"] for s in items):
        return []
    if any(s.get("State") != "running" for s in members if s["Id"] not in looping_ids):
        return []  # also stopped by hand: that is drift
    return [f"container {labels(s).get(naming.LABEL_CONTAINER)} keeps restarting"
            for s in ordered(members, rt) if s["Id"] in looping_ids]


def proxy_down(summaries: list[Summary], proxied: bool) -> bool:
    """A service with endpoints to proxy whose endpoint proxy does not run."""
    return proxied and not any(s.get("State") == "running" for s in proxies(summaries))


def not_ready(rt: Runtime, summaries: list[Summary], looping_ids: AbstractSet[str] = frozenset(),
              proxied: bool = False) -> list[str]:
    """Why a service whose containers are as declared is not READY (empty = nothing wrong, or drift)."""
    groups = group(summaries)
    out = [f"instance {i}: {', '.join(loops)}" for i in range(rt["instances"])
           if (loops := crash_looping(rt, groups.get(i, {}), looping_ids))]
    if proxy_down(summaries, proxied):
        out.append("its endpoint proxy is not running")
    return out


def drift(rt: Runtime, summaries: list[Summary], looping_ids: AbstractSet[str] = frozenset()) -> list[str]:
    """What differs between the runtime and the containers Docker has (empty = in sync; what is as
    declared but not READY is ``not_ready``'s)."""
    groups = group(summaries)
    problems = []
    for i in range(rt["instances"]):
        gens = groups.get(i, {})
        if healthy_gen(rt, gens, looping_ids) is not None or crash_looping(rt, gens, looping_ids):
            continue
        if not gens:
            problems.append(f"instance {i} has no containers")
            continue
        items = [s for g in gens.values() for s in g]
        bad = []
        for s in items:
            what = (f"container {labels(s).get(naming.LABEL_CONTAINER)}" if naming.role(s) == naming.ROLE_MEMBER
                    else "the network namespace owner")
            if s["Id"] in looping_ids:
                bad.append(f"{what} keeps restarting ({s.get('Status')})")
            elif s.get("State") != "running":
                bad.append(f"{what} is {s.get('State')}")
        if any(labels(s).get(naming.LABEL_HASH) != rt["hash"] for s in items):
            bad.append("containers were replaced (different config hash)")
        if not any(naming.role(s) == naming.ROLE_NETNS for s in items):
            bad.append("it has no network namespace owner")
        problems.append(f"instance {i}: " + (", ".join(sorted(set(bad))) or "containers missing"))
    extra = sorted(i for i in groups if i >= rt["instances"] or i < 0)
    if extra:
        problems.append(f"unexpected instances {extra}")
    leftovers = sorted({i for i, gens in groups.items() if 0 <= i < rt["instances"] and len(gens) > 1})
    if leftovers and not problems:
        problems.append(f"instances {leftovers} have containers of an older configuration")
    return problems


def exit_code(summary: Summary) -> int | None:
    m = re.match(r"Exited \((-?\d+)\)", summary.get("Status") or "")
    return int(m.group(1)) if m else None


def job_status(summaries: list[Summary], rt: Runtime | None = None) -> tuple[str, list[int]]:
    """Snowflake's job status from its spec containers' states: PENDING, RUNNING, DONE or FAILED."""
    members = [s for s in summaries if naming.role(s) == naming.ROLE_MEMBER]
    states = [s.get("State") for s in members]
    codes = [c for c in (exit_code(s) for s in ordered(members, rt)) if c is not None]
    if any(st in ("running", "restarting") for st in states):
        return "RUNNING", codes
    if any(st == "created" for st in states):
        return "PENDING", codes
    return ("FAILED" if any(codes) or len(codes) < len(states) else "DONE"), codes


def position(rt: Runtime | None, summary: Summary) -> int:
    names = [c["name"] for c in rt["containers"]] if rt else []
    name = labels(summary).get(naming.LABEL_CONTAINER)
    return names.index(name) if name in names else len(names)


def ordered(summaries: list[Summary], rt: Runtime | None = None) -> list[Summary]:
    """Instance order, then spec container order."""
    def key(s: Summary) -> tuple[int, int, str]:
        return int(labels(s).get(naming.LABEL_INSTANCE, "0") or 0), position(rt, s), str(s.get("Names"))

    return sorted(summaries, key=key)
