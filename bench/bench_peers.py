"""spcs-iac beside Titan Core: the same stack (bench/peer_stack.py: roles, role and privilege grants,
warehouses, databases, schemas, stages, secrets, network rules) planned on an empty account and again after
an apply (a refresh), against the same account emulator in its own process, with injected latency per HTTP
round trip. Each tool runs with the real snowflake.connector its own installation brings: spcs-iac in this
process, Titan Core (titan-core from PyPI) in its own virtualenv (scripts/conformance-env.sh titan), through
bench/peers_titan.py.

Printed for each tool and size: statements the emulator ran, HTTP round trips it served, and the wall and CPU
time of connecting and planning (in the tool's process; imports excluded), and how many changes the plan
showed. Applies run without latency and are not timed. Where a tool fails, its error is printed.

Run: PYTHONPATH=. python bench/bench_peers.py [--sizes 50 500 2000] [--latency-ms 50] [--tools spcs-iac titan]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import snowflake.connector  # noqa: F401 - loaded before timing, as Titan's runner does

from bench.emulator_process import EmulatorProcess
from bench.peer_stack import objects
from spcs_iac import Database, Grant, NetworkRule, Role, RoleGrant, Schema, Secret, Stack, Stage, Warehouse
from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.provider import SnowflakeProvider

ROOT = Path(__file__).resolve().parents[1]
WAREHOUSE = "PEER_READ_WH"  # the connection's warehouse, for both tools (not part of the stack)
SETUP = [f"CREATE WAREHOUSE {WAREHOUSE}"]


def spcs_stack(n: int) -> Stack:
    s = Stack("peers")
    made: dict[tuple[str, ...], Any] = {}
    for o in objects(n):
        kind = o["kind"]
        if kind == "database":
            made[("db", o["name"])] = s.add(Database(name=o["name"]))
        elif kind == "schema":
            made[("schema", o["database"], o["name"])] = s.add(Schema(name=o["name"], database=made[("db", o["database"])]))
        elif kind in ("stage", "secret", "network_rule"):
            where = {"database": made[("db", o["database"])], "schema": made[("schema", o["database"], o["schema"])]}
            if kind == "stage":
                s.add(Stage(name=o["name"], directory_table=o["directory"], **where))
            elif kind == "secret":
                s.add(Secret(name=o["name"], type="GENERIC_STRING", secret_string=o["value"], **where))
            else:
                s.add(NetworkRule(name=o["name"], type="HOST_PORT", mode="EGRESS", value_list=o["value_list"], **where))
        elif kind == "role":
            made[("role", o["name"])] = s.add(Role(name=o["name"]))
        elif kind == "role_grant":
            s.add(RoleGrant(role=made[("role", o["role"])], to_role=o["to_role"]))
        elif kind == "warehouse":
            made[("wh", o["name"])] = s.add(Warehouse(name=o["name"], warehouse_size="XSMALL",
                                                     auto_suspend=o["auto_suspend"], initially_suspended=True))
        elif kind == "grant":
            on = made[("schema", o["database"], o["schema"])] if o["on"] == "schema" else made[("wh", o["warehouse"])]
            s.add(Grant(to=made[("role", o["to"])], on=on, privileges=[o["privilege"]]))
    return s


def run_spcs_iac(params: dict[str, Any], n: int, state: str, action: str) -> dict[str, Any]:
    stack = spcs_stack(n)
    out: dict[str, Any] = {"changes": None, "error": None}
    wall, cpu = time.perf_counter(), time.process_time()
    provider = SnowflakeProvider(stack_name=stack.name, state_dir=state, **params)
    try:
        if action == "plan":
            out["changes"] = len(api.plan(stack, "snowflake", provider=provider, state_dir=state).actionable)
        else:
            result = api.apply(stack, "snowflake", provider=provider, state_dir=state)
            if not result.ok:
                out["error"] = "; ".join(f"{a}: {e}" for a, e in list(result.failed.items())[:3])
    except Exception as exc:  # reported, never hidden
        out["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"
    out["wall"], out["cpu"] = time.perf_counter() - wall, time.process_time() - cpu
    provider.close()
    return out


def titan_python() -> Path:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "conformance-env.sh"), "titan"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"cannot install Titan Core: {done.stderr.strip()[-600:]}")
    return Path(done.stdout.strip().splitlines()[-1]) / "python"


def run_titan(python: Path, params: dict[str, Any], n: int, action: str) -> dict[str, Any]:
    done = subprocess.run([str(python), str(ROOT / "bench" / "peers_titan.py"), json.dumps(params), str(n), action],
                          capture_output=True, text=True, cwd=ROOT, env={"AWS_EC2_METADATA_DISABLED": "true",
                                                                          "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"changes": None, "error": f"exit {done.returncode}: {done.stderr.strip()[-400:]}", "wall": 0, "cpu": 0}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def measure(tool: str, n: int, latency_ms: int, python: Path | None) -> list[str]:
    rows = []
    with EmulatorProcess(ready_delay_s=0.0) as emu, tempfile.TemporaryDirectory() as state:
        for sql in SETUP:
            emu.execute(sql)
        params = {**emu.params, "warehouse": WAREHOUSE, "role": "ACCOUNTADMIN"}

        def run(action: str) -> dict[str, Any]:
            if tool == "titan":
                assert python is not None
                return run_titan(python, params, n, action)
            return run_spcs_iac(params, n, state, action)

        for phase in ("plan, empty account", "apply", "plan after apply"):
            action = "apply" if phase == "apply" else "plan"
            emu.inject(latency_ms=0 if action == "apply" else latency_ms)
            emu.reset_stats()
            got = run(action)
            stats = emu.stats()
            if action == "apply":
                if got["error"]:
                    rows.append(f"| {tool} | {n} | apply (no latency) | {stats['total']} | {stats['round_trips']} | "
                                f"{got['wall']:.2f} s | {got['cpu']:.2f} s | — | failed: {got['error']} |")
                    print(rows[-1], flush=True)
                continue
            rows.append(f"| {tool} | {n} | {phase} | {stats['total']:,} | {stats['round_trips']:,} | "
                        f"{got['wall']:.2f} s | {got['cpu']:.2f} s | {got['changes']} | "
                        f"{'failed: ' + got['error'] if got['error'] else 'ok'} |")
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[50, 500, 2000])
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--tools", nargs="*", default=["spcs-iac", "titan"], choices=["spcs-iac", "titan"])
    args = ap.parse_args()
    python = titan_python() if "titan" in args.tools else None
    print("Objects per size: " + ", ".join(f"{n} -> {len(objects(n))}" for n in args.sizes) +
          f"; {args.latency_ms} ms per HTTP round trip while planning\n")
    print("| tool | objects | phase | statements | round trips | wall | CPU | changes | outcome |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for n in args.sizes:
        for tool in args.tools:
            measure(tool, n, args.latency_ms, python)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
