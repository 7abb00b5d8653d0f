"""Snowflake target figures: queries and wall time to plan generated stacks against the account
emulator with injected latency per query (the connector is real; the account is emulated).

Run: PYTHONPATH=. python bench/bench_snowflake.py [--sizes 200 2000] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from bench.generated import generated_stack
from spcs_emulator.testing import running_emulator
from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.provider import SnowflakeProvider


def measure(n: int, latency_ms: int, fixed: int | None) -> None:
    with running_emulator(ready_delay_s=0.0) as emu, tempfile.TemporaryDirectory() as state:
        params = emu.connection_params()
        stack = generated_stack(n, fixed=fixed)
        shape = "realistic mix" if fixed else "worst case (roles, rules, integrations, functions scale too)"
        print(f"-- {shape}")

        def provider() -> SnowflakeProvider:
            return SnowflakeProvider(stack_name=stack.name, state_dir=state, **params)

        for phase in ("empty target", "after apply"):
            emu.emulator.inject(latency_ms=latency_ms)
            emu.emulator.reset_stats()
            p = provider()
            t0 = time.perf_counter()
            plan = api.plan(stack, "snowflake", provider=p, state_dir=state)
            wall = time.perf_counter() - t0
            queries = emu.emulator.stats()["total"]
            p.close()
            print(f"plan {len(stack):>5} objects, {phase:>12}: {queries:>3} queries, {wall:6.2f}s wall "
                  f"@ {latency_ms} ms/query  ({plan.summary()})")
            if phase == "empty target":
                emu.emulator.inject(latency_ms=0)
                result = api.apply(stack, "snowflake", provider=provider(), state_dir=state, parallelism=16)
                assert result.ok, list(result.failed.items())[:3]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[200, 2000])
    ap.add_argument("--latency-ms", type=int, default=50)
    args = ap.parse_args()
    for n in args.sizes:
        measure(n, args.latency_ms, fixed=5)
    measure(args.sizes[-1], args.latency_ms, fixed=None)


if __name__ == "__main__":
    main()
