"""Find an object that a Pulumi stack manages, for ``spcs-iac status/logs/call --pulumi-stack NAME``.

Pulumi holds the state of such objects, so the CLI asks Pulumi for it (``pulumi stack export``, in the
current directory, with the environment's backend): each spcs-iac resource records its address, its
name, and where its provider put it (target, the spcs-iac stack name its labels and records use, the
local target's state directory).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from spcs_iac.drivers.pulumi.bridge import DESIRED, WHERE, kind_of
from spcs_iac.drivers.pulumi.wire import SIG as SECRET_SIG_KEY
from spcs_iac.errors import SpcsIacError
from spcs_iac.model import identifiers as ids
from spcs_iac.state.backend import StateEntry

TYPE_PREFIX = "spcs-iac:index:"


@dataclass(frozen=True)
class PulumiObject:
    stack: str  # the spcs-iac stack name (labels, records)
    address: str
    entry: StateEntry
    target: str
    state_dir: str | None


def export(pulumi_stack: str, cwd: str | None = None) -> dict[str, Any]:
    binary = shutil.which("pulumi")
    if binary is None:
        raise SpcsIacError("--pulumi-stack needs the Pulumi CLI on PATH (scripts/install-pulumi.sh builds it)")
    proc = subprocess.run([binary, "stack", "export", "--stack", pulumi_stack], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SpcsIacError(f"pulumi stack export --stack {pulumi_stack} failed: {detail}; run it where the Pulumi "
                           "project is, with its backend (PULUMI_BACKEND_URL or pulumi login)")
    return json.loads(proc.stdout)


def objects(state: dict[str, Any]) -> list[PulumiObject]:
    out = []
    for res in (state.get("deployment") or {}).get("resources") or []:
        if not str(res.get("type", "")).startswith(TYPE_PREFIX) or res.get("delete"):
            continue
        outputs = res.get("outputs") or {}
        where = outputs.get(WHERE) or {}
        if not outputs.get("address") or not isinstance(where, dict):
            continue
        desired = outputs.get(DESIRED)
        entry = StateEntry(kind=kind_of(res["type"]), name=str(outputs.get("fqn") or ""),
                           props=desired if isinstance(desired, dict) and SECRET_SIG_KEY not in desired else {},
                           outputs=dict(outputs.get("outputs") or {}))
        stack = where.get("stack") or str(res.get("urn", "")).split(":", 2)[-1].split("::", 1)[0]
        out.append(PulumiObject(str(stack), outputs["address"], entry,
                                str(where.get("target") or "local"), where.get("stateDir")))
    return out


def find_pulumi_object(name: str, pulumi_stack: str, cwd: str | None = None) -> PulumiObject:
    found = objects(export(pulumi_stack, cwd))
    hits: list[PulumiObject] = []
    for bare in (False, True):  # the full name first; a short name when it is unambiguous (as the CLI does)
        hits = [o for o in found if ids.name_matches(name, o.entry.name, o.address, bare=bare)]
        if hits:
            break
    if not hits:
        raise SpcsIacError(f"no object named {name} is managed by Pulumi stack {pulumi_stack} "
                           f"({len(found)} spcs-iac objects: {', '.join(o.address for o in found[:12]) or 'none'})")
    if len(hits) > 1:
        raise SpcsIacError(f"{name} matches several objects of Pulumi stack {pulumi_stack}: "
                           f"{', '.join(h.address for h in hits)}; use the full address")
    return hits[0]
