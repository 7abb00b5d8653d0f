"""A free worker keeps itself free for more urgent operations about to be released, but only when that can
shorten the apply, and only for as long as the durations seen so far say it is worth it. The walk's
decisions are run on a virtual clock (`simulate`), so the timings are exact; one test runs real threads."""

from __future__ import annotations

import threading
import time

import networkx as nx

from spcs_iac.apply.walk import Op, Walk, simulate


def _graph(edges: list[tuple[str, str]], nodes: list[str]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(("create", n) for n in nodes)  # insertion order is plan order: it breaks ties
    g.add_edges_from((("create", a), ("create", b)) for a, b in edges)
    return g


# A role whose creation releases two urgent steps at once (each followed by one more), two short
# operations that end before it, and two grants that can run whenever.
FAN_OUT = _graph(
    edges=[("role.R", "schema.A"), ("role.R", "schema.B"), ("schema.A", "stage.A"), ("schema.B", "stage.B")],
    nodes=["role.R", "warehouse.W1", "warehouse.W2", "grant.G1", "grant.G2",
           "schema.A", "schema.B", "stage.A", "stage.B"],
)


def _seconds(op: Op) -> float:
    return 0.5 if op[1].startswith("warehouse.") else 1.0


def test_workers_stay_free_for_the_steps_a_running_operation_is_about_to_release() -> None:
    # Without looking ahead, the two workers freed at 0.5 s take the grants, and when the role ends at 1 s only
    # its own worker is free: the second schema waits until 1.5 s and the apply ends at 3.5 s. Looking ahead,
    # they wait for the role, both schemas start at 1 s, and the grants fit beside the stages: 3 s.
    assert simulate(FAN_OUT, 3, _seconds) == 3.0


def test_no_worker_waits_when_the_work_left_outweighs_the_chain() -> None:
    # With two workers the seven operations left outweigh the two steps after the role: an idle worker would
    # cost more than a late schema, so the worker freed at 0.5 s takes the next warehouse at once, and the
    # apply ends when the work spread over both workers does.
    schedule: dict[Op, tuple[float, float]] = {}
    assert simulate(FAN_OUT, 2, _seconds, schedule) == 4.0
    assert schedule[("create", "warehouse.W2")] == (0.5, 1.0)


def test_a_predecessor_running_far_past_its_usual_time_stops_holding_workers_back() -> None:
    # Nothing like the role has finished before, so it is expected to take as long as the warehouses did
    # (0.5 s); it takes 60 s. The two free workers hold back for the schemas until the role is one grant's
    # length overdue (1 s), then take the grants, which end at 2 s rather than after the role.
    schedule: dict[Op, tuple[float, float]] = {}
    total = simulate(FAN_OUT, 3, lambda op: 60.0 if op[1] == "role.R" else _seconds(op), schedule)
    assert total == 62.0  # the role, then a schema and its stage
    assert [schedule[("create", g)] for g in ("grant.G1", "grant.G2")] == [(1.0, 2.0), (1.0, 2.0)]


def test_real_workers_make_the_same_decisions() -> None:
    # The same walk with threads and real sleeps (0.4 s per simulated second): both schemas start as soon as
    # the role ends; without looking ahead the second one would start 0.2 s later.
    scale, walk = 0.4, Walk(FAN_OUT, 3)
    started: dict[Op, float] = {}
    ended: dict[Op, float] = {}
    lock = threading.Lock()

    def worker() -> None:
        while (op := walk.take()) is not None:
            with lock:
                started[op] = time.monotonic()
            time.sleep(_seconds(op) * scale)
            with lock:
                ended[op] = time.monotonic()
            walk.succeeded(op)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert walk.result.ok and len(walk.result.done) == len(FAN_OUT)
    role_end = ended[("create", "role.R")]
    late = {s: round(started[("create", s)] - role_end, 3) for s in ("schema.A", "schema.B")}
    assert all(delay < 0.1 for delay in late.values()), late
