"""Saved plans and state commands through the CLI, as a team uses them in CI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import QUICKSTART, cli


def test_saved_plan_applies_exactly_and_a_stale_one_is_refused(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    r = cli("plan", QUICKSTART, "-t", "memory", "--out", str(plan_file), state=tmp_path)
    assert r.returncode == 0, r.stderr
    saved = json.loads(plan_file.read_text())
    assert saved["source"] == QUICKSTART and saved["serial"] == 0 and len(saved["changes"]) == 18
    r = cli("apply", str(plan_file), state=tmp_path)  # no -t, no --yes: the plan says both
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Apply complete" in r.stdout
    r = cli("plan", QUICKSTART, "-t", "memory", "--detailed-exitcode", state=tmp_path)
    assert r.returncode == 0, r.stdout  # exactly what was printed was applied: nothing left
    r = cli("apply", str(plan_file), state=tmp_path)
    assert r.returncode == 1 and "stale" in r.stderr and "serial 0" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_a_plan_file_never_holds_a_secret_value(tmp_path: Path) -> None:
    stack = tmp_path / "stack.py"
    stack.write_text("from spcs_iac import Stack, Secret\nstack = Stack('sec')\n"
                     "stack.add(Secret(name='K', database='D', type='GENERIC_STRING', secret_string='hunter2-xyz'))\n")
    plan_file = tmp_path / "plan.json"
    r = cli("plan", str(stack), "-t", "memory", "--out", str(plan_file), state=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "hunter2-xyz" not in plan_file.read_text()
    r = cli("apply", str(plan_file), state=tmp_path)
    assert r.returncode == 0, r.stderr + r.stdout
    stack.write_text(stack.read_text().replace("hunter2-xyz", "rotated"))
    r = cli("apply", str(plan_file), state=tmp_path)
    assert r.returncode == 1 and "stale" in r.stderr


def test_state_list_show_mv_rm_pull_push_history(tmp_path: Path) -> None:
    assert cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path).returncode == 0
    r = cli("state", "list", QUICKSTART, "-t", "memory", state=tmp_path)
    assert r.returncode == 0 and "service.CONTAINER_HOL_DB.PUBLIC.CONVERT_API" in r.stdout and "18 objects" in r.stdout
    r = cli("state", "show", QUICKSTART, "compute_pool.CONTAINER_HOL_POOL", "-t", "memory", state=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["kind"] == "compute_pool"
    r = cli("state", "show", QUICKSTART, "compute_pool.NOPE", "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "no object compute_pool.NOPE" in r.stderr

    pulled = tmp_path / "pulled.json"
    pulled.write_text(cli("state", "pull", QUICKSTART, "-t", "memory", state=tmp_path).stdout)
    r = cli("state", "rm", QUICKSTART, "compute_pool.CONTAINER_HOL_POOL", "-t", "memory", state=tmp_path)
    assert r.returncode == 0 and "not touched" in r.stdout
    r = cli("plan", QUICKSTART, "-t", "memory", state=tmp_path)
    assert "<= compute_pool.CONTAINER_HOL_POOL" in r.stdout  # exists but no longer managed: adopted again
    r = cli("state", "push", QUICKSTART, str(pulled), "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "older than" in r.stderr  # the rm made a newer version
    r = cli("state", "push", QUICKSTART, str(pulled), "--force", "-t", "memory", state=tmp_path)
    assert r.returncode == 0, r.stderr
    assert cli("plan", QUICKSTART, "-t", "memory", "--detailed-exitcode", state=tmp_path).returncode == 0

    r = cli("state", "mv", QUICKSTART, "compute_pool.CONTAINER_HOL_POOL", "compute_pool.OTHER", "-t", "memory",
            state=tmp_path)
    assert r.returncode == 0, r.stderr
    moved = json.loads(cli("state", "pull", QUICKSTART, "-t", "memory", state=tmp_path).stdout)
    assert "compute_pool.OTHER" in moved["resources"]
    assert all("compute_pool.CONTAINER_HOL_POOL" not in e["depends_on"] for e in moved["resources"].values())
    r = cli("state", "history", QUICKSTART, "-t", "memory", state=tmp_path)
    assert r.returncode == 0 and "state mv" in r.stdout and "state push" in r.stdout and "apply" in r.stdout


def test_import_adopts_one_declared_object_as_it_is(tmp_path: Path) -> None:
    assert cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path).returncode == 0
    assert cli("state", "rm", QUICKSTART, "warehouse.CONTAINER_HOL_WH", "-t", "memory", state=tmp_path).returncode == 0
    r = cli("import", QUICKSTART, "warehouse.CONTAINER_HOL_WH", "-t", "memory", state=tmp_path)
    assert r.returncode == 0, r.stderr
    assert cli("plan", QUICKSTART, "-t", "memory", "--detailed-exitcode", state=tmp_path).returncode == 0
    r = cli("import", QUICKSTART, "warehouse.CONTAINER_HOL_WH", "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "already managed" in r.stderr
    r = cli("import", QUICKSTART, "warehouse.NOT_DECLARED", "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "not declared" in r.stderr


def test_force_unlock_names_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "quickstart.memory.lock"
    lock.write_text(json.dumps({"id": "abc123", "pid": 999999, "host": "elsewhere", "since": 0, "command": "apply"}))
    r = cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path)
    assert r.returncode == 1 and "lock abc123" in r.stderr
    r = cli("force-unlock", QUICKSTART, "wrong", "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "not wrong" in r.stderr and lock.exists()
    r = cli("force-unlock", QUICKSTART, "abc123", "-t", "memory", state=tmp_path)
    assert r.returncode == 0 and not lock.exists()
