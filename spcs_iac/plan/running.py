"""Keep what a change suspends running: the running state is part of what a plan compares.

Changing a compute pool's instance family suspends the pool and every service on it (Snowflake:
https://docs.snowflake.com/en/sql-reference/sql/alter-compute-pool, SUSPEND), and resuming the pool
does not resume the services. So the plan resumes, after the pool's change, each declared service
that should run; and a pool that a change of this stack left suspended (its RESUME failed, or its
reply was lost) is resumed by the next plan instead of passing as "No changes". Likewise an object the
target reports there as declared but not READY (``NOT_READY``: a crash loop) is updated, to start again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from spcs_iac.model.base import Resource
from spcs_iac.plan.model import Action, Change, FieldChange

SUSPENDED = "suspended"
# Observed beside the declared fields: why an object that is there as declared does not run as it should
# (a service whose containers keep restarting). Never drift: the plan says it is not READY and the apply
# starts it again (and fails saying why, if it cannot).
NOT_READY = "not_ready"
STATUS = "status"


def suspends(change: Change) -> bool:
    """Whether applying ``change`` suspends its object for a while (the kind's ``suspending_fields``)."""
    fields = getattr(type(change.resource), "suspending_fields", ()) if change.resource is not None else ()
    desired = change.desired or {}
    return (change.action is Action.UPDATE and desired.get(SUSPENDED) is not True
            and any(f.name in fields for f in change.fields))


def keep_running(change: Change, predecessors: Iterable[Change], pending: Collection[str]) -> None:
    """Add the resume a plan needs to ``change``, or the restart of what is not READY (called once its
    predecessors' changes are final)."""
    if change.resource is None or change.action not in (Action.NOOP, Action.UPDATE, Action.IMPORT):
        return
    _bring_up(change)
    if SUSPENDED in change.changed_fields or SUSPENDED not in (change.desired or {}):
        return
    want = (change.desired or {}).get(SUSPENDED)
    if want is None and change.address in pending and change.prior is not None \
            and (change.observed or {}).get(SUSPENDED) is True:
        _resume(change, "left suspended by a change of this stack that did not finish: resumed")
        return
    if want is not False:
        return
    for pred in predecessors:
        if pred.resource is not None and suspends(pred) and _runs_on(change.resource, pred.resource):
            _resume(change, f"suspended with {pred.address} while its "
                            f"{', '.join(f.name for f in pred.fields)} changes: resumed after")
            return


def _runs_on(r: Resource, pool: Resource) -> bool:
    return any(kind == pool.kind and (target is pool or target == pool.name)
               for _, kind, target in r.references())


def _resume(change: Change, why: str) -> None:
    change.fields.append(FieldChange(SUSPENDED, True, False, detail=[why]))
    if change.action is Action.NOOP:
        change.action = Action.UPDATE


def _bring_up(change: Change) -> None:
    """An object the target reports not READY is updated: the apply starts it again and waits for it."""
    why = (change.observed or {}).get(NOT_READY)
    if not why or (change.desired or {}).get(SUSPENDED) is True:
        return  # (to be suspended anyway)
    change.fields.append(FieldChange(STATUS, "not READY", "READY",
                                     detail=["the apply starts its instances again and waits until they are READY"]))
    change.reason = f"{change.reason}; not READY: {why}" if change.reason else f"not READY: {why}"
    if change.action is Action.NOOP:
        change.action = Action.UPDATE
