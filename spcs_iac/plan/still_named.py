"""Objects a plan deletes that declared objects still name.

An object removed from the stack is deleted; a declared object that still names it by string (a spec
mounting the stage, a function calling the service, a spec running the image's old tag) is left broken,
whether or not it changes itself: its next restart or call fails, and later plans see nothing to do. The
plan names each such use instead, before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from spcs_iac.errors import Issue, StackValidationError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.validate import named_references
from spcs_iac.plan.model import Action, Plan


def refuse_uses_of_deleted(plan: Plan, declared: Iterable[Resource]) -> None:
    deleted = {c.address for c in plan.actionable if c.action is Action.DELETE}
    if not deleted:
        return
    objects = list(declared)
    why = "which this plan deletes (the stack no longer declares it): declare it again, or stop naming it"
    issues = [ref.issue(why) for ref in named_references(objects, KINDS) if f"{ref.kind}.{ref.name}" in deleted]
    images = {_spec_path(address.removeprefix("image.")): address for address in deleted
              if address.startswith("image.")}
    if images:
        issues += _image_uses(objects, images, why)
    if issues:
        raise StackValidationError(issues)


def _image_uses(objects: list[Resource], images: dict[str, str], why: str) -> list[Issue]:
    """Spec images named by path (``/db/schema/repo/name:tag``) that match an image this plan deletes."""
    out = []
    for r in objects:
        for i, container in enumerate(getattr(getattr(r, "typed_spec", None), "containers", None) or []):
            given = container.image
            if isinstance(given, str):
                path = "/" + given.split("/", 1)[1] if not given.startswith("/") and "/" in given else given
                if path.lower() in images:
                    out.append(Issue(r.describe(), f"spec.containers[{i}].image",
                                     f"names {images[path.lower()].replace('.', ' ', 1)}, {why}", given))
    return out


def _spec_path(fqn: str) -> str:
    """How a spec names an image recorded as ``DB.SCHEMA.REPO/name:tag``."""
    repository, _, rest = fqn.partition("/")
    try:
        parts = ids.split_qualified(repository)
    except ids.IdentifierError:
        return fqn
    return ("/" + "/".join(p.lower() for p in parts) + "/" + rest).lower()
