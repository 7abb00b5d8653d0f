"""The CLI as users run it: a subprocess per command, exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "stacks" / "quickstart.py")


def cli(*args: str, state: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               SPCS_IAC_TARGETS="memory=tests.support.memory_provider:MemoryProvider")
    if state is not None:
        env["SPCS_IAC_STATE_DIR"] = str(state)
    return subprocess.run([sys.executable, "-m", "spcs_iac", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, input=stdin, timeout=120)


def test_validate_quickstart():
    r = cli("validate", QUICKSTART)
    assert r.returncode == 0, r.stderr
    assert "Stack quickstart is valid: 19 objects" in r.stdout


def test_plan_apply_plan_destroy_with_exit_codes(tmp_path):
    r = cli("plan", QUICKSTART, "-t", "memory", "--detailed-exitcode", state=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Plan: 19 to create, 0 to update, 0 to replace, 0 to delete." in r.stdout
    assert "  + service.CONTAINER_HOL_DB.PUBLIC.CONVERT_API" in r.stdout
    r = cli("apply", QUICKSTART, "-t", "memory", stdin="", state=tmp_path)
    assert r.returncode == 1 and "pass --yes" in r.stderr  # never changes anything unconfirmed
    r = cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Apply complete" in r.stdout
    r = cli("plan", QUICKSTART, "-t", "memory", "--detailed-exitcode", "--json", state=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["changes"] == [] and data["summary"] == {"create": 0, "update": 0, "replace": 0, "delete": 0,
                                                         "import": 0}
    r = cli("destroy", QUICKSTART, "-t", "memory", "--yes", state=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Destroy complete" in r.stdout


def test_plan_json_shape(tmp_path):
    r = cli("plan", QUICKSTART, "-t", "memory", "--json", state=tmp_path)
    data = json.loads(r.stdout)
    assert set(data) == {"stack", "target", "changes", "summary"}
    change = data["changes"][0]
    assert set(change) >= {"address", "kind", "name", "action", "fields", "statements"}
    fn = next(c for c in data["changes"] if c["kind"] == "service_function")
    assert fn["name"] == "CONTAINER_HOL_DB.PUBLIC.CONVERT_UDF(FLOAT)" and fn["action"] == "create"


def test_bad_input_gives_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from spcs_iac import Stack, ComputePool\nstack = Stack('x')\n"
                   "stack.add(ComputePool(name='P', instance_family='CPU-X64-XXL', min_nodes=2, max_nodes=1))\n")
    r = cli("validate", str(bad))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "ComputePool 'P': instance_family" in r.stderr and "given: 'CPU-X64-XXL'" in r.stderr
    r = cli("plan", str(tmp_path / "missing.py"))
    assert r.returncode == 1 and "does not exist" in r.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("stack = 1 / 0\n")
    r = cli("plan", str(broken))
    assert r.returncode == 1 and "ZeroDivisionError" in r.stderr and "broken.py:1" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("plan", QUICKSTART, "-t", "nowhere")
    assert r.returncode == 1 and "allowed: local, snowflake" in r.stderr


def test_graph_formats():
    dot = cli("graph", QUICKSTART).stdout
    assert dot.startswith("digraph stack {")
    assert '"compute_pool.CONTAINER_HOL_POOL" -> "service.CONTAINER_HOL_DB.PUBLIC.CONVERT_API";' in dot
    mermaid = cli("graph", QUICKSTART, "--format", "mermaid").stdout
    assert mermaid.startswith("graph LR")


def test_module_attribute_stack_reference(tmp_path):
    mod = tmp_path / "mystacks.py"
    mod.write_text("from spcs_iac import Stack, Role\nprod = Stack('prod')\nprod.add(Role(name='R'))\n")
    env_path = f"{tmp_path}"
    r = subprocess.run([sys.executable, "-m", "spcs_iac", "validate", "mystacks:prod"], capture_output=True,
                       text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=f"{ROOT}:{env_path}"), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Stack prod is valid: 1 objects" in r.stdout
