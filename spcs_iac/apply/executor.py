"""Walk a plan's operations in dependency order, independent branches in parallel.

Each change becomes one or two operations (a replace is delete then create). Creates and updates wait
for the operations of what they depend on; deletes wait for the objects that depended on them. A failed
operation skips only its descendants; everything else finishes, and every success is recorded in the
state immediately, so running apply again converges. Of the operations ready to run, those heading the
longest chain of dependent operations start first.
"""

from __future__ import annotations

import heapq
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from spcs_iac.errors import ApplyError, SpcsIacError
from spcs_iac.model.declaration import has_unbound_secrets
from spcs_iac.model.redact import scrub
from spcs_iac.plan.model import Action, Change, Plan
from spcs_iac.plan.running import suspends
from spcs_iac.plan.target import ApplyContext, Provider
from spcs_iac.state.store import StateEntry, StateStore

Op = tuple[str, str]  # (verb, address); verb in create / update / delete


@dataclass
class ApplyResult:
    done: list[Op] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


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
        walk = _Walk(operations(self.plan))
        self.provider.prepare_apply(self.parallelism)
        workers = [threading.Thread(target=self._work, args=(walk,), name=f"apply-{i}")
                   for i in range(min(self.parallelism, walk.graph.number_of_nodes()))]
        try:
            for worker in workers:
                worker.start()
            walk.wait_until_done()
        except BaseException:  # Ctrl-C, SIGTERM: what is in flight finishes and is recorded, nothing new starts
            walk.stop()
            raise
        finally:
            for worker in workers:
                worker.join()
        walk.result.seconds = time.monotonic() - start
        return walk.result

    def _work(self, walk: _Walk) -> None:
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
        elif change.fields or change.action is Action.UPDATE:
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


def urgency(g: nx.DiGraph) -> dict[Op, int]:
    """For each operation, the most operations that still run one after another from it to the end (itself
    included). Starting the most urgent first keeps the longest chain from waiting behind work that can wait:
    with a few workers, in insertion order, a wide level of independent objects delayed every step after it."""
    rank: dict[Op, int] = {}
    for op in reversed(list(nx.topological_sort(g))):
        rank[op] = 1 + max((rank[s] for s in g.successors(op)), default=0)
    return rank


class _Walk:
    """The operations of one apply as workers take them: ready ones most urgent first (ties in plan order),
    each released by the worker that finished its last dependency, without a round through a dispatcher."""

    def __init__(self, g: nx.DiGraph) -> None:
        self.graph = g
        self.result = ApplyResult()
        self._rank = urgency(g)
        self._order = {op: i for i, op in enumerate(g.nodes)}
        self._waiting = {op: g.in_degree(op) for op in g.nodes}
        self._ready = [self._key(op) for op, n in self._waiting.items() if n == 0]
        heapq.heapify(self._ready)
        self._running = 0
        self._stopped = False
        self._blocked: set[Op] = set()
        self._cond = threading.Condition()

    def _key(self, op: Op) -> tuple[int, int, Op]:
        return -self._rank[op], self._order[op], op

    def _done(self) -> bool:
        return self._stopped or (not self._ready and not self._running)

    def take(self) -> Op | None:
        """The next operation to run; None once nothing is left (or the walk was stopped)."""
        with self._cond:
            while not self._ready and not self._done():
                self._cond.wait()
            if self._stopped or not self._ready:
                return None
            self._running += 1
            return heapq.heappop(self._ready)[2]

    def succeeded(self, op: Op) -> None:
        with self._cond:
            self._running -= 1
            self.result.done.append(op)
            for succ in self.graph.successors(op):
                self._waiting[succ] -= 1
                if self._waiting[succ] == 0 and succ not in self._blocked:
                    heapq.heappush(self._ready, self._key(succ))
            self._cond.notify_all()

    def failed(self, op: Op, message: str) -> None:
        """Only the operation's descendants are skipped; everything else goes on."""
        with self._cond:
            self._running -= 1
            self.result.failed[op[1]] = message
            for desc in nx.descendants(self.graph, op):
                if desc not in self._blocked:
                    self._blocked.add(desc)
                    if desc[1] != op[1]:
                        self.result.skipped.append(f"{desc[0]} {desc[1]}")
            self._cond.notify_all()

    def wait_until_done(self) -> None:
        with self._cond:
            while not self._done():
                self._cond.wait()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


def _describe(error: BaseException) -> str:
    if isinstance(error, SpcsIacError):
        return str(error)
    text = str(error) or type(error).__name__
    if not isinstance(error, OSError | ValueError | RuntimeError):
        text = f"{type(error).__name__}: {text}\n{''.join(traceback.format_exception(error)[-3:])}"
    return text
