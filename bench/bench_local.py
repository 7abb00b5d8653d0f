"""Local target figures for the quickstart.

1. Time for the quickstart's two services to become ready with `spcs-iac apply` versus `docker-compose up`
   of the same containers (same images by digest, same ports, same stage-backed volume), both measured
   until each service's readiness path answers 200. Images are built and pushed beforehand for both.
2. No-op re-plan and re-apply time, and how many containers they recreate (goal: 0).

Run: PYTHONPATH=. SPCS_IAC_BASE_IMAGE=spcs-iac/base:bookworm-py3 python bench/bench_local.py [--rounds 3]
Needs Docker (scripts/setup-system.sh) and docker-compose (Debian package; installed if missing).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import docker

from spcs_iac.drivers import api
from spcs_iac.state.store import StateStore
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.registry import LocalRegistry

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"CONTAINER_HOL_DB.PUBLIC.JUPYTER_SNOWPARK_SERVICE": ("jupyter-snowpark", 8888, "/api/status"),
            "CONTAINER_HOL_DB.PUBLIC.CONVERT_API": ("convert-api", 9090, "/healthcheck")}


def quickstart(name: str, with_services: bool = True):  # type: ignore[no-untyped-def]
    stack = runpy.run_path(str(ROOT / "stacks" / "quickstart.py"))["stack"]
    stack.name = name
    if not with_services:
        stack._added = [r for r in stack._added if r.kind not in ("service", "service_function")]
        stack._index = None
    return stack


def wait_ready(urls: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        url = pending[0]
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - local endpoints
                if resp.status == 200:
                    pending.pop(0)
                    continue
        except OSError:
            pass
        time.sleep(0.02)
    if pending:
        raise TimeoutError(f"not ready: {pending}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spcs_round(name: str, state: str) -> float:
    api.apply(quickstart(name, with_services=False), "local", state_dir=state)  # services gone, rest kept
    t0 = time.perf_counter()
    result = api.apply(quickstart(name), "local", state_dir=state)
    elapsed = time.perf_counter() - t0  # apply returns once every readiness probe passed
    assert result.ok, result.failed
    return elapsed


def compose_file(name: str, state: str, directory: Path) -> tuple[Path, list[str]]:
    entries = StateStore(name, "local", state).entries
    repo_url = next(e.outputs["repository_url"] for e in entries.values() if e.kind == "image_repository")
    images = {e.name.split("/")[-1]: f"{repo_url}/{e.name.split('/')[-1].split(':')[0]}@{e.outputs['digest']}"
              for e in entries.values() if e.kind == "image"}
    stage_dir = directory / "volumes" / "jupyter-snowpark"
    stage_dir.mkdir(parents=True, exist_ok=True)
    os.chown(stage_dir, 1000, 1000)
    ports = {"jupyter": free_port(), "convert": free_port()}
    doc = {"version": "2.4", "services": {
        "jupyter": {"image": images["python-jupyter-snowpark:dev"], "init": True,
                    "ports": [f"127.0.0.1:{ports['jupyter']}:8888"],
                    "volumes": [f"{stage_dir}:/home/jupyter"],
                    "environment": {"SNOWFLAKE_SERVICE_NAME": "JUPYTER_SNOWPARK_SERVICE"}},
        "convert": {"image": images["convert-api:dev"], "init": True,
                    "ports": [f"127.0.0.1:{ports['convert']}:9090"],
                    "environment": {"SNOWFLAKE_SERVICE_NAME": "CONVERT_API"}},
    }}
    path = directory / "docker-compose.yml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    urls = [f"http://127.0.0.1:{ports['jupyter']}/api/status", f"http://127.0.0.1:{ports['convert']}/healthcheck"]
    return path, urls


def compose_round(path: Path, urls: list[str], project: str) -> float:
    base = ["docker-compose", "-f", str(path), "-p", project]
    t0 = time.perf_counter()
    subprocess.run([*base, "up", "-d"], check=True, capture_output=True)
    wait_ready(urls)
    elapsed = time.perf_counter() - t0
    subprocess.run([*base, "down", "-t", "1"], check=True, capture_output=True)
    return elapsed


def container_ids(client: docker.DockerClient, name: str) -> set[str]:
    return {c.id for c in client.containers.list(all=True, filters={"label": f"spcs-iac.stack={name}"})}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("docker-compose") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "docker-compose"], check=True)
    name = f"qsbench{os.getpid()}"
    client = docker.from_env()
    with tempfile.TemporaryDirectory() as state, tempfile.TemporaryDirectory() as work:
        stack = quickstart(name)
        t0 = time.perf_counter()
        assert api.apply(stack, "local", state_dir=state).ok
        print(f"first apply (builds, pushes, starts everything): {time.perf_counter() - t0:.1f}s")
        try:
            ours = [spcs_round(name, state) for _ in range(args.rounds)]
            path, urls = compose_file(name, state, Path(work))
            theirs = [compose_round(path, urls, f"{name}c") for _ in range(args.rounds)]
            m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
            print(f"services ready: spcs-iac apply {m_ours:.2f}s vs docker-compose up {m_theirs:.2f}s "
                  f"(median of {args.rounds}; ratio {m_ours / m_theirs:.2f}x)")
            before = container_ids(client, name)
            t0 = time.perf_counter()
            plan = api.plan(quickstart(name), "local", state_dir=state)
            t_plan = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = api.apply(quickstart(name), "local", state_dir=state)
            t_apply = time.perf_counter() - t0
            recreated = len(before - container_ids(client, name))
            print(f"no-op re-plan {t_plan:.2f}s ({len(plan.actionable)} changes), re-apply {t_apply:.2f}s, "
                  f"{recreated} containers recreated")
            assert result.ok
        finally:
            api.destroy(quickstart(name), "local", state_dir=state)
            LocalRegistry(naming.local_dir(state)).stop()  # the registry is a daemon; this one was ours


if __name__ == "__main__":
    main()
