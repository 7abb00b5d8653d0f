"""Pulumi dynamic providers: one per kind, each delegating to the same target provider the CLI uses.

Pulumi holds the state. Each Pulumi resource's inputs carry the object's address, its desired
properties (as ``Resource.desired()`` computes them: secrets already hashed), the outputs of the
objects it consumes (image digests), and where its declaration lives (the stack file). The provider
process loads the stack file to get the real object, so SQL and Docker logic are not duplicated and
plain secret values never enter Pulumi's state.
"""

from __future__ import annotations

import sys
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from spcs_iac.model import identifiers as ids
from spcs_iac.model.fields import output_consumer
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan import diff
from spcs_iac.plan.model import Action, Change, FieldChange
from spcs_iac.plan.target import ApplyContext, ReadRequest
from spcs_iac.state.store import StateEntry

_stacks: dict[str, Any] = {}  # stack reference -> loaded Stack, per provider process


def _load(stack_ref: str) -> Any:
    if stack_ref not in _stacks:
        from spcs_iac.model.loader import load_stack

        _stacks[stack_ref] = load_stack(stack_ref)
    return _stacks[stack_ref]


def field_changes(kind: str, olds: dict[str, Any], news: dict[str, Any]) -> list[FieldChange]:
    """The planner's diff between two input bags: the old inputs stand for what was last applied."""
    cls = KINDS[kind]
    before, after = olds.get("props") or {}, news.get("props") or {}
    out = diff.field_changes(cls, after, None, before)
    if (olds.get("upstream") or {}) != (news.get("upstream") or {}):
        consumer = output_consumer(cls)
        out = diff.upstream_changed(cls, out, before.get(consumer.name) if consumer else None)
    return out


class SpcsProvider(ResourceProvider):
    """The generic dynamic provider; the per-kind subclasses below only set ``kind``."""

    kind = ""
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._config: dict[str, Any] = {}

    def configure(self, req: ConfigureRequest) -> None:
        for key in ("target", "connection", "stateDir", "password"):
            value = req.config.get(f"spcs-iac:{key}")
            if value:
                self._config[key] = value

    # ---- helpers --------------------------------------------------------------------------------
    def _target(self, props: dict[str, Any]) -> Any:
        from spcs_iac.drivers.api import get_provider

        options: dict[str, Any] = {"state_dir": props.get("state_dir") or self._config.get("stateDir")}
        connection = props.get("connection") or self._config.get("connection")
        if connection:
            options["connection"] = connection
        if props["target"] == "snowflake" and self._config.get("password"):
            options["password"] = self._config["password"]  # from `pulumi config set --secret spcs-iac:password`
        return get_provider(props["target"], props["stack"], **options)

    def _resource(self, props: dict[str, Any]) -> Any:
        return _load(props["stack_ref"]).resources()[props["address"]]

    @staticmethod
    def _ctx(props: dict[str, Any]) -> ApplyContext:
        return ApplyContext(outputs=dict(props.get("upstream") or {}), stack=props["stack"],
                            log=lambda line: print(line, file=sys.stderr))

    @staticmethod
    def _entry(props: dict[str, Any]) -> StateEntry:
        p = props.get("props") or {}
        return StateEntry(kind=props["kind"], name=props["name"], props=dict(p),
                          outputs=dict(props.get("outputs") or {}), depends_on=list(props.get("depends") or []),
                          owner=ids.split_qualified(p["owner"])[0] if p.get("owner") else None)

    def _change(self, action: Action, props: dict[str, Any], fields: list[FieldChange],
                prior: dict[str, Any] | None = None) -> Change:
        resource = None if action is Action.DELETE else self._resource(props)
        return Change(address=props["address"], kind=props["kind"], name=props["name"], action=action,
                      fields=fields, resource=resource, prior=self._entry(prior) if prior else None,
                      observed=dict((prior or {}).get("props") or {}) if prior else None,
                      depends_on=list(props.get("depends") or []))

    # ---- the Pulumi protocol --------------------------------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        try:
            stack = _load(news["stack_ref"])
            stack.validate()
            if news["address"] not in stack.resources():
                return CheckResult(news, [CheckFailure("address", f"{news['address']} is not in the stack")])
        except Exception as exc:  # report, do not crash the provider process
            return CheckResult(news, [CheckFailure("stack_ref", str(exc))])
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        fields = field_changes(self.kind, olds, news)
        replaces = [f.name for f in fields if f.forces_replace]
        # Snowflake names are unique: the old object must go before the new one is created.
        return DiffResult(changes=bool(fields), replaces=replaces, stables=["address", "kind", "name"],
                          delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        target = self._target(props)
        try:
            outputs = target.create(self._change(Action.CREATE, props, []), self._ctx(props))
        finally:
            target.close()
        return CreateResult(props["address"], {**props, "outputs": outputs or {}})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        fields = field_changes(self.kind, olds, news)
        target = self._target(news)
        try:
            outputs = target.update(self._change(Action.UPDATE, news, fields, prior=olds), self._ctx(news))
        finally:
            target.close()
        return UpdateResult({**news, "outputs": {**(olds.get("outputs") or {}), **(outputs or {})}})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        target = self._target(props)
        try:
            change = self._change(Action.DELETE, props, [], prior=props)
            target.delete(change, self._ctx(props))
        finally:
            target.close()

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        target = self._target(props)
        try:
            observed = target.read([ReadRequest(props["address"], props["kind"], props["name"], None,
                                                self._entry(props))])
        finally:
            target.close()
        found = observed.get(props["address"])
        if found is None:
            return ReadResult(None, {})  # gone: Pulumi drops it from its state
        merged = {**(props.get("props") or {}), **found.props}
        return ReadResult(id_, {**props, "props": merged, "outputs": {**(props.get("outputs") or {}),
                                                                     **found.outputs}})


def _per_kind() -> dict[str, type[SpcsProvider]]:
    out: dict[str, type[SpcsProvider]] = {}
    module = sys.modules[__name__]
    for kind, cls in KINDS.items():
        name = f"{cls.__name__}Provider"
        sub = type(name, (SpcsProvider,), {"kind": kind, "__module__": __name__, "__qualname__": name})
        setattr(module, name, sub)  # importable by name, so dill pickles it by reference
        out[kind] = sub
    return out


PROVIDERS = _per_kind()
