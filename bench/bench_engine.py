"""Engine figures: plan time for generated stacks, and apply wall time under injected latency.

Run: PYTHONPATH=. python bench/bench_engine.py [--sizes 1000 5000 10000] [--repeat 3] [--latency-ms 50]
Prints, per size, the plan's CPU time (the least of --repeat runs, more for small sizes: CPU time varies
less than wall time on a shared machine), its wall time, the process's peak RSS so far and the plan's peak Python allocations
(tracemalloc, in a separate run that is not timed); then the growth from the smallest to the largest size.
Then apply at parallelism 8 and 32 against the critical-path bound, and the plan of --secrets secrets (each one
salted scrypt, on purpose). Never asserted by the tests. Uses the in-memory target from tests/support.
"""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import time
import tracemalloc

import networkx as nx

from bench.generated import generated_stack
from bench.schedule import describe
from spcs_iac import Database, Secret, Stack
from spcs_iac.apply.executor import operations
from spcs_iac.apply.walk import simulate
from spcs_iac.drivers import api
from spcs_iac.model.digests import forget_digests
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def plan_once(n: int, trace: bool = False) -> tuple[float, float, float, int, int]:
    """(declare s, plan CPU s, plan wall s, objects, peak traced bytes) for a fresh stack of about n objects."""
    t0 = time.perf_counter()
    stack = generated_stack(n)
    declare = time.perf_counter() - t0
    gc.collect()  # what the declarations left behind is not the plan's to collect
    if trace:
        tracemalloc.start()
    with tempfile.TemporaryDirectory() as d:
        c1, t1 = time.process_time(), time.perf_counter()
        # validate + graph + one batched read + diff + ordering, as `spcs-iac plan` runs it
        plan = api.plan(stack, "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=d)
        cpu, wall = time.process_time() - c1, time.perf_counter() - t1
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    assert plan.summary()["create"] == len(stack)
    return declare, cpu, wall, len(stack), peak


def bench_plan(sizes: list[int], repeat: int) -> None:
    cpus: dict[int, float] = {}
    for n in sizes:
        # Small plans take a few hundredths of a second: the least of many runs is steadier than of three.
        runs = [plan_once(n) for _ in range(max(repeat, 30_000 // max(n, 1)))]
        declare, _, _, objects, _ = runs[0]
        cpu, wall = min(r[1] for r in runs), min(r[2] for r in runs)
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
        traced_mib = plan_once(n, trace=True)[4] / 2**20
        cpus[objects] = cpu
        print(f"plan {objects:>6} objects: CPU {cpu:5.2f}s, wall {wall:5.2f}s (validate + graph + read + diff; "
              f"declaring took {declare:.2f}s more); peak RSS so far {rss_mib:6.0f} MiB, plan's peak "
              f"allocations {traced_mib:5.0f} MiB")
    if len(cpus) > 1:
        small, large = min(cpus), max(cpus)
        print(f"plan CPU growth {small} -> {large} objects ({large / small:.1f}x as many): "
              f"{cpus[large] / cpus[small]:.1f}x")


def bench_apply(n: int, latency_ms: int, parallelism: int) -> None:
    stack = generated_stack(n)
    target = MemoryTarget(latency=latency_ms / 1000)
    with tempfile.TemporaryDirectory() as d:
        plan = api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=d)
        ops = operations(plan)
        depth = nx.dag_longest_path_length(ops) + 1
        work = ops.number_of_nodes()
        # Lower bound: the longest chain, or the total work spread over the workers, whichever is larger.
        bound = max(depth, work / parallelism) * latency_ms / 1000
        # The walk's own decisions when an operation costs exactly the latency: what is left is overhead.
        ideal = simulate(ops, parallelism, lambda op: latency_ms / 1000)
        t0 = time.perf_counter()
        result = api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=d, parallelism=parallelism)
        wall = time.perf_counter() - t0
    assert result.ok, result.failed
    print(f"apply {work:>5} ops @ {latency_ms} ms, parallelism {parallelism}: wall {wall:6.2f}s, "
          f"critical-path bound {bound:6.2f}s (depth {depth}), ratio {wall / bound:4.2f}x; "
          f"the walk's order with nothing but latency {ideal:5.2f}s ({ideal / bound:4.2f}x)")
    print(f"    {describe(ops, parallelism, lambda op: 1, latency_ms / 1000, bound, wall)}")


def bench_secrets(n: int) -> None:
    """Plan a stack of ``n`` secrets in a fresh state of mind (no digest remembered): each costs one scrypt,
    on purpose; the planner runs them side by side, one per core."""
    stack = Stack("secrets")
    db = stack.add(Database(name="SECRETS_DB"))
    for i in range(n):
        stack.add(Secret(name=f"SECRET_{i}", database=db, type="GENERIC_STRING", secret_string=f"value-{i}"))
    target = MemoryTarget()
    with tempfile.TemporaryDirectory() as d:
        for phase in ("empty target", "after apply"):
            forget_digests()
            c0, t0 = time.process_time(), time.perf_counter()
            plan = api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=d)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"plan {n} secrets, {phase}: wall {wall:5.2f}s, CPU {cpu:5.2f}s ({plan.summary()})")
            if phase == "empty target":
                assert api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=d).ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000, 10000])
    ap.add_argument("--repeat", type=int, default=3, help="plan runs per size (the least CPU time is shown)")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--apply-size", type=int, default=200)
    ap.add_argument("--parallelism", type=int, default=8)
    ap.add_argument("--secrets", type=int, default=200, help="secrets in the digest bench")
    args = ap.parse_args()
    bench_plan(sorted(args.sizes), args.repeat)
    bench_apply(args.apply_size, args.latency_ms, args.parallelism)
    bench_apply(args.apply_size, args.latency_ms, 32)
    bench_secrets(args.secrets)


if __name__ == "__main__":
    main()
