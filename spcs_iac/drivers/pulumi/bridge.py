"""What the spcs-iac Pulumi provider does per operation, free of gRPC: check, diff, create, read, update,
delete of one object whose declaration travels in the resource's inputs.

A resource's inputs are the object's declaration as data (``model/declaration.py``: references as the
names they denote, an image in a spec as its digest-pinned path), with secret values as Pulumi secrets.
Nothing else is needed: no provider process loads the user's program. Its state (outputs) holds the
inputs again, the target's outputs, and two bookkeeping values hidden from programs:

- ``__desired``: the desired values at the last apply (secrets as salted hashes) — what the planner's
  state keeps, so the diff is :func:`spcs_iac.plan.diff.field_changes` with them as "recorded";
- ``drift``: only after a refresh that found some, what the target showed for the drifting fields and
  outputs (so a refresh of unchanged objects changes nothing, and the next preview shows exactly the
  drift, as ``spcs-iac plan`` would; ``preview --diff`` shows it as ``- drift``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spcs_iac.drivers.pulumi.guards import refuse_unmanaged_drop
from spcs_iac.drivers.pulumi.wire import UNKNOWN, Sealed, has_unknown, reveal, sealed_keys
from spcs_iac.errors import SpcsIacError, StackValidationError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.declaration import declaration
from spcs_iac.model.fields import Update, kind_props, output_consumer
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.stack import Stack
from spcs_iac.model.validate import validate_stack
from spcs_iac.plan import diff
from spcs_iac.plan.model import Action, Change, FieldChange
from spcs_iac.plan.planner import spec_paths
from spcs_iac.plan.target import ApplyContext, Provider, ReadRequest
from spcs_iac.state.backend import StateEntry

DESIRED = "__desired"
OBSERVED = "drift"
WHERE = "__spcs"  # {target, stack, stateDir}: where the provider put the object (for `--pulumi-stack`)
SECRETS = "__secrets"  # [{name, <sensitive field>: value}]: values of the secrets a service's containers use
IDENTITY = ("address", "fqn", "ref")  # outputs every resource has
# Target outputs that are worth a typed attribute on the resource (all are also in `outputs`).
TARGET_OUTPUTS = ("repository_url", "digest", "endpoints", "dns_name", "status")


class BadInputs(SpcsIacError):
    """Inputs that do not make a valid object: one line per problem, naming object and field."""


def kind_of(type_token: str) -> str:
    """``spcs-iac:index:ComputePool`` -> ``compute_pool``."""
    name = type_token.rsplit(":", 1)[-1]
    for kind, cls in KINDS.items():
        if cls.__name__ == name:
            return kind
    raise SpcsIacError(f"spcs-iac has no resource type {type_token}")


def input_key(cls: type[Resource], field_name: str) -> str:
    info = cls.model_fields.get(field_name)
    return (info.alias if info is not None and info.alias else field_name)


def split_inputs(inputs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the declaration, plain; secret values by secret name) from a resource's inputs."""
    data = {k: reveal(v) for k, v in inputs.items() if not k.startswith("__")}
    bag: dict[str, dict[str, Any]] = {}
    items = reveal(inputs.get(SECRETS))
    for item in items if isinstance(items, list) else []:  # unknown during a preview
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            bag[item["name"]] = {k: v for k, v in item.items() if k != "name" and isinstance(v, str)}
    return data, bag


def build(kind: str, data: Mapping[str, Any]) -> Resource:
    """The object from its declaration; problems as one line each (object, field, given, allowed)."""
    cls = KINDS[kind]
    try:
        r = cls(**dict(data))
    except StackValidationError as exc:
        raise BadInputs("; ".join(str(i) for i in exc.issues)) from None
    except (TypeError, ValueError) as exc:
        raise BadInputs(f"{cls.__name__} {data.get('name')!r}: {exc}") from None
    return r


# ---- check -----------------------------------------------------------------------------------------
@dataclass
class Checked:
    inputs: dict[str, Any]
    problems: list[str] = field(default_factory=list)  # one line each: object, field, given, allowed
    warnings: list[str] = field(default_factory=list)  # what the model warns about (not fatal)
    resource: Resource | None = None  # the object, once its inputs are known and valid

    @property
    def address(self) -> str | None:
        return self.resource.address if self.resource is not None else None


