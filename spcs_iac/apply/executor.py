"""Walk a plan's operations in dependency order, independent branches in parallel.

Each change becomes one or two operations (a replace is delete then create). Creates and updates wait
for the operations of what they depend on; deletes wait for the objects that depended on them. A failed
operation skips only its descendants; everything else finishes, and every success is recorded in the
state immediately, so running apply again converges. Of the operations ready to run, those heading the
longest chain of dependent operations start first.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import networkx as nx

from spcs_iac.errors import AbandonedApply, ApplyError, SpcsIacError
from spcs_iac.model.declaration import has_unbound_secrets
from spcs_iac.model.redact import scrub
from spcs_iac.plan.model import Action, Change, Plan
from spcs_iac.plan.running import suspends
from spcs_iac.plan.target import ApplyContext, Provider
from spcs_iac.state.store import StateEntry, StateStore

from .walk import ApplyResult, Op, Walk


def operations(plan: Plan) -> nx.DiGraph:
    """The operation DAG of a plan."""
    g = nx.DiGraph()
    changes = {c.address: c for c in plan.actionable}
    first: dict[str, Op] = {}
    last: dict[str, Op] = {}
    for c in changes.values():
        if c.action in (Action.DELETE, Action.REPLACE):
            g.add_node(("delete", c.address), change=c)
            first[c.address] = ("delete", c.address)
        if c.action in (Action.CREATE, Action.REPLACE):
            g.add_node(("create", c.address), change=c)
            if c.action is Action.REPLACE:
                g.add_edge(("delete", c.address), ("create", c.address))
        if c.action in (Action.UPDATE, Action.IMPORT):
            g.add_node(("update", c.address), change=c)
        last[c.address] = ("create", c.address) if c.action in (Action.CREATE, Action.REPLACE) else (
            ("update", c.address) if c.action in (Action.UPDATE, Action.IMPORT) else ("delete", c.address))
        first.setdefault(c.address, last[c.address])
    for c in changes.values():
        for dep in c.depends_on:
            dc = changes.get(dep)
            # X (create/update) after its dependency's create/update.
            if dc is not None and c.action is not Action.DELETE and dc.action is not Action.DELETE:
                g.add_edge(last[dep], _build_op(c))
        used = set(c.depends_on) | set(c.prior.depends_on if c.prior else ())
        for dep in used:
            dc = changes.get(dep)
            if dc is None or dc.action not in (Action.DELETE, Action.REPLACE):
                continue
            # A dependency is deleted only after X stopped using it: X deleted first, or X updated away
            # from a dependency that goes for good. X keeping a replaced dependency just waits for it.
            if c.action in (Action.DELETE, Action.REPLACE):
                g.add_edge(("delete", c.address), ("delete", dep))
            elif dc.action is Action.DELETE and c.action in (Action.UPDATE, Action.IMPORT):
                g.add_edge(last[c.address], ("delete", dep))
    if not nx.is_directed_acyclic_graph(g):
        cycle = " -> ".join(f"{v} {a}" for (v, a), _ in nx.find_cycle(g))
        raise ApplyError(f"the operations of this plan depend on each other in a cycle: {cycle}")
    return g


def _build_op(c: Change) -> Op:
    if c.action is Action.REPLACE:
        return ("create", c.address)
    return ("update", c.address) if c.action in (Action.UPDATE, Action.IMPORT) else ("create", c.address)


class Executor:
    def __init__(self, plan: Plan, provider: Provider, state: StateStore, *, parallelism: int = 8,
                 log: Callable[[str], None] | None = None) -> None:
        self.plan, self.provider, self.state = plan, provider, state
        self.parallelism = max(1, parallelism)
        self.log = log
        # Every secret value the plan's objects hold: a failure or a log line never repeats one.
        self.secrets = sorted({value for c in plan.changes if c.resource is not None
                               for _, value in c.resource.secret_values()})
        self.outputs: dict[str, dict[str, Any]] = {a: dict(e.outputs) for a, e in state.entries.items()}
        for address, known in plan.outputs.items():  # what the target reported at plan time
            self.outputs.setdefault(address, {}).update(known)
        self._lock = threading.Lock()
        self.applied: set[str] = set()  # created or updated in this run

    def run(self) -> ApplyResult:
        start = time.monotonic()
        ops = operations(self.plan)
        workers = min(self.parallelism, ops.number_of_nodes())
        walk = Walk(ops, workers)
        threads = [threading.Thread(target=self._work, args=(walk,), name=f"apply-{i}") for i in range(workers)]
        try:
            for thread in threads:
                thread.start()
            walk.wait_until_done()
        except BaseException:  # Ctrl-C, SIGTERM: what is in flight finishes and is recorded, nothing new starts
            walk.stop()
            raise
        finally:
            try:
                for thread in threads:
                    thread.join()
            except KeyboardInterrupt:  # a second Ctrl-C: the caller must not claim the in-flight work finished
                raise AbandonedApply() from None
        walk.result.seconds = time.monotonic() - start
        return walk.result

    def _work(self, walk: Walk) -> None:
        """One worker: run the most urgent ready operation, release its dependents, take the next."""
        while (op := walk.take()) is not None:
            try:
                self._run_op(walk.graph.nodes[op]["change"], op[0])
            except BaseException as error:  # the operation failed: recorded with its message, as any failure
                message = scrub(_describe(error), self.secrets)
                walk.failed(op, message)
                self._say(f"x {op[0]} {op[1]} failed: {message}")
            else:
                walk.succeeded(op)

    def _run_op(self, change: Change, verb: str) -> None:
        ctx = ApplyContext(outputs=self.outputs, stack=self.state.stack, log=self._say if self.log else None)
        if verb == "delete":
            if change.observed is not None or change.action is Action.REPLACE:
                self._say(f"- deleting {change.address}")
                began = time.monotonic()
                self.provider.delete(change, ctx)
                self._say(f"  deleted {change.address} in {time.monotonic() - began:.1f}s")
            self.state.forget(change.address)
            with self._lock:
                self.outputs.pop(change.address, None)
            return
        resource = change.resource
        if resource is None:
            raise ApplyError(f"{change.address}: the plan has no declaration to {verb} it from")
        if has_unbound_secrets(resource):
            raise ApplyError(f"{change.address}: the plan holds only hashes of its secret values; apply it "
                             "with the stack that declares them")
        if verb == "update" and any(f.forces_replace for f in change.fields):
            forced = ", ".join(f.name for f in change.fields if f.forces_replace)
            raise ApplyError(f"{change.address}: the plan changes it in place, but {forced} cannot change in "
                             "place; make a new plan")
        self._say(f"{'+' if verb == 'create' else '~'} {verb} {change.address}")
        began = time.monotonic()
        if verb == "create":
            self.state.intend(change.address)  # a lost reply must not make our own object look foreign
            outputs = self.provider.create(change, ctx)
        elif change.fields or change.action is Action.UPDATE or change.finishing:
            if suspends(change):  # left suspended if this does not finish: the next plan resumes it
                self.state.intend(change.address)
            outputs = self.provider.update(change, ctx)
        else:  # adopted as it is: keep what the target reported (repository URLs, digests, ...)
            outputs = {**(change.prior.outputs if change.prior else {}), **change.observed_outputs}
        self._say(f"  {verb}d {change.address} in {time.monotonic() - began:.1f}s")  # long waits show where
        with self._lock:
            merged = {**(self.outputs.get(change.address) or {}), **(outputs or {})}
            self.outputs[change.address] = merged
            self.applied.add(change.address)
            # Values computed from outputs that this run produced (a new image digest) are resolved now;
            # everything else is recorded exactly as planned.
            resolve = change.desired is None or bool(self.applied.intersection(change.needs))
        if resolve:
            resource.keep_secret_digests(change.desired)  # the digests the plan showed
        props = resource.desired(self.outputs) if resolve else dict(change.desired or {})
        props = resource.renew_legacy_digests(props)  # digests of the old, fast form go when written
        self.state.record(change.address, StateEntry(
            kind=resource.kind, name=resource.fqn, props=props, outputs={**merged, **resource.recorded(self.outputs)},
            depends_on=list(change.depends_on), owner=resource.owner_name,
            adopted=verb != "create" and (change.adopting or bool(change.prior and change.prior.adopted)),
        ))

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(scrub(text, self.secrets))


def _describe(error: BaseException) -> str:
    if isinstance(error, SpcsIacError):
        return str(error)
    text = str(error) or type(error).__name__
    if not isinstance(error, OSError | ValueError | RuntimeError):
        text = f"{type(error).__name__}: {text}\n{''.join(traceback.format_exception(error)[-3:])}"
    return text
