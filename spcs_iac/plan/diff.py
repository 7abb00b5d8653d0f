"""The one diff: which declared fields differ between what is wanted and what is there.

The planner (desired values against the target's and the state's) and the Pulumi bridge (new inputs
against old ones) both call :func:`field_changes`, so ``spcs-iac plan`` and ``pulumi preview`` give the
same answer for the same before and after. Every per-field rule comes from the kind's declarations:
identity and create-only fields are never compared, an unset field marked ``Unset.IGNORE`` is not
managed, unreadable fields are compared with the recorded state, ``Update.REPLACE`` forces a replace
(the owner field carries the kind's ``owner_change``), and the ``from_outputs`` field becomes known after
apply when an object it is computed from changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from spcs_iac.model.fields import Fmt, Prop, Unset, Update, kind_props, output_consumer
from spcs_iac.model.values import parse_bool
from spcs_iac.plan.model import FieldChange

if TYPE_CHECKING:
    from spcs_iac.model.base import Resource

UNKNOWN = "(unknown)"
_MISSING = object()


def field_changes(cls: type[Resource], want: Mapping[str, Any], observed: Mapping[str, Any] | None,
                  recorded: Mapping[str, Any] | None) -> list[FieldChange]:
    """Fields whose desired value differs from what is there.

    ``observed`` is what the target reports for readable fields (None: nothing was read, so every field
    is compared with ``recorded``); ``recorded`` is what the state kept from the last apply (None: the
    object was never applied by this stack, so unreadable fields are unknown)."""
    out: list[FieldChange] = []
    for d in kind_props(cls):
        prop = d.prop
        if prop.identity or prop.update is Update.CREATE_ONLY:
            continue
        value = want.get(d.name)
        if value is None and prop.unset is Unset.IGNORE:
            continue
        have = observed.get(d.name, _MISSING) if prop.readable and observed is not None else _MISSING
        if have is not _MISSING:
            pass
        elif recorded is not None:
            # Not read back (a secret, or a column the target does not show): compare with what was
            # last applied, so a declared change is never dropped.
            have = recorded.get(d.name)
        elif value is None or prop.readable:
            # Neither applied by this stack nor shown by the target: nothing to compare it with (an
            # adopted object's field the target does not show is taken as it is).
            continue
        else:
            have = UNKNOWN
        if prop.compare is not None:
            verdict = prop.compare(have, value)
            if verdict is not None:
                out.append(FieldChange(d.name, have, value, prop.sensitive, verdict[0], detail=list(verdict[1])))
        elif not same(value, have, prop):
            out.append(FieldChange(d.name, have, value, prop.sensitive, prop.update is Update.REPLACE))
    return out


def upstream_changed(cls: type[Resource], fields: list[FieldChange], before: Any) -> list[FieldChange]:
    """``fields`` with the kind's ``from_outputs`` field marked known after apply (an object it is
    computed from changes in the same run). Unchanged when the kind declares no such field."""
    consumer = output_consumer(cls)
    if consumer is None:
        return fields
    return [f for f in fields if f.name != consumer.name] + [
        FieldChange(consumer.name, before, None, known_after_apply=True,
                    forces_replace=consumer.prop.update is Update.REPLACE)
    ]


def same(want: Any, have: Any, prop: Prop) -> bool:
    return _norm(want, prop) == _norm(have, prop)


def _norm(value: Any, prop: Prop) -> Any:
    if value is None or value == "":
        return [] if prop.fmt in (Fmt.IDENT_LIST, Fmt.STRING_LIST) or prop.unordered else None
    if isinstance(value, str) and prop.fmt is Fmt.BOOL:
        return bool(parse_bool(value))
    if isinstance(value, str) and prop.fmt is Fmt.INT:
        try:
            return int(value)
        except ValueError:
            return value
    if isinstance(value, str) and prop.fmt is Fmt.KEYWORD:
        return value.upper().replace('"', "")
    if isinstance(value, list | tuple):
        items = [_norm(v, Prop(fmt=Fmt.KEYWORD) if prop.fmt is Fmt.SPECIAL else prop) for v in value]
        return sorted(items, key=str) if prop.unordered else items
    return value