def check(kind: str, news: dict[str, Any]) -> Checked:
    """The inputs to keep, or what is wrong with them. The spec is kept in one form, so diffs show
    real spec paths."""
    if has_unknown({k: v for k, v in news.items() if k != SECRETS}):
        return Checked(news)  # checked again when the values are known
    data, _ = split_inputs(news)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = build(kind, data)
            s = Stack("check")
            s.add(r)
            issues = [str(i) for i in validate_stack(s) if i.field not in _repository_paths(r)]
        except BadInputs as exc:
            return Checked(news, [str(exc)])
    said = list(dict.fromkeys(str(w.message) for w in caught))
    if issues:
        return Checked(news, issues, said)
    out = dict(news)
    if "spec" in out and not isinstance(out["spec"], Sealed):
        out["spec"] = declaration(r).get("spec", out["spec"])
    return Checked(out, [], said, r)


def _repository_paths(r: Resource) -> set[str]:
    """Spec fields naming an image by repository path: here they come from Image resources of the program
    (digest-pinned) or name images the target has, which one object alone cannot tell apart."""
    spec = getattr(r, "spec", None)
    containers = getattr(spec, "containers", None) or []
    return {f"spec.containers[{i}].image" for i, c in enumerate(containers)
            if isinstance(c.image, str) and c.image.startswith("/")}


# ---- diff ------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    fields: list[FieldChange]
    replaces: list[str] = field(default_factory=list)  # input keys
    detailed: dict[str, tuple[str, bool]] = field(default_factory=dict)  # path -> (add|delete|update, replace)
    lines: list[str] = field(default_factory=list)  # human lines (spec paths), for the engine's log

    @property
    def changed(self) -> bool:
        return bool(self.fields)


def _old_inputs(olds: Mapping[str, Any], old_inputs: Mapping[str, Any] | None) -> dict[str, Any]:
    if old_inputs:
        return dict(old_inputs)
    return {k: v for k, v in olds.items() if k not in (*IDENTITY, "outputs", *TARGET_OUTPUTS, OBSERVED)}


def compare(kind: str, olds: Mapping[str, Any], news: Mapping[str, Any],
            old_inputs: Mapping[str, Any] | None = None) -> Verdict:
    """The planner's diff between the last apply (and a refresh's drift) and the new inputs."""
    cls = KINDS[kind]
    old_data, _ = split_inputs(_old_inputs(olds, old_inputs))
    new_data, _ = split_inputs(news)
    recorded = reveal(olds.get(DESIRED))
    observed = reveal(olds.get(OBSERVED)) or {}
    unknown = {k for k, v in new_data.items() if has_unknown(v)}
    known = {**new_data, **{k: old_data[k] for k in unknown if k in old_data}}
    new_r, old_r = build(kind, known), build(kind, old_data)
    new_r.keep_secret_digests(recorded)  # an unchanged secret keeps its recorded digest: no change
    want = new_r.desired()
    if recorded is None:  # no desired values recorded (an import): compare inputs with inputs
        recorded = old_r.desired()
    fields = diff.field_changes(cls, want, observed.get("props"), recorded)
    moved = unknown & {"name", "database", "schema"}
    if new_r.address != old_r.address or moved:
        # Another name is another object: Snowflake has no rename for most kinds, so it is replaced.
        fields.insert(0, FieldChange("name", old_r.fqn, None if moved else new_r.fqn, forces_replace=True,
                                     known_after_apply=bool(moved)))
        unknown -= moved
    fields += _drifted_outputs(cls, olds, observed)
    by_key = {input_key(cls, d.name): d for d in kind_props(cls)}
    consumer = output_consumer(cls)
    for key in sorted(unknown):
        d = by_key.get(key)
        if d is None or d.prop.identity:
            continue
        fields = [f for f in fields if f.name != d.name]
        if consumer is not None and d.name == consumer.name:
            fields = diff.upstream_changed(cls, fields, recorded.get(d.name))
        else:
            fields.append(FieldChange(d.name, recorded.get(d.name), None, d.prop.sensitive,
                                      d.prop.update is Update.REPLACE, known_after_apply=True))
    drifted = set(observed.get("props") or {}) | set(observed.get("outputs") or {})
    return _verdict(cls, fields, old_data, new_data, unknown, drifted)


