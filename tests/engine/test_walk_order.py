"""Which ready operation apply starts first: the one heading the longest chain of dependent operations, so that
the chain never waits behind independent work (with few workers, a wide level used to delay every step after
it). Against the in-memory provider; the order is read from the operations it recorded."""

from __future__ import annotations

from pathlib import Path

from spcs_iac import Database, Role, Schema, Stack, Stage, Warehouse
from spcs_iac.apply.executor import operations
from spcs_iac.apply.walk import urgency
from spcs_iac.drivers import api
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def _stack() -> Stack:
    s = Stack("walk")
    for i in range(4):  # declared first: first in plan order, and independent of everything
        s.add(Warehouse(name=f"WH_{i}"))
    owner = s.add(Role(name="CHAIN_OWNER"))
    db = s.add(Database(name="CHAIN_DB", owner=owner))
    schema = s.add(Schema(name="CHAIN_SCHEMA", database=db, owner=owner))
    s.add(Stage(name="CHAIN_STAGE", database=db, schema=schema, owner=owner))
    return s


CHAIN = ["role.CHAIN_OWNER", "database.CHAIN_DB", "schema.CHAIN_DB.CHAIN_SCHEMA",
         "stage.CHAIN_DB.CHAIN_SCHEMA.CHAIN_STAGE"]


def test_the_longest_chain_starts_first_and_never_waits_behind_independent_work(tmp_path: Path) -> None:
    target = MemoryTarget()
    result = api.apply(_stack(), "memory", provider=MemoryProvider(target=target), state_dir=tmp_path,
                       parallelism=1)
    assert result.ok, result.failed
    order = [op.address for op in sorted(target.ops, key=lambda op: op.start)]
    # The stage ends the chain: nothing waits for it, so it ties with the warehouses (plan order decides).
    assert order[:3] == CHAIN[:3], order


def test_urgency_counts_the_operations_still_to_run_one_after_another(tmp_path: Path) -> None:
    plan = api.plan(_stack(), "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=tmp_path)
    rank = {address: n for (_, address), n in urgency(operations(plan)).items()}
    assert [rank[a] for a in CHAIN] == [4, 3, 2, 1]
    assert {rank[f"warehouse.WH_{i}"] for i in range(4)} == {1}


def test_with_two_workers_the_chain_runs_beside_the_independent_work(tmp_path: Path) -> None:
    target = MemoryTarget(latency=0.02)  # operations that last: the workers' order is what they overlap
    assert api.apply(_stack(), "memory", provider=MemoryProvider(target=target), state_dir=tmp_path,
                     parallelism=2).ok
    started = sorted(target.ops, key=lambda op: op.start)
    # The role starts at once, and the steps the stage waits for each start as soon as the one before them
    # is recorded. The other worker, finishing a warehouse in that moment (the step before is recorded in
    # the state before its dependents are released), may take one more warehouse first, never two: in
    # first-in first-out order both workers took the waiting warehouses before the chain's next step.
    assert "role.CHAIN_OWNER" in [op.address for op in started[:2]]
    ends = {op.address: op.end for op in target.ops}
    for before, step in zip(CHAIN[:3], CHAIN[1:3], strict=False):
        waited_behind = [op.address for op in started
                         if op.address.startswith("warehouse.") and ends[before] <= op.start
                         and op.start < next(o.start for o in started if o.address == step)]
        assert len(waited_behind) <= 1, (step, waited_behind)
