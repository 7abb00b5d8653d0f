"""The order in which apply's workers take operations.

Ready operations go most urgent first: the one heading the longest chain of dependent operations (ties in plan
order). Alone that is not enough once every worker is busy: workers finish a few microseconds apart, and the
first one free takes the best operation ready *at that moment*, a grant that could wait, while the next step
of the longest chain is released a moment later by another worker and finds no one free. So a free worker
also looks ahead: when operations more urgent than the best ready one are about to be released (everything
they wait for is running and, by the durations seen so far in this run, due before the ready one would
end), it keeps itself free for them. Only for as long as that estimate holds: a predecessor running past
its usual time (a compute pool that takes minutes) stops holding workers back.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx

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


def urgency(g: nx.DiGraph) -> dict[Op, int]:
    """For each operation, the most operations that still run one after another from it to the end (itself
    included). Starting the most urgent first keeps the longest chain from waiting behind work that can wait:
    with a few workers, in insertion order, a wide level of independent objects delayed every step after it."""
    rank: dict[Op, int] = {}
    for op in reversed(list(nx.topological_sort(g))):
        rank[op] = 1 + max((rank[s] for s in g.successors(op)), default=0)
    return rank


def duration_class(op: Op) -> tuple[str, str]:
    """Operations expected to take about as long as each other: the same verb on the same kind."""
    return op[0], op[1].split(".", 1)[0]


class Durations:
    """The mean duration of each class of operation finished so far in this run; for a class with none
    finished yet, the mean of all operations. Nothing is assumed before any operation has finished."""

    def __init__(self) -> None:
        self._sum: dict[tuple[str, str], float] = defaultdict(float)
        self._count: dict[tuple[str, str], int] = defaultdict(int)
        self._all = [0.0, 0]

    def add(self, op: Op, seconds: float) -> None:
        key = duration_class(op)
        self._sum[key] += seconds
        self._count[key] += 1
        self._all[0] += seconds
        self._all[1] += 1

    def expected(self, op: Op) -> float | None:
        key = duration_class(op)
        n = self._count.get(key)
        if n:
            return self._sum[key] / n
        return self._all[0] / self._all[1] if self._all[1] else None


class Walk:
    """The operations of one apply as `workers` threads take them: each released by the worker that finished
    its last dependency, without a round through a dispatcher."""

    def __init__(self, g: nx.DiGraph, workers: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.graph = g
        self.workers = max(1, workers)
        self.result = ApplyResult()
        self.durations = Durations()
        self._clock = clock
        self._rank = urgency(g)
        self._order = {op: i for i, op in enumerate(g.nodes)}
        self._waiting = {op: g.in_degree(op) for op in g.nodes}  # dependencies not yet finished
        self._in_flight: dict[Op, int] = defaultdict(int)  # of those, how many are running
        self._active: dict[Op, float] = {}  # running operations and when each started
        self._unstarted = g.number_of_nodes()  # operations no worker has taken yet
        # Operations all of whose unfinished dependencies are running, by urgency: those a worker may wait for.
        self._imminent: dict[int, set[Op]] = defaultdict(set)
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
        """The next operation to run, waiting for one; None once nothing is left (or the walk was stopped)."""
        with self._cond:
            while not self._done():
                got = self.poll()
                if isinstance(got, tuple):
                    return got
                self._cond.wait(got)  # None: until an operation ends
            return None

    def poll(self) -> Op | float | None:
        """Without waiting (under the walk's lock, or from a single thread): the operation to start now; else
        how many seconds this worker should stay free before asking again; else None, nothing to start
        before an operation ends."""
        if self._done() or not self._ready:
            return None
        hold = self._hold_for_imminent(self._ready[0][2])
        if hold is None:
            return self._start(heapq.heappop(self._ready)[2])
        return hold

    def _start(self, op: Op) -> Op:
        self._running += 1
        self._active[op] = self._clock()
        self._unstarted -= 1
        for succ in self.graph.successors(op):
            self._in_flight[succ] += 1
            if self._in_flight[succ] == self._waiting[succ] and succ not in self._blocked:
                self._imminent[self._rank[succ]].add(succ)
        return op

    def _hold_for_imminent(self, candidate: Op) -> float | None:
        """Seconds this free worker should stay free for more urgent operations about to be released, or None
        to start `candidate` now."""
        own = self.durations.expected(candidate)
        if own is None:
            return None
        free = self.workers - self._running  # this worker included
        now = self._clock()
        rank = self._rank[candidate]
        # Only a chain at least as long as the work left spread over the workers decides when the apply
        # ends; while the work left is the longer, an idle worker costs more than a late step of a chain.
        critical = self._unstarted / self.workers
        due: list[float] = []
        for level in sorted((r for r, ops in self._imminent.items() if r > rank and r >= critical and ops),
                            reverse=True):
            for op in self._imminent[level]:
                ready_at = self._expected_ready(op)
                # Worth it only if it is released before the candidate would end, and only while its
                # dependencies keep to their usual time: past that, holding could last for minutes.
                if ready_at is not None and ready_at < now + own and now < ready_at + own:
                    due.append(ready_at + own - now)
                    if len(due) >= free:
                        return max(min(due), 0.001)
        return None

    def _expected_ready(self, op: Op) -> float | None:
        """When the last running dependency of `op` should end; None if one's duration is not known yet."""
        ends = []
        for pred in self.graph.predecessors(op):
            if pred in self._active:
                took = self.durations.expected(pred)
                if took is None:
                    return None
                ends.append(self._active[pred] + took)
        return max(ends, default=None)

    def _finish(self, op: Op) -> None:
        self._running -= 1
        self.durations.add(op, self._clock() - self._active.pop(op))

    def succeeded(self, op: Op) -> None:
        with self._cond:
            self._finish(op)
            self.result.done.append(op)
            for succ in self.graph.successors(op):
                self._waiting[succ] -= 1
                self._in_flight[succ] -= 1
                if self._waiting[succ] == 0:
                    self._imminent[self._rank[succ]].discard(succ)
                    if succ not in self._blocked:
                        heapq.heappush(self._ready, self._key(succ))
            self._cond.notify_all()

    def failed(self, op: Op, message: str) -> None:
        """Only the operation's descendants are skipped; everything else goes on."""
        with self._cond:
            self._finish(op)
            self.result.failed[op[1]] = message
            for succ in self.graph.successors(op):
                self._in_flight[succ] -= 1
            for desc in nx.descendants(self.graph, op):
                self._imminent[self._rank[desc]].discard(desc)
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


def simulate(g: nx.DiGraph, workers: int, duration: Callable[[Op], float],
             schedule: dict[Op, tuple[float, float]] | None = None) -> float:
    """How long the walk takes when each operation lasts exactly ``duration(op)`` seconds and costs nothing
    else: the same decisions the workers make, on a virtual clock. Workers that finish at the same instant
    ask for their next operation one after another, as real ones, a moment apart, do. ``schedule``, if given,
    receives each operation's start and end."""
    clock = [0.0]
    walk = Walk(g, workers, clock=lambda: clock[0])
    running: list[tuple[float, int, Op]] = []
    free, started, wake = walk.workers, 0, None

    def fill() -> None:
        nonlocal free, started, wake
        wake = None
        while free:
            got = walk.poll()
            if not isinstance(got, tuple):
                wake = None if got is None else clock[0] + got
                return
            end = clock[0] + duration(got)
            if schedule is not None:
                schedule[got] = (clock[0], end)
            heapq.heappush(running, (end, started, got))
            started += 1
            free -= 1

    fill()
    while running:
        if wake is not None and wake < running[0][0]:
            clock[0] = wake
        else:
            clock[0], _, op = heapq.heappop(running)
            free += 1
            walk.succeeded(op)
        fill()
    return clock[0]