def _drifted_outputs(cls: type[Resource], olds: Mapping[str, Any], observed: Mapping[str, Any]) -> list[FieldChange]:
    """Outputs the target changed behind our back (an image tag pushed by hand), as the planner sees them."""
    out = []
    now = observed.get("outputs") or {}
    for key in getattr(cls, "drift_outputs", ()):
        before = (olds.get("outputs") or {}).get(key)
        if key in now and before and now[key] != before:
            out.append(FieldChange(key, before, now[key]))
    return out


def _verdict(cls: type[Resource], fields: list[FieldChange], old_data: Mapping[str, Any],
             new_data: Mapping[str, Any], unknown: set[str], drifted: set[str]) -> Verdict:
    v = Verdict(fields)
    for f in fields:
        keys = _inputs_behind(cls, f, old_data, new_data)
        key = keys[0]
        if f.forces_replace:
            v.replaces.extend(keys)
        if f.name in drifted and old_data.get(key) == new_data.get(key):
            # The declaration did not move, the target did: show what a refresh found there.
            v.detailed[OBSERVED] = ("delete", f.forces_replace or v.detailed.get(OBSERVED, ("", False))[1])
            v.lines.append(f"{key}: changed outside spcs-iac (the target has {_short(f.before)})")
            continue
        if f.name == "spec" and "spec" not in unknown and isinstance(old_data.get("spec"), dict):
            try:
                before = build(cls.kind, old_data).spec_document()  # type: ignore[attr-defined]
                after = build(cls.kind, new_data).spec_document()  # type: ignore[attr-defined]
            except BadInputs:
                before = after = None
            paths = spec_paths(before, after) if before is not None else []
            f.detail = paths
            v.lines += paths
            for p in paths:
                v.detailed[p.split(": ", 1)[0]] = ("update", f.forces_replace)
            if paths:
                continue
        kind = "add" if f.before is None and not f.known_after_apply else "delete" if (
            f.after is None and not f.known_after_apply) else "update"
        for each in keys:
            v.detailed[each] = (kind, f.forces_replace)
        if f.known_after_apply:
            v.lines.append(f"{key}: known after apply")
    return v


# Inputs that make an object's name: another value is another object (the "name" field change stands for them).
NAMING_INPUTS = ("name", "database", "schema", "repository")


def _inputs_behind(cls: type[Resource], f: FieldChange, old_data: Mapping[str, Any],
                   new_data: Mapping[str, Any]) -> list[str]:
    """The inputs a field change comes from, as Pulumi shows them: a new name from whichever naming inputs
    changed (an image's repository), an image's build inputs from its context (its files changed)."""
    if f.name == "name" and f.forces_replace:
        moved = [k for k in NAMING_INPUTS if k in new_data and old_data.get(k) != new_data.get(k)]
        return moved or [input_key(cls, f.name)]
    if f.name == "build_hash" and "context" in new_data:
        return ["context"]
    return [input_key(cls, f.name)]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


# ---- create / update / delete / read ---------------------------------------------------------------
Say = Callable[[str], None]


@dataclass
class Operation:
    """One provider call: the target to use and the object's identity."""

    target: Provider
    stack: str
    say: Say
    where: dict[str, Any] = field(default_factory=dict)  # recorded in the state as WHERE

    def ctx(self) -> ApplyContext:
        return ApplyContext(outputs={}, stack=self.stack, log=self.say)


def identity(r: Resource, outputs: Mapping[str, Any]) -> dict[str, Any]:
    ref: Any = r.fqn
    if r.kind == "image":
        digest = outputs.get("digest")
        ref = f"{r.spec_reference()}@{digest}" if isinstance(digest, str) else UNKNOWN  # type: ignore[attr-defined]
    return {"address": r.address, "fqn": r.fqn, "ref": ref}


def _state(kind: str, r: Resource, inputs: Mapping[str, Any], desired: dict[str, Any],
           target_outputs: Mapping[str, Any]) -> dict[str, Any]:
    """What the resource's state holds: inputs (secrets still secret), identity, outputs, bookkeeping."""
    secret = sealed_keys(dict(inputs)) | {input_key(type(r), d.name) for d in kind_props(type(r)) if d.prop.sensitive}
    out: dict[str, Any] = {k: (Sealed(reveal(v)) if k in secret and v is not None else v) for k, v in inputs.items()}
    out.update(identity(r, target_outputs))
    plain_outputs = {k: v for k, v in target_outputs.items() if k != "spec_document"}
    out["outputs"] = plain_outputs
    out.update(_typed_outputs(plain_outputs))
    has_secret = any(d.prop.sensitive for d in kind_props(type(r)))
    out[DESIRED] = Sealed(desired) if has_secret else desired
    return out


