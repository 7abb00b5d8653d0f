"""Whether a saved plan still describes reality: the state and the target as they were when it was made.

Applying a plan is only safe if what it was computed from has not moved: the recorded state, what the
target reported, and the declarations. A fresh plan made under the state lock is compared with the saved
one, object by object; any difference makes the saved plan stale, and the apply refuses it.
"""

from __future__ import annotations

import json
from typing import Any

from spcs_iac.plan.model import Change, Plan

COMPARED = ("action", "desired", "observed", "observed_outputs", "prior")


def stale_reasons(saved: Plan, fresh: Plan) -> list[str]:
    """One line per object whose plan would differ now; empty when the saved plan still holds."""
    if (saved.stack, saved.target, saved.destroy) != (fresh.stack, fresh.target, fresh.destroy):
        return [f"the plan is for stack {saved.stack} on {saved.target}"
                f"{' (destroy)' if saved.destroy else ''}, not for stack {fresh.stack} on {fresh.target}"
                f"{' (destroy)' if fresh.destroy else ''}"]
    before = {c.address: c for c in saved.changes}
    now = {c.address: c for c in fresh.changes}
    out: list[str] = []
    for address in sorted(set(before) | set(now)):
        a, b = before.get(address), now.get(address)
        if a is None or b is None:
            out.append(f"{address}: {'is new in the stack' if a is None else 'is no longer in the stack'}")
            continue
        differing = [key for key in COMPARED if _canon(_value(a, key)) != _canon(_value(b, key))]
        if differing:
            out.append(f"{address}: {', '.join(_what(key) for key in differing)} changed since the plan was made")
    return out


def _value(change: Change, key: str) -> Any:
    if key == "action":
        return change.action.value
    if key == "prior":
        return change.to_json().get("prior")
    return getattr(change, key)


def _canon(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _what(key: str) -> str:
    return {"action": "the action", "desired": "the declaration", "observed": "the object in the target",
            "observed_outputs": "what the target reports for it",
            "prior": "the recorded state"}[key]
