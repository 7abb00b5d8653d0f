"""The README's quickstart flow with the real CLI on the local target (Docker, registry)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.local.conftest import BASE_IMAGE, labelled, unique

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.docker, pytest.mark.slow]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spcs_iac", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900)


def post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - a local endpoint
        return json.loads(resp.read())


def test_quickstart_with_the_cli(tmp_path: Path, state_dir: Path, docker_client) -> None:
    name = unique("qs-cli")
    stack_file = tmp_path / "quickstart_cli.py"
    stack_file.write_text(
        "import runpy\n"
        f"stack = runpy.run_path({str(ROOT / 'stacks' / 'quickstart.py')!r})['stack']\n"
        f"stack.name = {name!r}  # Docker names are global: keep parallel runs apart\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), SPCS_IAC_STATE_DIR=str(state_dir), SPCS_IAC_BASE_IMAGE=BASE_IMAGE)
    try:
        r = cli(env, "apply", str(stack_file), "--yes")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Apply complete" in r.stdout and "19 to create" in r.stdout

        r = cli(env, "call", "CONTAINER_HOL_DB.PUBLIC.CONVERT_UDF", "12", "--stack", str(stack_file))
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "53.6"

        r = cli(env, "endpoints", "CONTAINER_HOL_DB.PUBLIC.CONVERT_API", "--stack", str(stack_file))
        assert r.returncode == 0, r.stderr
        url = json.loads(r.stdout)["convert-api"]
        assert url.startswith("http://127.0.0.1:")
        assert post(url + "/convert", {"data": [[0, 12], [1, 19]]}) == {"data": [[0, 53.6], [1, 66.2]]}

        r = cli(env, "status", "CONTAINER_HOL_DB.PUBLIC.CONVERT_API", "--stack", str(stack_file))
        assert r.returncode == 0 and "convert-api" in r.stdout, r.stderr

        r = cli(env, "plan", str(stack_file), "--detailed-exitcode")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "No changes" in r.stdout
    finally:
        r = cli(env, "destroy", str(stack_file), "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    left = labelled(docker_client, name)
    assert not any(left.values()), left
