"""The one diff: its rules, and one table of before/after cases that the planner and the Pulumi bridge
must answer identically (they call the same function)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import (
    ComputePool,
    Database,
    Image,
    ImageRepository,
    JobService,
    NetworkRule,
    Role,
    Secret,
    Service,
    ServiceSpec,
    Stack,
    Warehouse,
)
from spcs_iac.drivers.pulumi.dynamic import field_changes as pulumi_field_changes
from spcs_iac.graph.build import build_graph
from spcs_iac.model.base import Resource
from spcs_iac.model.fields import Update, kind_props, output_consumer
from spcs_iac.plan import diff
from spcs_iac.plan.model import Action, FieldChange
from spcs_iac.plan.planner import make_plan
from spcs_iac.plan.target import Observed, Provider, ReadRequest
from spcs_iac.state.store import StateEntry


class MatchingTarget(Provider):
    """A target that holds exactly what the state recorded: every difference is a declared change."""

    target = "matching"

    def __init__(self, entries: dict[str, StateEntry]) -> None:
        self.entries = entries

    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        return {r.address: Observed(dict(self.entries[r.address].props), dict(self.entries[r.address].outputs))
                for r in requests if r.address in self.entries}

    def create(self, change: Any, ctx: Any) -> dict[str, Any]:
        raise AssertionError("not applied")

    update = create

    def delete(self, change: Any, ctx: Any) -> None:
        raise AssertionError("not applied")


def _stack(objects: list[Resource]) -> Stack:
    s = Stack("diff")
    s.extend(objects)
    return s


def _entries(stack: Stack, outputs: dict[str, dict[str, Any]]) -> dict[str, StateEntry]:
    return {a: StateEntry(r.kind, r.fqn, props=r.desired(outputs), outputs=dict(outputs.get(a, {})),
                          owner=r.owner_name) for a, r in stack.resources().items()}


@dataclass
class Case:
    name: str
    build: Callable[[bool, Path], list[Resource]]  # (after?, tmp) -> objects; the first is the one compared
    changed: set[str]  # fields the plan shows
    replace: bool = False
    known_after_apply: set[str] | None = None


def _pool() -> ComputePool:
    return ComputePool(name="P", instance_family="CPU_X64_XS")


def _spec(image: Any) -> ServiceSpec:
    return ServiceSpec.model_validate({"spec": {"containers": [{"name": "c", "image": image}]}})


def _image_stack(after: bool, tmp: Path, job: bool) -> list[Resource]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "Dockerfile").write_text("FROM scratch\n")
    db = Database(name="D")
    repo = ImageRepository(name="R", database=db)
    image = Image(name="app", tag="v2" if after else "v1", repository=repo, context=str(tmp))
    cls = JobService if job else Service
    return [cls(name="S", database=db, compute_pool=_pool(), spec=_spec(image)), image]


CASES = [
    Case("owner removed from the declaration is not managed: no change",
         lambda after, _: [Warehouse(name="W", owner=None if after else "OPS")], set()),
    Case("owner moved on a warehouse is altered in place",
         lambda after, _: [Warehouse(name="W", owner="DEV" if after else "OPS")], {"owner"}),
    Case("owner moved on a service forces a replace (ownership cannot be transferred)",
         lambda after, _: [Service(name="S", database="D", compute_pool=_pool(), spec=_spec("/d/public/r/a:1"),
                                   owner="DEV" if after else "OPS")], {"owner"}, replace=True),
    Case("an unset field that has a target default goes back to the default",
         lambda after, _: [Warehouse(name="W", auto_suspend=None if after else 60)], {"auto_suspend"}),
    Case("comment changed: in place",
         lambda after, _: [Role(name="R", comment="b" if after else "a")], {"comment"}),
    Case("a secret's value changed: in place and sensitive",
         lambda after, _: [Secret(name="K", database="D", type="GENERIC_STRING",
                                  secret_string="new" if after else "old")], {"secret_string"}),
    Case("a secret's type changed: replace",
         lambda after, _: [Secret(name="K", database="D", type="PASSWORD", username="u", password="p") if after
                           else Secret(name="K", database="D", type="GENERIC_STRING", secret_string="s")],
         {"type", "username", "password", "secret_string"}, replace=True),
    Case("an unordered list in another order: no change",
         lambda after, _: [NetworkRule(name="N", database="D", type="HOST_PORT", mode="EGRESS",
                                       value_list=["b.com", "a.com"] if after else ["a.com", "b.com"])], set()),
    Case("create-only field changed: never compared",
         lambda after, _: [JobService(name="J", database="D", compute_pool=_pool(), spec=_spec("/d/public/r/a:1"),
                                      run_async=after)], set()),
    Case("an image the service runs changes: its spec is known after apply",
         lambda after, tmp: _image_stack(after, tmp, job=False), {"spec"}, known_after_apply={"spec"}),
    Case("an image a job runs changes: the job is replaced",
         lambda after, tmp: _image_stack(after, tmp, job=True), {"spec"}, replace=True, known_after_apply={"spec"}),
]


def _planner(case: Case, tmp: Path) -> list[FieldChange]:
    before = _stack(case.build(False, tmp / "before"))
    after_objects = case.build(True, tmp / "after")
    after = _stack(after_objects)
    outputs = {a: {"digest": "sha256:" + "1" * 64} for a, r in before.resources().items() if r.kind == "image"}
    entries = _entries(before, outputs)
    plan = make_plan("diff", "matching", build_graph(after), MatchingTarget(entries), entries)
    change = plan.get(after_objects[0].address)
    assert change.action in (Action.NOOP, Action.UPDATE, Action.REPLACE), change.action
    return change.fields


def _pulumi(case: Case, tmp: Path) -> list[FieldChange]:
    old = case.build(False, tmp / "before")
    new = case.build(True, tmp / "after")
    _stack(old).resources(), _stack(new).resources()  # link names the way a stack does
    upstream_old = {a: {"digest": "sha256:" + "1" * 64} for a in old[0].outputs_needed()}
    # The program hands the bridge the outputs of the objects it consumes; a new image has none yet.
    upstream_new = {a: upstream_old.get(a, {"digest": None}) for a in new[0].outputs_needed()}
    return pulumi_field_changes(new[0].kind, {"props": old[0].desired(upstream_old), "upstream": upstream_old},
                                {"props": new[0].desired(upstream_new), "upstream": upstream_new})


def _summary(fields: list[FieldChange]) -> tuple[set[str], bool, set[str]]:
    return ({f.name for f in fields}, any(f.forces_replace for f in fields),
            {f.name for f in fields if f.known_after_apply})


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_planner_and_pulumi_bridge_agree(case: Case, tmp_path: Path) -> None:
    expected = (case.changed, case.replace, case.known_after_apply or set())
    assert _summary(_planner(case, tmp_path)) == expected
    assert _summary(_pulumi(case, tmp_path)) == expected


def test_sensitive_fields_are_marked_and_hashed() -> None:
    old = Secret(name="K", database="D", type="GENERIC_STRING", secret_string="old-value")
    new = Secret(name="K", database="D", type="GENERIC_STRING", secret_string="new-value")
    (change,) = diff.field_changes(Secret, new.desired(), None, old.desired())
    assert change.sensitive and change.to_json()["after"] == "(sensitive)"
    assert "new-value" not in repr(change.after) and str(change.after).startswith("scrypt:")


def test_unreadable_field_of_an_object_never_applied_is_unknown() -> None:
    new = Secret(name="K", database="D", type="GENERIC_STRING", secret_string="v")
    fields = diff.field_changes(Secret, new.desired(), {"type": "GENERIC_STRING"}, None)
    assert [(f.name, f.before) for f in fields] == [("secret_string", diff.UNKNOWN)]


def test_owner_rule_is_the_kinds_declaration() -> None:
    owner = {d.name: d.prop for d in kind_props(Service)}["owner"]
    assert owner.update is Update.REPLACE
    assert {d.name: d.prop for d in kind_props(Warehouse)}["owner"].update is Update.ALTER


def test_the_field_fed_by_upstream_outputs_is_declared() -> None:
    assert output_consumer(Service).name == "spec"  # type: ignore[union-attr]
    assert output_consumer(JobService).prop.update is Update.REPLACE  # type: ignore[union-attr]
    assert output_consumer(Warehouse) is None
    assert diff.upstream_changed(Warehouse, [], None) == []
