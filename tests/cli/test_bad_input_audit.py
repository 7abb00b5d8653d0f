"""Bad input a new user may give the CLI: each gets a message naming what is wrong, never a traceback,
never a changed state, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import cli

ROLE_STACK = "from spcs_iac import Stack, Role\nstack = Stack('{name}')\nstack.add(Role(name='{role}'))\n"


def _role_stack(tmp_path: Path, name: str = "audit", role: str = "R1") -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(ROLE_STACK.format(name=name, role=role))
    return path


def _saved_plan(tmp_path: Path, state: Path) -> tuple[Path, dict]:
    stack = _role_stack(tmp_path)
    plan_file = tmp_path / "plan.json"
    r = cli("plan", str(stack), "-t", "memory", "--out", str(plan_file), state=state)
    assert r.returncode == 0, r.stderr
    return plan_file, json.loads(plan_file.read_text())


def test_plan_out_to_an_unwritable_path_is_a_message(tmp_path):
    stack = _role_stack(tmp_path)
    for where in (tmp_path / "missing-dir" / "plan.json", tmp_path):
        r = cli("plan", str(stack), "-t", "memory", "--out", str(where), state=tmp_path / "state")
        assert r.returncode == 1, r.stdout
        assert "Traceback" not in r.stderr
        assert "--out" in r.stderr and str(where) in r.stderr
    assert not list(tmp_path.parent.glob(f"{tmp_path.name}.tmp*"))  # no temporary file left beside it


def test_plan_out_needs_a_name_apply_reads_as_a_plan(tmp_path):
    stack = _role_stack(tmp_path)
    r = cli("plan", str(stack), "-t", "memory", "--out", str(tmp_path / "plan.txt"), state=tmp_path / "state")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "--out" in r.stderr and ".json" in r.stderr and "plan.txt" in r.stderr
    assert not (tmp_path / "plan.txt").exists()


def test_a_damaged_plan_file_is_a_message(tmp_path):
    state = tmp_path / "state"
    plan_file, data = _saved_plan(tmp_path, state)
    damaged = {
        "no-stack": {k: v for k, v in data.items() if k != "stack"},
        "changes-not-a-list": {**data, "changes": "x"},
        "change-without-address": {**data, "changes": [{"kind": "role"}]},
        "bad-action": {**data, "changes": [{**data["changes"][0], "action": "explode"}]},
    }
    for label, doc in damaged.items():
        path = tmp_path / f"{label}.json"
        path.write_text(json.dumps(doc))
        r = cli("apply", str(path), "--yes", state=state)
        assert r.returncode == 1, label
        assert "Traceback" not in r.stderr, (label, r.stderr)
        assert f"{label}.json" in r.stderr and "plan --out" in r.stderr, (label, r.stderr)


def test_a_refused_apply_leaves_the_state_and_saved_plans_as_they_were(tmp_path):
    state = tmp_path / "state"
    plan_file, _ = _saved_plan(tmp_path, state)
    stack = tmp_path / "audit.py"
    r = cli("apply", str(stack), "-t", "memory", stdin="", state=state)  # not confirmed: nothing changes
    assert r.returncode == 1 and "pass --yes" in r.stderr
    assert not (state / "audit.memory.json").exists()
    r = cli("apply", str(plan_file), "--yes", state=state)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Apply complete" in r.stdout
    # A stale saved plan is refused, and refusing it writes no new state version.
    serial = json.loads((state / "audit.memory.json").read_text())["serial"]
    _role_stack(tmp_path, role="R2")
    r = cli("plan", str(stack), "-t", "memory", "--out", str(plan_file), state=state)
    assert r.returncode == 0, r.stderr
    _role_stack(tmp_path, role="R3")
    for _ in range(2):
        r = cli("apply", str(plan_file), "--yes", state=state)
        assert r.returncode == 1 and "stale" in r.stderr
        assert "the state changed" not in r.stderr, r.stderr
    assert json.loads((state / "audit.memory.json").read_text())["serial"] == serial


def test_a_misspelt_secret_field_does_not_print_the_value(tmp_path):
    stack = tmp_path / "secret.py"
    stack.write_text("from spcs_iac import *\nstack = Stack('s')\ndb = stack.add(Database(name='D'))\n"
                     "stack.add(Secret(name='S', database=db, type='PASSWORD', username='u', "
                     "password='hunter2secret', pasword='hunter4secret'))\n")
    r = cli("validate", str(stack))
    assert r.returncode == 1
    assert "Secret 'S': pasword: unknown field" in r.stderr
    assert "hunter4secret" not in r.stderr and "hunter2secret" not in r.stderr


def test_a_stack_reference_that_is_no_file_nor_module_is_a_message(tmp_path):
    for ref in (str(tmp_path), "no_such_module_xyz:stack", ""):
        r = cli("validate", ref)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert "importlib" not in r.stderr, r.stderr  # the library's internals are not the user's mistake
        assert "path/to/stack.py" in r.stderr, r.stderr


def test_a_stack_name_of_the_wrong_type_is_named(tmp_path):
    stack = tmp_path / "typed.py"
    stack.write_text("from spcs_iac import Stack\nstack = Stack(123)\n")
    r = cli("validate", str(stack))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "Stack 123: name" in r.stderr and "(given: 123)" in r.stderr, r.stderr


def test_a_stack_file_that_exits_says_so(tmp_path):
    stack = tmp_path / "exits.py"
    stack.write_text("import sys\nsys.exit(3)\n")
    r = cli("validate", str(stack))
    assert r.returncode == 1
    assert "exits.py:2" in r.stderr and "sys.exit" in r.stderr, r.stderr
