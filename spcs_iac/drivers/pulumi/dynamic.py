"""The bridge's diff entry as the shared diff table calls it (tests/engine/test_diff.py).

The provider (plugin.py, bridge.py) diffs a resource's new inputs against the desired values recorded at
its last apply with :func:`spcs_iac.plan.diff.field_changes`, and marks the spec known after apply when
an image it runs is rebuilt (:func:`spcs_iac.plan.diff.upstream_changed`). This function is that diff
over two bags of desired values, so the table can hold the planner and the bridge to one answer.
"""

from __future__ import annotations

from typing import Any

from spcs_iac.model.fields import output_consumer
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan import diff
from spcs_iac.plan.model import FieldChange


def field_changes(kind: str, olds: dict[str, Any], news: dict[str, Any]) -> list[FieldChange]:
    """``{"props": desired values, "upstream": {address: outputs}}`` before and after: the old values
    stand for what was last applied; a changed upstream output (a new digest) is known after apply."""
    cls = KINDS[kind]
    before, after = olds.get("props") or {}, news.get("props") or {}
    out = diff.field_changes(cls, after, None, before)
    if (olds.get("upstream") or {}) != (news.get("upstream") or {}):
        consumer = output_consumer(cls)
        out = diff.upstream_changed(cls, out, before.get(consumer.name) if consumer else None)
    return out
