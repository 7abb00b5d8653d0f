"""Failures are visible on the local target (real Docker engine): a crash-looping container fails the
apply with its status, exit code and logs; a crash loop that starts later shows in status and plan;
waits print what they wait for, and the CLI's --wait-timeout bounds them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, Database, Image, ImageRepository, Service, Stack, Stage
from spcs_iac.drivers import api
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.provider import LocalProvider
from tests.local.apps import APP_B, write_app
from tests.local.conftest import BASE_IMAGE, ROOT, cli, labelled, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# A sidecar that wants the main container's port once main listens: "Address already in use", exit 1, again
# and again (the port is not declared by the sidecar, so validation cannot see it).
COLLIDING = ("import http.server as h, socket, time\n"
             "while socket.socket().connect_ex(('127.0.0.1', 8080)):\n    time.sleep(0.1)\n"
             "h.HTTPServer(('0.0.0.0', 8080), h.BaseHTTPRequestHandler).serve_forever()")
# A sidecar that runs fine until /files/crash exists on the stage, then exits 4 at every start.
TRIGGERED = ("import os, sys, time\nwhile not os.path.exists('/files/crash'):\n    time.sleep(0.2)\n"
             "print('crash file found', flush=True)\nsys.exit(4)")


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_app(tmp_path_factory.mktemp("failures") / "b", APP_B)


def two_containers(name: str, context: Path, sidecar: str, probe: str = "/hello") -> tuple[Stack, dict[str, Any]]:
    stack = Stack(name)
    prefix = name.upper().replace("-", "_")
    db = stack.add(Database(name=f"{prefix}_DB"))
    stack.add(Stage(name="FILES", database=db))
    pool = stack.add(ComputePool(name=f"{prefix}_POOL", instance_family="CPU_X64_XS"))
    repo = stack.add(ImageRepository(name="REPO", database=db))
    img = stack.add(Image(name="b", repository=repo, context=str(context), build_args={"BASE_IMAGE": BASE_IMAGE}))
    svc = stack.add(Service(name="WEB", database=db, compute_pool=pool, spec={"spec": {
        "containers": [
            {"name": "main", "image": img, "readinessProbe": {"port": 8080, "path": probe}},
            {"name": "sidecar", "image": img, "command": ["python3", "-c", sidecar],
             "volumeMounts": [{"name": "files", "mountPath": "/files"}]},
        ],
        "endpoints": [{"name": "web", "port": 8080, "public": True}],
        "volumes": [{"name": "files", "source": "@files"}]}}))
    return stack, {"db": db, "svc": svc}


def test_a_crash_looping_sidecar_fails_the_apply_with_its_status_and_logs(state_dir: Path, docker_client: Any,
                                                                          context: Path) -> None:
    stack, objs = two_containers(unique("fl-loop"), context, COLLIDING)
    sd = str(state_dir)
    try:
        start = time.monotonic()
        result = api.apply(stack, target="local", state_dir=sd)
        assert time.monotonic() - start < 90
        error = result.failed[objs["svc"].address]
        fqn = objs["svc"].fqn
        assert f"service {fqn} instance 0: container sidecar keeps restarting" in error
        assert "last exit code 1" in error and "Address already in use" in error  # the exit code and its logs
        assert "container main: " in error and "Traceback (most recent call last)" in error  # the sidecar's
        # The service is not RUNNING: status says why, with the restart count.
        done = cli("status", fqn, "--state-dir", sd)  # (a failed create is found too)
        assert done.exit_code == 0, done.output
        assert "RUNNING" not in done.stdout.splitlines()[0]
        assert "problem: instance 0: container sidecar" in done.stdout
        status = LocalProvider(stack_name=stack.name, state_dir=sd).status("WEB")
        sidecar = next(r for r in status["containers"] if r["container_name"] == "sidecar")
        assert sidecar["restart_count"] >= 3 and sidecar["last_exit_code"] == 1 and sidecar["status"] == "FAILED"
        # ... and the next plan does not say "No changes".
        assert api.plan(stack, target="local", state_dir=sd).get(objs["svc"].address).action.value != "no-op"
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok
    assert labelled(docker_client, stack.name)["containers"] == []


def test_a_crash_loop_after_the_apply_shows_in_status_and_plan(state_dir: Path, context: Path) -> None:
    stack, objs = two_containers(unique("fl-later"), context, TRIGGERED)
    sd = str(state_dir)
    try:
        assert api.apply(stack, target="local", state_dir=sd).ok
        provider = LocalProvider(stack_name=stack.name, state_dir=sd)
        assert provider.status("WEB")["status"] == "RUNNING"
        stage = naming.local_dir(state_dir) / "stages" / objs["db"].name / "PUBLIC" / "FILES"
        (stage / "crash").write_text("now")

        def failing() -> dict[str, Any] | None:
            status = provider.status("WEB")
            sidecar = next(r for r in status["containers"] if r["container_name"] == "sidecar")
            return status if status["status"] == "FAILED" and sidecar["restart_count"] >= 3 else None

        deadline = time.monotonic() + 60
        while (status := failing()) is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status is not None, provider.status("WEB")
        assert any("container sidecar keeps restarting" in p and "last exit code 4" in p for p in status["problems"])
        change = api.plan(stack, target="local", state_dir=sd).get(objs["svc"].address)
        assert change.action.value == "update" and change.changed_fields == {"status"}  # not READY: no drift
        assert "not READY: instance 0: container sidecar keeps restarting" in (change.reason or "")
        done = cli("status", objs["svc"].fqn, "--state-dir", sd)
        assert done.exit_code == 0, done.output
        assert done.stdout.splitlines()[0].endswith("FAILED (0/1 instances ready)") and "crash file found" in done.stdout
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok


def test_waits_say_what_they_wait_for_and_wait_timeout_bounds_them(state_dir: Path, tmp_path: Path,
                                                                   context: Path) -> None:
    name = unique("fl-wait")
    stack_file = tmp_path / "waiting.py"
    stack_file.write_text(
        "from tests.local.test_failures import two_containers\n"
        "from pathlib import Path\n"
        f"stack, _ = two_containers({name!r}, Path({str(context)!r}), 'import time; time.sleep(3600)', "
        "probe='/not-there')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), SPCS_IAC_STATE_DIR=str(state_dir))
    run = [sys.executable, "-m", "spcs_iac"]
    try:
        done = subprocess.run([*run, "apply", str(stack_file), "--yes", "--wait-timeout", "7"], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=300)
        assert done.returncode == 1, done.stdout + done.stderr
        out = " ".join(done.stdout.split())  # rich may wrap long lines
        assert re.search(r"WEB: 0/1 instances ready, [56] s of 7 s \(instance 0: container main: readiness probe "
                         r"GET /not-there on port 8080 does not pass yet\)", out), out
        assert "created image." in out and "created compute_pool." in out  # each object's finish, with its time
        assert "not READY after 7s" in " ".join(done.stderr.split())
    finally:
        done = subprocess.run([*run, "destroy", str(stack_file), "--yes"], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
