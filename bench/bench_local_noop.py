"""Local target: a no-op re-plan and re-apply of the quickstart (two services), as a user runs them.

After a first apply, times `spcs-iac plan` and `spcs-iac apply -y` in fresh processes (the CLI's wall and
CPU time, median of N, Python's bytecode cache warm in a temporary PYTHONPYCACHEPREFIX), the same through
the API in a fresh process and in a process that already ran one (what bench_local.py measures), and
`plan --assume-empty` beside them: the part no target can save. Then counts the HTTP requests one no-op
plan sends (Docker engine, registry), checks that nothing was recreated, and times the commands on one
object (status, endpoints, logs, call) in fresh processes.

Run: PYTHONPATH=. SPCS_IAC_BASE_IMAGE=spcs-iac/base:bookworm-py3 python bench/bench_local_noop.py [--runs 5]
Needs Docker and the registry (scripts/setup-system.sh).
"""

from __future__ import annotations

import argparse
import collections
import http.client
import os
import re
import resource
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = """import runpy
stack = runpy.run_path({quickstart!r})["stack"]
stack.name = {name!r}
"""
API_RUN = """import runpy, sys
from spcs_iac.drivers import api
stack = runpy.run_path(sys.argv[1])["stack"]
result = getattr(api, sys.argv[2])(stack, "local", state_dir=sys.argv[3])
assert not (result.plan if sys.argv[2] == "apply" else result).has_changes
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fresh(argv: list[str], env: dict[str, str], runs: int, noop: bool = True) -> tuple[float, float]:
    """Median wall and CPU seconds of a command in new processes (after one run that warms the caches)."""
    subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True)
    walls, cpus = [], []
    for _ in range(runs):
        c0, t0 = children_cpu(), time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(children_cpu() - c0)
        assert done.returncode == 0, done.stdout + done.stderr
        assert not noop or "No changes" in done.stdout, done.stdout  # the CLI says so; API_RUN asserts it
    return statistics.median(walls), statistics.median(cpus)


def in_process(fn: Callable[[], Any], runs: int) -> float:
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def count_requests(fn: Callable[[], Any]) -> collections.Counter[str]:
    """HTTP requests ``fn`` sends, by server and path (ids folded): the Docker engine's and the registry's."""
    seen: collections.Counter[str] = collections.Counter()
    real = http.client.HTTPConnection.putrequest

    def counted(self: http.client.HTTPConnection, method: str, url: str, *a: Any, **k: Any) -> Any:
        path = re.sub(r"/v1\.\d+", "", re.sub(r"[0-9a-f]{64}", "<id>", url.split("?")[0]))
        server = "registry" if url.startswith("/v2/") else "docker"
        seen[f"{server} {method} {path}"] += 1
        return real(self, method, url, *a, **k)

    http.client.HTTPConnection.putrequest = counted  # type: ignore[method-assign]
    try:
        fn()
    finally:
        http.client.HTTPConnection.putrequest = real  # type: ignore[method-assign]
    return seen


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    import docker

    from spcs_iac.drivers import api
    from spcs_iac.targets.local import naming
    from spcs_iac.targets.local.registry import LocalRegistry

    name = f"noopbench{os.getpid()}"
    client = docker.from_env()
    with tempfile.TemporaryDirectory() as state, tempfile.TemporaryDirectory() as work:
        stack_file = Path(work) / "quickstart_bench.py"
        stack_file.write_text(STACK_FILE.format(quickstart=str(ROOT / "stacks" / "quickstart.py"), name=name))

        def stack() -> Any:
            return runpy.run_path(str(stack_file))["stack"]

        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(Path(work) / "pycache"))
        cli = [sys.executable, "-c", "from spcs_iac.drivers.cli.main import app; app()"]
        t0 = time.perf_counter()
        assert api.apply(stack(), "local", state_dir=state).ok
        print(f"first apply (builds, pushes, starts both services): {time.perf_counter() - t0:.1f}s")
        try:
            ids = {c.id for c in client.containers.list(all=True, filters={"label": f"{naming.LABEL_STACK}={name}"})}
            target = [str(stack_file), "--state-dir", state]
            floor = fresh([*cli, "plan", *target, "--assume-empty"], env, args.runs, noop=False)
            plan = fresh([*cli, "plan", *target], env, args.runs)
            apply = fresh([*cli, "apply", "-y", *target], env, args.runs)
            api_plan = fresh([sys.executable, "-c", API_RUN, str(stack_file), "plan", state], env, args.runs, False)
            api_apply = fresh([sys.executable, "-c", API_RUN, str(stack_file), "apply", state], env, args.runs, False)
            warm_plan = in_process(lambda: api.plan(stack(), "local", state_dir=state), args.runs)
            warm_apply = in_process(lambda: api.apply(stack(), "local", state_dir=state), args.runs)
            requests = count_requests(lambda: api.plan(stack(), "local", state_dir=state))
            service, function = "CONTAINER_HOL_DB.PUBLIC.CONVERT_API", "CONTAINER_HOL_DB.PUBLIC.CONVERT_UDF"
            where = ["--state-dir", state, "--stack", str(stack_file)]
            one_object = {  # commands on one object: they reach its provider, not the planner
                "status": fresh([*cli, "status", service, *where], env, args.runs, noop=False),
                "endpoints": fresh([*cli, "endpoints", service, *where], env, args.runs, noop=False),
                "logs": fresh([*cli, "logs", service, *where], env, args.runs, noop=False),
                "call": fresh([*cli, "call", function, "12", *where], env, args.runs, noop=False),
            }
            after = {c.id for c in client.containers.list(all=True, filters={"label": f"{naming.LABEL_STACK}={name}"})}
            print(f"median of {args.runs}, wall (CPU):")
            print(f"  CLI  plan --assume-empty (no target read) {floor[0]:.2f}s ({floor[1]:.2f}s)")
            print(f"  CLI  no-op re-plan                         {plan[0]:.2f}s ({plan[1]:.2f}s)")
            print(f"  CLI  no-op re-apply -y                     {apply[0]:.2f}s ({apply[1]:.2f}s)")
            print(f"  API  no-op plan / apply, fresh process     {api_plan[0]:.2f}s / {api_apply[0]:.2f}s")
            print(f"  API  no-op plan / apply, warm process      {warm_plan:.3f}s / {warm_apply:.3f}s")
            print(f"  containers recreated: {len(ids - after)} of {len(ids)}")
            print("  CLI  on one object: " + ", ".join(f"{k} {w:.2f}s ({c:.2f}s)" for k, (w, c) in one_object.items()))
            print("  HTTP requests of one no-op plan: " + ", ".join(f"{n} {k}" for k, n in sorted(requests.items())))
        finally:
            api.destroy(stack(), "local", state_dir=state)
            LocalRegistry(naming.local_dir(state)).stop()  # the registry is a daemon; this one was ours


if __name__ == "__main__":
    main()
