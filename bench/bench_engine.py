"""Engine figures: plan time for generated stacks, and apply wall time under injected latency.

Run: PYTHONPATH=. python bench/bench_engine.py [--sizes 1000 10000] [--latency-ms 50]
Prints the figures (never asserted by the tests). Uses the in-memory target from tests/support.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import networkx as nx

from bench.generated import generated_stack
from spcs_iac.apply.executor import operations
from spcs_iac.drivers import api
from spcs_iac.graph.build import build_graph
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def bench_plan(n: int) -> None:
    t0 = time.perf_counter()
    stack = generated_stack(n)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        # stack.plan = validate + graph + one batched read + diff + ordering, as `spcs-iac plan` runs it
        plan = api.plan(stack, "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=d)
        t2 = time.perf_counter()
    edges = build_graph(stack).number_of_edges()
    print(f"plan {len(stack):>6} objects: {t2 - t1:5.2f}s (validate + graph + read + diff; declaring the "
          f"objects took {t1 - t0:.2f}s more)  [{edges} edges, {plan.summary()['create']} creates]")


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
        t0 = time.perf_counter()
        result = api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=d, parallelism=parallelism)
        wall = time.perf_counter() - t0
    assert result.ok, result.failed
    print(f"apply {work:>5} ops @ {latency_ms} ms, parallelism {parallelism}: wall {wall:6.2f}s, "
          f"critical-path bound {bound:6.2f}s (depth {depth}), ratio {wall / bound:4.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--apply-size", type=int, default=200)
    ap.add_argument("--parallelism", type=int, default=8)
    args = ap.parse_args()
    for n in args.sizes:
        bench_plan(n)
    bench_apply(args.apply_size, args.latency_ms, args.parallelism)
    bench_apply(args.apply_size, args.latency_ms, 32)


if __name__ == "__main__":
    main()
