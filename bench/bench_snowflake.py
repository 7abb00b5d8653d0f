"""Snowflake target figures: round trips (HTTP requests), statements and wall time to plan generated stacks
against the account emulator, with injected network latency paid once per round trip (the connector is real;
the account is emulated).

Each plan is measured twice: reads batched (several statements per request, then one SELECT of their
results: targets/snowflake/batch.py; needs a warehouse in the session) and one statement per request (as on
a connection without a warehouse).

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
