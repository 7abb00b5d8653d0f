"""The Python API: stack -> graph -> plan -> apply against a named target (the CLI and Pulumi use it).

``plan(stack)``, ``apply(stack)`` and ``destroy(stack)`` mirror the CLI commands; targets are
registered in :data:`spcs_iac.drivers.targets.TARGETS`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spcs_iac.apply.executor import ApplyResult, Executor
from spcs_iac.drivers.targets import TARGETS, get_provider  # noqa: F401 - part of the API
from spcs_iac.errors import SpcsIacError
from spcs_iac.graph.build import build_graph, object_predecessors
from spcs_iac.model import identifiers as ids
from spcs_iac.model.declaration import bind_secrets
from spcs_iac.model.fields import kind_props
from spcs_iac.plan.consent import check_consent
from spcs_iac.plan.planner import make_plan
from spcs_iac.plan.stale import stale_reasons
from spcs_iac.plan.target import ReadRequest
from spcs_iac.state.backend import StateBackend, StateEntry, open_state, state_url

if TYPE_CHECKING:
    from spcs_iac.model.stack import Stack
    from spcs_iac.plan.model import Plan
    from spcs_iac.plan.target import Provider

@contextmanager
def _collector_paused() -> Iterator[None]:
    """Planning makes many objects that all live until the plan is returned: the cyclic garbage collector
    finds nothing among them, yet its passes over an ever larger heap made planning grow faster than
    the stack (half the time of a 10,000-object plan). Reference counting still frees what is dropped;
    the collector resumes afterwards."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            if gc.get_freeze_count() == 0:  # nobody keeps objects frozen (gc.freeze before a fork, say)
                # What planning made lives on with the plan: it joins the oldest generation at once
                # rather than being scanned as young objects by the next collection.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _prepare(stack: Stack) -> Any:
    with _collector_paused():
        stack.validate()
        return build_graph(stack)


@contextmanager
def stack_state(stack: Stack, target: str, provider: Provider | None = None, *, state: str | None = None,
                state_dir: str | None = None, strict: bool = True, **provider_options: Any
                ) -> Iterator[StateBackend]:
    """The state backend in force for this stack and target (``--state``, ``SPCS_IAC_STATE``, the stack's
    ``state=``, else files in ``state_dir``). A state in the account uses the target's connection, or
    opens one with ``provider_options`` when the target is not Snowflake."""
    url = state_url(state, stack.state, state_dir)
    if not url.startswith("snowflake://"):
        yield open_state(url, stack.name, target, strict=strict)
        return
    own = None
    if provider is None or not hasattr(provider, "state_sql"):
        own = get_provider("snowflake", stack.name, **provider_options)
    try:
        yield open_state(url, stack.name, target, sql=(own or provider).state_sql())  # type: ignore[union-attr]
    finally:
        if own is not None:
            own.close()


def plan_stack(stack: Stack, target: str, *, provider: Provider | None = None, state_dir: str | None = None,
               assume_empty: bool = False, destroy: bool = False, state: str | None = None,
               **provider_options: Any) -> Plan:
    graph = _prepare(stack)
    own = provider is None
    provider = provider or get_provider(target, stack.name, state_dir=state_dir, connect=not assume_empty,
                                        **provider_options)
    try:
        if assume_empty:
            with _collector_paused():
                return make_plan(stack.name, target, graph, provider, {}, destroy=destroy, assume_empty=True)
        with (stack_state(stack, target, provider, state=state, state_dir=state_dir, **provider_options) as store,
              _collector_paused()):
            plan = make_plan(stack.name, target, graph, provider, store.entries, destroy=destroy,
                             pending=store.pending)
            plan.serial = store.serial
            return plan
    finally:
        if own:
            provider.close()