def _typed_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs with attributes of their own (a pool's `state` is its status)."""
    out = {key: outputs.get(key) for key in TARGET_OUTPUTS}
    if out["status"] is None:
        out["status"] = outputs.get("state")
    return out


def preview_state(kind: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs during a preview: identity when known, everything the apply computes unknown."""
    out = dict(inputs)
    r = identified(kind, inputs)
    if r is not None:
        out.update({"address": r.address, "fqn": r.fqn, "ref": r.fqn if kind != "image" else UNKNOWN})
    else:
        out.update({k: UNKNOWN for k in IDENTITY})
    for key in ("outputs", *TARGET_OUTPUTS):
        out[key] = UNKNOWN
    return out


def identified(kind: str, inputs: Mapping[str, Any]) -> Resource | None:
    """The object, built for its identity alone (address, name), when that is known: while only the spec
    waits for other resources (an image being built), the identity does not, so dependents naming it (a
    function on the service) stay unchanged in a preview and find it declared. None when it is unknown."""
    data, _ = split_inputs(inputs)
    if "spec" in data:
        data = {**data, "spec": _stand_in(data["spec"])}
    if has_unknown(data):
        return None
    try:
        return build(kind, data)
    except BadInputs:
        return None


def _stand_in(value: Any) -> Any:
    """``value`` with each unknown replaced by text valid as an image reference, to build the object for its
    identity alone (a value that must be something else fails the build: the identity is then unknown)."""
    if value is UNKNOWN:
        return "preview.invalid/unknown:unknown"
    if isinstance(value, dict):
        return {k: _stand_in(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stand_in(v) for v in value]
    return value


def _bind_secret_values(op: Operation, bag: Mapping[str, Mapping[str, str]], r: Resource) -> None:
    """Give a local target the values of the secrets the containers use (the Secret is not in this call)."""
    know = getattr(op.target, "know_secret_values", None)
    if know is None:
        return
    for name, values in bag.items():
        know(_qualified(r, name), values)


def _qualified(r: Resource, name: str) -> str:
    qualify = getattr(r, "qualify", None)
    return qualify(name) if callable(qualify) else ids.qualified(*ids.split_qualified(name))


def _entry(kind: str, r: Resource, desired: Mapping[str, Any], olds: Mapping[str, Any]) -> StateEntry:
    return StateEntry(kind=kind, name=r.fqn, props=dict(desired), outputs=dict(reveal(olds.get("outputs")) or {}),
                      owner=r.owner_name)


def _with_status(op: Operation, r: Resource, outputs: dict[str, Any]) -> dict[str, Any]:
    """Services and jobs: the status the target reports now (what `spcs-iac status` shows)."""
    if r.kind in ("service", "job_service") and "status" not in outputs and hasattr(op.target, "status"):
        try:
            info = op.target.status(r.fqn)  # type: ignore[attr-defined]
        except SpcsIacError:
            return outputs
        if isinstance(info, dict) and info.get("status"):
            outputs = {**outputs, "status": info["status"]}
    return outputs


def create(op: Operation, kind: str, inputs: dict[str, Any]) -> dict[str, Any]:
    data, bag = split_inputs(inputs)
    r = build(kind, data)
    _bind_secret_values(op, bag, r)
    desired = r.desired()
    change = Change(address=r.address, kind=kind, name=r.fqn, action=Action.CREATE, resource=r, desired=desired,
                    fields=[FieldChange(k, None, v) for k, v in desired.items() if v is not None])
    outputs = op.target.create(change, op.ctx()) or {}
    return {**_state(kind, r, inputs, desired, _with_status(op, r, dict(outputs))), WHERE: op.where}


def made_anyway(op: Operation, kind: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """After a failed create: the resource's state if the object exists all the same (a service whose
    containers started but never became READY), for Pulumi to keep track of it; None if nothing was made."""
    data, _ = split_inputs(inputs)
    r = build(kind, data)
    try:
        found = op.target.read([ReadRequest(r.address, kind, r.fqn, r, None)]).get(r.address)
    except SpcsIacError:
        return None
    if found is None:
        return None
    return {**_state(kind, r, inputs, r.desired(), dict(found.outputs)), WHERE: op.where}


def update(op: Operation, kind: str, olds: dict[str, Any], news: dict[str, Any],
           old_inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    verdict = compare(kind, olds, news, old_inputs)
    data, bag = split_inputs(news)
    r = build(kind, data)
    _bind_secret_values(op, bag, r)
    before = reveal(olds.get(DESIRED)) or {}
    r.keep_secret_digests(before)
    desired = r.renew_legacy_digests(r.desired())
    # Pulumi updates a resource with nothing changed only when its create failed half-way (an
    # initialization error): the update then finishes it, as the create would have (a service waits for READY).
    change = Change(address=r.address, kind=kind, name=r.fqn, action=Action.UPDATE, fields=verdict.fields,
                    resource=r, prior=_entry(kind, r, before, olds), observed=dict(before), desired=desired,
                    finishing=not verdict.fields)
    outputs = {**(reveal(olds.get("outputs")) or {}), **(op.target.update(change, op.ctx()) or {})}
    return {**_state(kind, r, news, desired, _with_status(op, r, outputs)), WHERE: op.where}


def declared(kind: str, olds: Mapping[str, Any], old_inputs: Mapping[str, Any] | None = None) -> Resource:
    """The object a resource's state declares."""
    data, _ = split_inputs(_old_inputs(olds, old_inputs))
    return build(kind, data)


def delete(op: Operation, kind: str, olds: dict[str, Any], old_inputs: Mapping[str, Any] | None = None, *,
           managed: Mapping[str, Resource | None] | None = None, destroy_adopted: bool = False) -> None:
    """Drop the object; a container holding what the program does not manage (``managed``: the objects
    it declares or deletes) only with ``destroy_adopted``, as the CLI's plans."""
    r = declared(kind, olds, old_inputs)
    before = reveal(olds.get(DESIRED)) or r.desired()
    change = Change(address=r.address, kind=kind, name=r.fqn, action=Action.DELETE,
                    prior=_entry(kind, r, before, olds), observed=dict(before))
    refuse_unmanaged_drop(op.target, op.stack, change, r, managed or {}, destroy_adopted)
    op.target.delete(change, op.ctx())


def read(op: Operation, kind: str, olds: dict[str, Any], old_inputs: Mapping[str, Any] | None
         ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(outputs, inputs) as the target has the object now, or None when it is gone.

    Inputs stay the declaration. Drift goes to ``__observed`` in the form the diff compares, and only
    when there is some: a refresh of unchanged objects returns exactly what Pulumi has."""
    inputs = _old_inputs(olds, old_inputs)
    data, _ = split_inputs(inputs)
    if not data:  # `pulumi import`, or import_=: nothing known of the object but its id
        raise BadInputs(f"{KINDS[kind].__name__}: pulumi import is not supported by the spcs-iac provider. To take "
                        "over an existing object, declare it in a stack file and run `spcs-iac apply --adopt` "
                        "(or `spcs-iac import STACK ADDRESS`)")
    cls = KINDS[kind]
    r = build(kind, data)
    recorded = reveal(olds.get(DESIRED)) or r.desired()
    entry = _entry(kind, r, recorded, olds)
    found = op.target.read([ReadRequest(r.address, kind, r.fqn, r, entry)]).get(r.address)
    state = {k: v for k, v in olds.items() if k != OBSERVED}
    if found is None:
        # A job that finished is history, not something to run again: keep it unless it is re-declared.
        status = (reveal(olds.get("outputs")) or {}).get("status")
        if kind == "job_service" and status not in ("FAILED", "CANCELLED", "INTERNAL_ERROR"):
            return state, inputs
        return None
    drift = {f.name: f.before for f in diff.field_changes(cls, recorded, found.props, recorded)}
    outputs = {**(reveal(olds.get("outputs")) or {})}
    moved = {}
    for key, value in found.outputs.items():
        if key in getattr(cls, "drift_outputs", ()):
            if outputs.get(key) and value != outputs[key]:
                moved[key] = value
        elif key != "spec_document":
            outputs[key] = value
    outputs = _with_status(op, r, outputs)
    state["outputs"] = outputs
    state.update(_typed_outputs(outputs))
    if drift or moved:
        state[OBSERVED] = {"props": drift, "outputs": moved}
    return state, inputs
