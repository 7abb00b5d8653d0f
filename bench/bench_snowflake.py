"""Snowflake target figures: round trips (HTTP requests), statements and wall time to plan generated stacks
against the account emulator, with injected network latency paid once per round trip (the connector is real;
the account is emulated).

Each plan is measured twice: reads batched (several statements per request, then one SELECT of their
results: targets/snowflake/batch.py; needs a warehouse in the session) and one statement per request (as on
a connection without a warehouse).

Then apply on an empty account (the realistic mix, --apply-size objects) at parallelism 8 and 32, with the
emulator in its own process (bench/emulator_process.py: its CPU is not the client's), against the
critical-path bound: each operation weighs the statements it sends (USE ROLE aside; counted in a first apply
that runs one operation at a time), and the bound is the heaviest chain of dependent operations, or all the
statements spread over the workers if that is more, times the latency. Also shown: what the walk's order
would take with no cost but the latency (the same operations and weights), and the best any order could do
(bench/schedule.py; that bound can be out of reach when many operations are released late), and the floor the
connector sets by itself: as many threads as the parallelism, each on a session of its own sending one read
after another through the connector with nothing else running, against the latency alone.

Run: PYTHONPATH=. python bench/bench_snowflake.py [--sizes 200 2000] [--latency-ms 50] [--apply-size 200]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from typing import Any

import networkx as nx

from bench.emulator_process import EmulatorProcess
from bench.generated import generated_stack
from bench.schedule import describe
from spcs_emulator.testing import running_emulator
from spcs_iac.apply.executor import operations
from spcs_iac.apply.walk import simulate
from spcs_iac.drivers import api
from spcs_iac.plan.model import Change
from spcs_iac.plan.target import ApplyContext
from spcs_iac.targets.snowflake.connection import _connect
from spcs_iac.targets.snowflake.provider import SnowflakeProvider

WAREHOUSE = "BENCH_READ_WH"  # the reads' session warehouse (not part of the stack)


def measure(n: int, latency_ms: int, fixed: int | None) -> None:
    with running_emulator(ready_delay_s=0.0) as emu, tempfile.TemporaryDirectory() as state:
        emu.emulator.execute(emu.emulator.login("bench"), f"CREATE WAREHOUSE {WAREHOUSE}")
        params = emu.connection_params()
        stack = generated_stack(n, fixed=fixed)
        shape = "realistic mix" if fixed else "worst case (roles, rules, integrations, functions scale too)"
        print(f"-- {shape}")

        def provider(batched: bool = False) -> SnowflakeProvider:
            p = SnowflakeProvider(stack_name=stack.name, state_dir=state, warehouse=WAREHOUSE, **params)
            if not batched:
                p.db.multi_statement = False  # one statement per request
            return p

        for phase in ("empty target", "after apply"):
            for batched in (True, False):
                emu.emulator.inject(latency_ms=latency_ms)
                emu.emulator.reset_stats()
                p = provider(batched)
                t0 = time.perf_counter()
                plan = api.plan(stack, "snowflake", provider=p, state_dir=state)
                wall = time.perf_counter() - t0
                stats = emu.emulator.stats()
                p.close()
                mode = "batched" if batched else "one per request"
                print(f"plan {len(stack):>5} objects, {phase:>12}, {mode:>15}: {stats['round_trips']:>3} round trips, "
                      f"{stats['total']:>3} statements, {wall:6.2f}s wall @ {latency_ms} ms/round trip  "
                      f"({plan.summary()})", flush=True)
            if phase == "empty target":
                emu.emulator.inject(latency_ms=0)
                applier = provider()
                try:
                    result = api.apply(stack, "snowflake", provider=applier, state_dir=state, parallelism=16)
                finally:
                    applier.close()
                assert result.ok, list(result.failed.items())[:3]


class CountingProvider(SnowflakeProvider):
    """Records the statements each operation sends, USE ROLE aside (exact only one operation at a time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: dict[tuple[str, str], int] = {}

    def _counted(self, verb: str, change: Change, run: Any) -> Any:
        start = len(self.db.log)
        try:
            return run()
        finally:
            self.sent[(verb, change.address)] = sum(1 for s in self.db.log[start:] if not s.startswith("USE ROLE"))

    def create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        return self._counted("create", change, lambda: super(CountingProvider, self).create(change, ctx))

    def update(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        return self._counted("update", change, lambda: super(CountingProvider, self).update(change, ctx))


def measure_apply(n: int, latency_ms: int, parallelisms: list[int]) -> None:
    stack = generated_stack(n, fixed=5)
    with EmulatorProcess(ready_delay_s=0.0) as emu, tempfile.TemporaryDirectory() as state:
        counting = CountingProvider(stack_name=stack.name, state_dir=state, **emu.params)
        ops = operations(api.plan(stack, "snowflake", provider=counting, state_dir=state))
        assert api.apply(stack, "snowflake", provider=counting, state_dir=state, parallelism=1).ok
        counting.close()
    weight = {op: counting.sent.get(op, 0) for op in ops}
    heaviest: dict[Any, int] = {}
    for op in nx.topological_sort(ops):
        heaviest[op] = weight[op] + max((heaviest[q] for q in ops.predecessors(op)), default=0)
    chain, total = max(heaviest.values()), sum(weight.values())
    print(f"-- apply {n} objects on an empty account (realistic mix): {len(ops)} operations, {total} statements "
          f"(USE ROLE aside), heaviest chain {chain} statements")
    for parallelism in parallelisms:
        with EmulatorProcess(ready_delay_s=0.0) as emu, tempfile.TemporaryDirectory() as state:
            p = SnowflakeProvider(stack_name=stack.name, state_dir=state, **emu.params)
            api.plan(stack, "snowflake", provider=p, state_dir=state)  # connected, as a plan before apply
            emu.inject(latency_ms=latency_ms)
            emu.reset_stats()
            began = time.perf_counter()
            result = api.apply(stack, "snowflake", provider=p, state_dir=state, parallelism=parallelism)
            wall = time.perf_counter() - began
            stats = emu.stats()
            p.close()
        assert result.ok, list(result.failed.items())[:3]
        bound = max(chain, total / parallelism) * latency_ms / 1000
        ideal = simulate(ops, parallelism, lambda op: weight[op] * latency_ms / 1000)
        kinds = stats["round_trips_by_kind"]
        uses = stats["by_keyword"].get("USE", 0)
        print(f"apply @ {latency_ms} ms/round trip, parallelism {parallelism:>2}: operations {result.seconds:5.2f}s "
              f"(whole apply with its plan {wall:5.2f}s), critical-path bound {bound:5.2f}s: ratio "
              f"{result.seconds / bound:4.2f}x; the walk's order with nothing but latency {ideal:5.2f}s "
              f"({ideal / bound:4.2f}x); {kinds.get('query', 0)} requests ({uses} USE ROLE), "
              f"{kinds.get('login', 0)} logins", flush=True)
        best = describe(ops, parallelism, lambda op: weight[op], latency_ms / 1000, bound, result.seconds)
        print(f"    {best}", flush=True)
        print(f"    {connector_floor(parallelism, total, latency_ms)}", flush=True)


def connector_floor(parallelism: int, statements: int, latency_ms: int) -> str:
    """What the connector alone adds at this parallelism: ``statements`` reads spread over ``parallelism``
    threads, each on its own logged-in session, against their latency alone."""
    per_thread = max(1, round(statements / parallelism))
    with EmulatorProcess(ready_delay_s=0.0) as emu:
        sessions = [_connect(emu.params) for _ in range(parallelism)]
        emu.inject(latency_ms=latency_ms)

        def reads(conn: Any) -> None:
            for i in range(per_thread):
                cur = conn.cursor()
                cur.execute(f"SHOW SERVICES LIKE 'S{i}' IN ACCOUNT")
                cur.fetchall()
                cur.close()

        threads = [threading.Thread(target=reads, args=(c,)) for c in sessions]
        began, cpu = time.perf_counter(), time.process_time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        emu.inject(latency_ms=0)
        for c in sessions:
            c.close()
    ideal = per_thread * latency_ms / 1000
    return (f"the connector alone: {parallelism} sessions x {per_thread} reads in {wall:4.2f}s against "
            f"{ideal:4.2f}s of latency ({wall / ideal:4.2f}x), {cpu * 1000 / (per_thread * parallelism):3.1f} ms "
            f"of client CPU per request")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[200, 2000])
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--apply-size", type=int, default=200)
    ap.add_argument("--parallelism", type=int, nargs="*", default=[8, 32])
    args = ap.parse_args()
    measure_apply(args.apply_size, args.latency_ms, args.parallelism)
    for n in args.sizes:
        measure(n, args.latency_ms, fixed=5)
    if args.sizes:
        measure(args.sizes[-1], args.latency_ms, fixed=None)


if __name__ == "__main__":
    main()