def apply_stack(stack: Stack, target: str, *, provider: Provider | None = None, state_dir: str | None = None,
                parallelism: int = 8, log: Callable[[str], None] | None = None, destroy: bool = False,
                confirm: Callable[[Plan], bool] | None = None, saved: Plan | None = None,
                state: str | None = None, lock_timeout: float = 0.0, adopt: bool = False,
                destroy_adopted: bool = False, **provider_options: Any) -> ApplyResult:
    """Plan under the state lock, optionally ask ``confirm(plan)``, then execute.

    With ``saved`` (a plan made earlier, e.g. read back with Plan.from_json), exactly that plan is
    executed, after checking under the lock that it is not stale: the state, the target and the
    declarations must be as they were when it was made.

    Nothing runs when the plan takes over objects this stack did not create (``adopt``) or deletes or
    replaces such objects (``destroy_adopted``) without that consent."""
    graph = _prepare(stack)
    own = provider is None
    provider = provider or get_provider(target, stack.name, state_dir=state_dir, **provider_options)
    try:
        provider.warm_up(min(parallelism, max(1, graph.number_of_nodes())))
        with (stack_state(stack, target, provider, state=state, state_dir=state_dir, **provider_options) as store,
              store.locked("destroy" if destroy else "apply", wait=lock_timeout)):
            if saved is not None:
                _keep_planned_digests(saved, stack)
            with _collector_paused():
                plan = make_plan(stack.name, target, graph, provider, store.entries, destroy=destroy,
                                 pending=store.pending)
            plan.serial = store.serial
            if saved is not None:
                plan = _checked(saved, plan, stack)
            check_consent(plan, adopt=adopt, destroy_adopted=destroy_adopted)
            provider.prepare_apply(parallelism, plan.changes)  # sessions for its roles log in while it is shown
            if confirm is not None and not confirm(plan):
                return ApplyResult()
            result = Executor(plan, provider, store, parallelism=parallelism, log=log).run()
            result.plan = plan  # type: ignore[attr-defined]
            return result
    finally:
        if own:
            provider.close()


def import_object(stack: Stack, target: str, address: str, *, provider: Provider | None = None,
                  state: str | None = None, state_dir: str | None = None, lock_timeout: float = 0.0,
                  **provider_options: Any) -> StateEntry:
    """Adopt one declared object that exists in the target: record it in the state as the target has it.
    Nothing in the target changes; the next plan shows how the object differs from its declaration."""
    graph = _prepare(stack)
    r = stack.resources().get(address)
    if r is None:
        known = ", ".join(sorted(stack.resources())[:20])
        raise SpcsIacError(f"{address} is not declared in stack {stack.name}: declare it, then import it "
                           f"(declared: {known})")
    own = provider is None
    provider = provider or get_provider(target, stack.name, state_dir=state_dir, **provider_options)
    try:
        with (stack_state(stack, target, provider, state=state, state_dir=state_dir, **provider_options) as store,
              store.locked("import", wait=lock_timeout)):
            if address in store.entries:
                raise SpcsIacError(f"{address} is already managed by stack {stack.name} on {target}")
            found = provider.read([ReadRequest(address, r.kind, r.fqn, r, None)]).get(address)
            if found is None:
                raise SpcsIacError(f"{r.describe()} does not exist on target {target}: there is nothing to import")
            owner = found.props.get("owner")
            entry = StateEntry(kind=r.kind, name=r.fqn, props=dict(found.props), outputs=dict(found.outputs),
                               depends_on=object_predecessors(graph, address),
                               owner=ids.split_qualified(str(owner))[0] if owner else None)
            store.record(address, entry)
            return entry
    finally:
        if own:
            provider.close()


MARKER = "managed_by"  # output a target reports when the object carries its stack's name


@dataclass
class Rebuilt:
    """What ``state rebuild`` found: objects taken back, objects of another stack, objects with no marker."""

    taken: list[str] = field(default_factory=list)
    unmarked: list[str] = field(default_factory=list)  # kinds the target cannot mark: taken as declared
    foreign: dict[str, str] = field(default_factory=dict)  # address -> the stack that marked it
    missing: list[str] = field(default_factory=list)  # declared, not in the target


