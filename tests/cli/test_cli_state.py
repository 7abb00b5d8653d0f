"""Saved plans and state commands through the CLI, as a team uses them in CI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli import QUICKSTART, cli


def test_saved_plan_applies_exactly_and_a_stale_one_is_refused(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    r = cli("plan", QUICKSTART, "-t", "memory", "--out", str(plan_file), state=tmp_path)
    assert r.returncode == 0, r.stderr
    saved = json.loads(plan_file.read_text())
    assert saved["source"] == QUICKSTART and saved["serial"] == 0 and len(saved["changes"]) == 19
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
    assert r.returncode == 0 and "service.CONTAINER_HOL_DB.PUBLIC.CONVERT_API" in r.stdout and "19 objects" in r.stdout
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
    exact = f"spcs-iac force-unlock {QUICKSTART} abc123 --target memory --state-dir {tmp_path}"
    assert exact in " ".join(r.stderr.split()), r.stderr  # a command to paste as it is
    lock.write_text("{not json")
    r = cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path)
    assert r.returncode == 1 and "cannot be read" in r.stderr and "pid None" not in r.stderr
    assert f"spcs-iac force-unlock {QUICKSTART} --target memory" in " ".join(r.stderr.split())
    lock.write_text(json.dumps({"id": "abc123", "pid": 999999, "host": "elsewhere", "since": 0, "command": "apply"}))
    r = cli("force-unlock", QUICKSTART, "wrong", "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "not wrong" in r.stderr and lock.exists()
    r = cli("force-unlock", QUICKSTART, "abc123", "-t", "memory", state=tmp_path)
    assert r.returncode == 0 and not lock.exists()


def _slow_apply(tmp_path: Path, latency: str, until: Callable[[], bool]) -> subprocess.Popen[str]:
    """``apply`` of the quickstart on the memory target in a process of its own, each operation taking
    ``latency`` seconds, one at a time; returned once ``until()`` holds (or 30 s passed)."""
    from tests.cli.test_cli import ROOT

    env = dict(os.environ, PYTHONPATH=str(ROOT), SPCS_IAC_STATE_DIR=str(tmp_path), MEMORY_TARGET_LATENCY=latency,
               SPCS_IAC_TARGETS="memory=tests.support.memory_provider:MemoryProvider")
    proc = subprocess.Popen([sys.executable, "-m", "spcs_iac", "apply", QUICKSTART, "-t", "memory", "--yes",
                             "--parallelism", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not until() and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def test_sigterm_finishes_what_is_in_flight_records_it_and_releases_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "quickstart.memory.lock"
    proc = _slow_apply(tmp_path, "0.4", lock.exists)
    time.sleep(1.0)  # a few operations done, one in flight
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and "interrupted" in err
    assert not lock.exists()
    pulled = json.loads(cli("state", "pull", QUICKSTART, "-t", "memory", state=tmp_path).stdout)
    assert 1 <= len(pulled["resources"]) < 18  # what finished is recorded; the rest never started
    r = cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path)
    assert r.returncode == 0, r.stderr  # converges


def test_a_second_interrupt_does_not_claim_the_work_in_flight_finished(tmp_path: Path) -> None:
    journal = tmp_path / "quickstart.memory.journal"
    # Returned once the first operation has started (its intent is written).
    proc = _slow_apply(tmp_path, "3", lambda: journal.exists() and journal.stat().st_size > 0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)  # while the first one waits for what is in flight
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert "interrupted again: the operations in flight were not waited for" in " ".join(err.split()), err
    assert "finished and are recorded" not in err


@pytest.mark.parametrize("damage", [b"", b"[]", b'{"version": 1, "resources": {"role.R": {"kind": "role"}}}',
                                    b'{"version": 1, "resou', b"\xff\xfe not utf-8", b'{"version": 7}'])
def test_a_damaged_state_is_named_and_recoverable_never_a_traceback(tmp_path: Path, damage: bytes) -> None:
    assert cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path).returncode == 0
    assert cli("state", "rm", QUICKSTART, "role.CONTAINER_USER_ROLE", "-t", "memory", state=tmp_path).returncode == 0
    path = tmp_path / "quickstart.memory.json"
    path.write_bytes(damage)
    r = cli("plan", QUICKSTART, "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    text = " ".join(r.stderr.split())
    assert f"is damaged: {path}" in text and "Nothing was changed" in text
    command = text.split("restore the last good version: ")[1].split(" (earlier")[0]
    assert command.startswith(f"spcs-iac state push {QUICKSTART} ")
    r = cli(*command.split()[1:], state=tmp_path)  # the suggested command, as printed
    assert r.returncode == 0, r.stderr
    r = cli("plan", QUICKSTART, "-t", "memory", "--detailed-exitcode", state=tmp_path)
    assert r.returncode == 2 and "<= role.CONTAINER_USER_ROLE" in r.stdout  # the last good version: before rm


def test_a_damaged_journal_line_is_named(tmp_path: Path) -> None:
    assert cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path).returncode == 0
    journal = tmp_path / "quickstart.memory.journal"
    journal.write_text('{"op": "put", "address": "x", "entry": {"kind": "role", "name": "X"}}\nnot json\n{}\n')
    r = cli("plan", QUICKSTART, "-t", "memory", state=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{journal}: line 2" in " ".join(r.stderr.split())


def test_state_rebuild_recovers_a_lost_state_and_leaves_other_stacks_alone(tmp_path: Path) -> None:
    assert cli("apply", QUICKSTART, "-t", "memory", "--yes", state=tmp_path).returncode == 0
    other = tmp_path / "other.py"  # another stack that declares one of the same objects
    other.write_text("from spcs_iac import Stack, Warehouse\nstack = Stack('other')\n"
                     "stack.add(Warehouse(name='OTHER_WH'))\n")
    assert cli("apply", str(other), "-t", "memory", "--yes", state=tmp_path).returncode == 0
    for path in [tmp_path / "quickstart.memory.json", *tmp_path.glob("history/quickstart.*")]:
        path.unlink()  # the state is lost
    r = cli("plan", QUICKSTART, "-t", "memory", state=tmp_path)
    assert "to import" in r.stdout  # without it, everything would be foreign
    r = cli("state", "rebuild", QUICKSTART, "-t", "memory", state=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Recovered 19 objects" in r.stdout and "taken as declared" in r.stdout  # grants carry no marker
    r = cli("plan", QUICKSTART, "-t", "memory", "--detailed-exitcode", state=tmp_path)
    assert r.returncode == 0, r.stdout
    hijack = tmp_path / "hijack.py"  # a stack naming the other stack's warehouse does not take it
    hijack.write_text("from spcs_iac import Stack, Warehouse\nstack = Stack('hijack')\n"
                      "stack.add(Warehouse(name='OTHER_WH'))\n")
    r = cli("state", "rebuild", str(hijack), "-t", "memory", state=tmp_path)
    assert r.returncode == 0 and "left out: warehouse.OTHER_WH belongs to stack other" in r.stdout
    assert not json.loads(cli("state", "pull", str(hijack), "-t", "memory", state=tmp_path).stdout)["resources"]
