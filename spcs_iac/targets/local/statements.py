"""What applying a change does on the local target, one line per action, for plan output."""

from __future__ import annotations

from spcs_iac.plan.model import Action, Change
from spcs_iac.targets import images as docker_images
from spcs_iac.targets.local import naming


def describe_change(change: Change, stack: str, registry_host: str) -> list[str]:
    kind, r = change.kind, change.resource
    if change.action is Action.DELETE:
        return [_delete(change, stack)]
    if r is None:
        return []
    lines = [_delete(change, stack)] if change.action is Action.REPLACE else []
    if kind == "compute_pool":
        lines.append(f"docker network create --internal {naming.network_name(stack, r.name)}")
    elif kind == "image":
        ref = f"{registry_host}/{r.registry_path}/{r.name}:{r.tag}"  # type: ignore[attr-defined]
        lines += docker_images.display_commands(r, ref)  # type: ignore[arg-type]
    elif kind == "image_repository":
        lines.append(f"registry path {registry_host}/{r.registry_path}")  # type: ignore[attr-defined]
    elif kind == "service":
        spec = r.typed_spec  # type: ignore[attr-defined]
        n = r.min_instances or 1  # type: ignore[attr-defined]
        public = [e.name for e in spec.endpoints or [] if e.public]
        verb = "run" if change.action in (Action.CREATE, Action.REPLACE) else (
            "rolling upgrade of" if "spec" in change.changed_fields else "reconcile")
        lines.append(f"docker: {verb} {n} instance(s) x {len(spec.containers)} container(s) of "
                     f"{naming.dns_label(r.name)}" + (f", publish {', '.join(public)} on 127.0.0.1" if public else ""))
    elif kind == "job_service":
        lines.append(f"docker: run job {naming.dns_label(r.name)} with {r.replicas} replica(s) "  # type: ignore[attr-defined]
                     "to completion")
    else:
        lines.append(f"record {kind} {change.name} in catalog-{stack}.json")
    return lines


def _delete(change: Change, stack: str) -> str:
    kind = change.kind
    if kind in ("service", "job_service"):
        return f"docker rm -f (containers labelled {naming.LABEL_OBJECT}={change.address})"
    if kind == "compute_pool":
        return f"docker network rm (networks labelled {naming.LABEL_OBJECT}={change.address})"
    if kind in ("image", "image_repository"):
        return f"registry: delete {change.name}"
    return f"forget {kind} {change.name} (catalog-{stack}.json)"