def rebuild_state(stack: Stack, target: str, *, provider: Provider | None = None, state: str | None = None,
                  state_dir: str | None = None, lock_timeout: float = 0.0, **provider_options: Any) -> Rebuilt:
    """Recover a lost state from the target: every declared object that exists and carries this stack's
    marker is recorded again (objects of kinds the target cannot mark are taken as declared); objects
    marked by another stack are left out. Nothing in the target changes."""
    graph = _prepare(stack)
    resources = stack.resources()
    own = provider is None
    provider = provider or get_provider(target, stack.name, state_dir=state_dir, **provider_options)
    report = Rebuilt()
    try:
        with (stack_state(stack, target, provider, state=state, state_dir=state_dir, strict=False,
                          **provider_options) as store,
              store.locked("state rebuild", wait=lock_timeout)):
            found = provider.read([ReadRequest(a, r.kind, r.fqn, r, None) for a, r in resources.items()])
            outputs = {a: dict(o.outputs) for a, o in found.items()}
            entries: dict[str, StateEntry] = {}
            for address, r in resources.items():
                seen = found.get(address)
                if seen is None:
                    report.missing.append(address)
                    continue
                marker = seen.outputs.get(MARKER)
                if marker is not None and marker != stack.name:
                    report.foreign[address] = str(marker)
                    continue
                (report.taken if marker is not None else report.unmarked).append(address)
                owner = seen.props.get("owner")
                # This stack made it: what the target cannot show was set from the declaration, except
                # secret values, which stay unknown (the next apply sets them again).
                decls = {d.name: d.prop for d in kind_props(type(r))}
                made = {k: v for k, v in r.desired(outputs).items() if not (k in decls and decls[k].sensitive)}
                shown = {k: v for k, v in seen.props.items() if k not in decls or decls[k].readable}
                entries[address] = StateEntry(kind=r.kind, name=r.fqn, props={**made, **shown},
                                              outputs={**seen.outputs, **r.recorded(outputs)},
                                              depends_on=object_predecessors(graph, address),
                                              owner=ids.split_qualified(str(owner))[0] if owner else None)
            store.replace_all(entries)
            return report
    finally:
        if own:
            provider.close()


def _keep_planned_digests(saved: Plan, stack: Stack) -> None:
    """Secrets whose declared value is the one the saved plan hashed keep that digest in the fresh plan
    (a digest's salt is random), so only a changed value makes the saved plan stale."""
    declared = stack.resources()
    for change in saved.changes:
        r = declared.get(change.address)
        if r is not None and change.desired:
            r.keep_secret_digests(change.desired)


def _checked(saved: Plan, fresh: Plan, stack: Stack) -> Plan:
    """The saved plan, if it still holds, with its secret values bound from the stack."""
    reasons = stale_reasons(saved, fresh)
    if saved.serial is not None and saved.serial != fresh.serial:
        reasons.insert(0, f"the state changed since the plan was made (serial {saved.serial}, now {fresh.serial})")
    if reasons:
        shown = "\n  ".join(reasons[:20]) + ("\n  ..." if len(reasons) > 20 else "")
        raise SpcsIacError(f"the saved plan is stale; make a new plan:\n  {shown}")
    declared = stack.resources()
    for change in saved.changes:
        if change.resource is not None:
            bind_secrets(change.resource, lambda address, name: getattr(declared[address], name, None))
    return saved


def destroy_stack(stack: Stack, target: str, **options: Any) -> ApplyResult:
    return apply_stack(stack, target, destroy=True, **options)


def plan(stack: Stack, target: str | None = None, **options: Any) -> Plan:
    """What apply would change (``spcs-iac plan``)."""
    return plan_stack(stack, target or stack.default_target, **options)


def apply(stack: Stack, target: str | None = None, **options: Any) -> ApplyResult:
    """Plan and apply under the state lock (``spcs-iac apply``)."""
    return apply_stack(stack, target or stack.default_target, **options)


def destroy(stack: Stack, target: str | None = None, **options: Any) -> ApplyResult:
    """Remove every object the stack manages (``spcs-iac destroy``)."""
    return destroy_stack(stack, target or stack.default_target, **options)


def sql(statements: str, target: str = "local", stack: Stack | str | None = None, *, state_dir: str | None = None,
        database: str | None = None, schema: str | None = None, **provider_options: Any) -> list[dict[str, Any]]:
    """Run Snowflake-dialect SQL (``spcs-iac sql``): on ``local``, over the stack's DuckDB warehouse with its
    service functions; on ``snowflake``, through the connector. One result per statement:
    ``{"statement", "kind", "columns", "rows", "rowcount"}``. Errors are Snowflake's (SpcsIacError)."""
    from spcs_iac.drivers.sql_session import stack_for_sql

    name = stack_for_sql(target, stack, state_dir)
    provider = get_provider(target, name, state_dir=state_dir, **provider_options)
    try:
        run = getattr(provider, "sql", None)
        if run is None:
            raise SpcsIacError(f"target {target!r} does not run SQL")
        return run(statements, database=database, schema=schema)
    finally:
        provider.close()
