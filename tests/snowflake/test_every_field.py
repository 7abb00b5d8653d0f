"""A declared change is never silently dropped: for every kind and every field it declares, changing the
declared value after an apply yields a change of that field in the plan, against the emulator.

Fields Snowflake reads back are compared with what the target shows; fields it does not show (secrets,
job replicas) with what was applied. Each round changes at most one field of every object, so one plan
checks many fields at once.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spcs_iac import (
    ComputePool,
    ExternalAccessIntegration,
    FunctionArgument,
    Grant,
    NetworkRule,
    Role,
    Service,
    Stack,
    Warehouse,
)
from spcs_iac.drivers import api
from spcs_iac.model.base import Resource
from spcs_iac.model.fields import FieldDecl, Update, kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.spec import ServiceSpec
from tests.snowflake.support import OWNER, every_kind

Mutation = Callable[[Resource, Stack], None]


def _spec(image: Any, env: str = "one") -> ServiceSpec:
    return ServiceSpec.model_validate({"spec": {
        "containers": [{"name": "main", "image": image, "env": {"MODE": env}}],
        "endpoints": [{"name": "api", "port": 8080}, {"name": "api2", "port": 8081}],
    }})


def base_stack(context: Path) -> Stack:
    """One object of every kind, plus a second object of every kind a field can refer to."""
    stack = every_kind(context)
    role = stack.get(f"role.{OWNER}")
    db = stack.get("database.APP_DB")
    image = stack.get("image.APP_DB.PUBLIC.REPO/app:v1")
    svc = stack.get("service.APP_DB.PUBLIC.APP_SVC")
    svc.spec = _spec(image)
    stack.add(Role(name="ALT_ROLE", owner="ACCOUNTADMIN"))
    stack.add(Warehouse(name="ALT_WH", initially_suspended=True, owner=role))
    pool = stack.add(ComputePool(name="ALT_POOL", instance_family="CPU_X64_XS", owner=role))
    rule = stack.add(NetworkRule(name="ALT_RULE", database=db, type="HOST_PORT", mode="EGRESS",
                                 value_list=["alt.example.com"], owner=role))
    eai = stack.add(ExternalAccessIntegration(name="ALT_EAI", allowed_network_rules=[rule], owner="ACCOUNTADMIN"))
    stack.add(Grant(to=role, on=eai, privileges=["USAGE"], owner="ACCOUNTADMIN"))
    stack.add(Service(name="ALT_SVC", database=db, compute_pool=pool, spec=_spec(image), owner=role))
    _add_optional_kinds(stack, db, role)
    return stack


def _add_optional_kinds(stack: Stack, db: Any, role: Any) -> None:
    """Kinds that every_kind() does not declare yet."""
    have = {r.kind for r in stack}
    if "table" in KINDS and "table" not in have:
        from spcs_iac.model.kinds import TableColumn  # type: ignore[attr-defined]

        stack.add(KINDS["table"](name="T", database=db, owner=role,
                                 columns=[TableColumn(name="A", datatype="NUMBER")]))


# ---- how a field's declared value is changed --------------------------------------------------------------
def _other_object(obj: Resource, decl: FieldDecl, stack: Stack) -> Any:
    current = getattr(obj, decl.name)
    have = current if isinstance(current, list) else [current]
    names = {x.fqn if isinstance(x, Resource) else x for x in have if x is not None}
    pool = [r for r in stack.resources().values() if r.kind == decl.prop.ref and r.fqn not in names
            and r is not obj]
    assert pool, f"the stack has no second {decl.prop.ref} for {obj.kind}.{decl.name}"
    return [*(current or []), pool[0]] if isinstance(current, list) or decl.prop.fmt.value == "ident_list" else pool[0]


def _by_type(obj: Resource, decl: FieldDecl) -> Any:
    annotation = type(obj).model_fields[decl.name].annotation
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    literal = next((o for o in options if typing.get_origin(o) is typing.Literal), None)
    if typing.get_origin(annotation) is typing.Literal:
        literal = annotation
    current = getattr(obj, decl.name)
    if current is None:
        current = decl.prop.default
    if literal is not None:
        return next(v for v in typing.get_args(literal) if v != current)
    if annotation is bool or bool in options:
        return not current
    if annotation is int or int in options:
        return current + 1 if current is not None else 7  # unset: a value no default has
    if annotation is str or str in options:
        return f"{current or ''} changed"
    if typing.get_origin(annotation) is list or any(typing.get_origin(o) is list for o in options):
        return [*(current or []), "changed.example.com"]
    raise AssertionError(f"no way to change {obj.kind}.{decl.name}: add it to SPECIAL in {__name__}")


def _set(name: str, value: Any) -> Mutation:
    return lambda obj, stack: setattr(obj, name, value)


SPECIAL: dict[tuple[str, str], Mutation] = {
    ("grant", "privileges"): lambda obj, stack: setattr(obj, "privileges", sorted({*obj.privileges, "OPERATE"})),
    ("compute_pool", "instance_family"): _set("instance_family", "CPU_X64_S"),
    ("service", "spec"): lambda obj, stack: setattr(obj, "spec", _spec(obj.spec.containers[0].image, "two")),
    ("job_service", "spec"): lambda obj, stack: setattr(obj, "spec", _spec(obj.spec.containers[0].image, "two")),
    ("service_function", "arguments"): _set("arguments", [FunctionArgument(name="y", datatype="VARCHAR")]),
    ("service_function", "returns"): _set("returns", "NUMBER"),
    ("service_function", "endpoint"): _set("endpoint", "api2"),
    ("service_function", "path"): _set("path", "/other"),
    ("image", "build_hash"): _set("build_args", {"CHANGED": "1"}),
    # The spec's file only means something on a stage: both are set, as the declaration would.
    ("service", "spec_stage"): lambda obj, stack: _on_stage(obj, stack, "app_svc.yaml"),
    ("service", "spec_file"): lambda obj, stack: _on_stage(obj, stack, "other/spec.yaml"),
    ("job_service", "spec_stage"): lambda obj, stack: _on_stage(obj, stack, "app_job.yaml"),
    ("job_service", "spec_file"): lambda obj, stack: _on_stage(obj, stack, "other/spec.yaml"),
    ("job_service", "outcome"): _set("outcome", "FAILED"),
}


def _on_stage(obj: Resource, stack: Stack, path: str) -> None:
    obj.spec_stage = stack.get("stage.APP_DB.PUBLIC.SPECS")  # type: ignore[attr-defined]
    obj.spec_file = path  # type: ignore[attr-defined]


def _table_columns(obj: Resource, stack: Stack) -> None:
    from spcs_iac.model.kinds import TableColumn  # type: ignore[attr-defined]

    obj.columns = [*obj.columns, TableColumn(name="EXTRA", datatype="NUMBER")]  # type: ignore[attr-defined]


SPECIAL[("table", "columns")] = _table_columns


def mutate(obj: Resource, decl: FieldDecl, stack: Stack) -> None:
    special = SPECIAL.get((obj.kind, decl.name))
    if special is not None:
        special(obj, stack)
    elif decl.prop.ref is not None:
        setattr(obj, decl.name, _other_object(obj, decl, stack))
    else:
        setattr(obj, decl.name, _by_type(obj, decl))


def compared_fields(cls: type[Resource]) -> list[FieldDecl]:
    return [d for d in kind_props(cls) if not d.prop.identity and d.prop.update is not Update.CREATE_ONLY]


def test_every_declared_change_of_every_kind_is_planned(emu: Any, provider: Any, context: Path,
                                                        tmp_path: Path) -> None:
    state = str(tmp_path)
    applied = api.apply(base_stack(context), target="snowflake", provider=provider(), state_dir=state)
    assert applied.ok, applied.failed
    # One object per kind: the first one every_kind() declares.
    chosen: dict[str, str] = {}
    for address, r in base_stack(context).resources().items():
        chosen.setdefault(r.kind, address)
    assert sorted(chosen) == sorted(KINDS), "add an object of every kind to base_stack()"

    rounds = max(len(compared_fields(KINDS[k])) for k in chosen)
    dropped: list[str] = []
    checked = 0
    for i in range(rounds):
        stack = base_stack(context)
        index = stack.resources()
        wanted: list[tuple[str, str]] = []
        for kind, address in chosen.items():
            fields = compared_fields(KINDS[kind])
            if i < len(fields):
                mutate(index[address], fields[i], stack)
                wanted.append((address, fields[i].name))
        p = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
        by_address = {c.address: c for c in p.actionable}
        for address, field in wanted:
            checked += 1
            change = by_address.get(address)
            if change is None or field not in change.changed_fields:
                dropped.append(f"{address}.{field}: {change.changed_fields if change else 'no change'}")
    assert not dropped, "declared changes missing from the plan:\n" + "\n".join(dropped)
    assert checked >= 60


def test_job_replicas_are_compared_with_what_was_applied(emu: Any, provider: Any, context: Path,
                                                         tmp_path: Path) -> None:
    """SHOW (JOB) SERVICES has no replicas column: a declared change comes from the recorded state."""
    state = str(tmp_path)
    assert api.apply(every_kind(context), target="snowflake", provider=provider(), state_dir=state).ok
    rows = emu.rows("SHOW JOB SERVICES IN ACCOUNT")
    assert rows and "replicas" not in rows[0]
    stack = every_kind(context)
    stack.get("job_service.APP_DB.PUBLIC.APP_JOB").replicas = 3
    p = api.plan(stack, target="snowflake", provider=provider(), state_dir=state)
    job = next(c for c in p.actionable if c.address == "job_service.APP_DB.PUBLIC.APP_JOB")
    assert job.action.value == "replace" and "replicas" in job.changed_fields
    assert any("REPLICAS = 3" in s for s in job.statements)
