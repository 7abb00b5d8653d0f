"""The programmatic example runs as documented (plan, apply, call, no-op plan, destroy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.local.conftest import BASE_IMAGE, labelled

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_programmatic_example(tmp_path: Path, docker_client) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SPCS_IAC_STATE_DIR=str(tmp_path), SPCS_IAC_BASE_IMAGE=BASE_IMAGE)
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "programmatic.py")], capture_output=True,
                       text=True, env=env, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "CONVERT_UDF(12) = [53.6]" in r.stdout
    assert not any(labelled(docker_client, "quickstart").values())  # destroyed at the end
