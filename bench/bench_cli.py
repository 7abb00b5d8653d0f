"""CLI start-up figures: wall time of small commands, each run in a fresh process (median of N runs).

Run: python bench/bench_cli.py [--runs 7] [--size 50]
Prints the wall and CPU time of `--help`, `validate` and `plan --assume-empty` on stacks/quickstart.py and
on a generated stack, with Python's bytecode cache warm (what an installed CLI sees) and, for reference, with
no bytecode cache for this project's modules (PYTHONDONTWRITEBYTECODE=1 and a clean checkout). The caches go
to a temporary directory (PYTHONPYCACHEPREFIX), never into the source tree. Never asserted by the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATED = """import sys
sys.path.insert(0, {root!r})
from bench.generated import generated_stack
stack = generated_stack({size}, name="bench{size}")
"""


def cli_command() -> list[str]:
    """The installed console script run by this interpreter (no shell shim in front of it), else the module."""
    script = Path(sys.executable).parent / "spcs-iac"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "from spcs_iac.drivers.cli.main import app; app()"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and median CPU (user + system) seconds; CPU varies less on a shared machine."""
    subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True)  # warm-up: writes the caches
    walls, cpus = [], []
    for _ in range(runs):
        c0, t0 = children_cpu(), time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(children_cpu() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--size", type=int, default=50, help="objects in the generated stack")
    args = ap.parse_args()
    base = cli_command()
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / f"generated{args.size}.py"
        generated.write_text(GENERATED.format(root=str(ROOT), size=args.size))
        state = str(Path(tmp) / "state")
        warm = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        warm.pop("PYTHONDONTWRITEBYTECODE", None)
        source = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        source.pop("PYTHONPYCACHEPREFIX", None)
        cases = [("--help", ["--help"])]
        for label, path in (("quickstart", "stacks/quickstart.py"), (f"generated {args.size}", str(generated))):
            cases.append((f"validate {label}", ["validate", path, "--state-dir", state]))
            cases.append((f"plan --assume-empty {label}", ["plan", path, "--assume-empty", "--state-dir", state]))
        print(f"median of {args.runs} runs, each a fresh process: {' '.join(base)}")
        print(f"{'':<38} {'warm bytecode':^23} {'no bytecode cache':^23}")
        print(f"{'command':<38} {'wall':>11} {'cpu':>11} {'wall':>11} {'cpu':>11}")
        for label, argv in cases:
            w_wall, w_cpu = timed([*base, *argv], warm, args.runs)
            s_wall, s_cpu = timed([*base, *argv], source, args.runs)
            print(f"{label:<38} {w_wall:>9.3f} s {w_cpu:>9.3f} s {s_wall:>9.3f} s {s_cpu:>9.3f} s")


if __name__ == "__main__":
    main()
