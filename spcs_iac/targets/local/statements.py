"""What applying a change does on the local target, one line per action, for plan output.

The adapters (``adapters.py``) pick one function per kind for creates and updates and one for deletes;
each gets the plan-time view only (the desired object, the stack, the registry host if known).
"""

from __future__ import annotations

from spcs_iac.model.base import Resource
from spcs_iac.plan.model import Action, Change
from spcs_iac.targets import images as docker_images
from spcs_iac.targets.local import naming


# ---- creates and updates: (change, desired object, stack, registry host) -> lines -------------------
def record_lines(change: Change, r: Resource, stack: str, registry_host: str) -> list[str]:
    return [f"record {change.kind} {change.name} in catalog-{stack}.json"]


def pool_lines(change: Change, r: Resource, stack: str, registry_host: str) -> list[str]:
    return [f"docker network create --internal {naming.network_name(stack, r.name)}"]


def repository_lines(change: Change, r: Resource, stack: str, registry_host: str) -> list[str]:
    return [f"registry path {registry_host}/{r.registry_path}"]  # type: ignore[attr-defined]


def image_lines(change: Change, r: Resource, stack: str, registry_host: str) -> list[str]:
    ref = f"{registry_host}/{r.registry_path}/{r.name}:{r.tag}"  # type: ignore[attr-defined]
    return docker_images.display_commands(r, ref)  # type: ignore[arg-type]


def service_lines(change: Change, r: Resource, stack: str, registry_host: str) -> list[str]:
    spec = r.typed_spec  # type: ignore[attr-defined]
    n = r.min_instances or 1  # type: ignore[attr-defined]
    public = [e.name for e in spec.endpoints or [] if e.public]
    verb = "run" if change.action in (Action.CREATE, Action.REPLACE) else (
        "rolling upgrade of" if "spec" in change.changed_fields else "reconcile")
    return [f"docker: {verb} {n} instance(s) x {len(spec.containers)} container(s) of "
            f"{naming.dns_label(r.name)}" + (f", publish {', '.join(public)} on 127.0.0.1" if public else "")]


def job_lines(change: Change, r: Resource, stack: str, registry_host: str) -> list[str]:
    return [f"docker: run job {naming.dns_label(r.name)} with {r.replicas} replica(s) "  # type: ignore[attr-defined]
            "to completion"]


# ---- deletes: (change, stack) -> line --------------------------------------------------------------
def record_drop_line(change: Change, stack: str) -> str:
    return f"forget {change.kind} {change.name} (catalog-{stack}.json)"


def containers_drop_line(change: Change, stack: str) -> str:
    return f"docker rm -f (containers labelled {naming.LABEL_OBJECT}={change.address})"


def networks_drop_line(change: Change, stack: str) -> str:
    return f"docker network rm (networks labelled {naming.LABEL_OBJECT}={change.address})"


def registry_drop_line(change: Change, stack: str) -> str:
    return f"registry: delete {change.name}"
