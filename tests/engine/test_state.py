"""State file: locking, stale locks, atomic writes under a killed writer."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from spcs_iac.drivers import api
from spcs_iac.errors import StateLockedError
from spcs_iac.state.store import StateEntry, StateStore
from tests.engine.stacks import app_stack
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def test_second_concurrent_apply_fails_at_once_with_a_clear_message(tmp_path):
    store = StateStore("app", "memory", tmp_path)
    with store.locked("apply"):
        stack = app_stack(tmp_path / "ctx")
        started = time.monotonic()
        with pytest.raises(StateLockedError) as err:
            api.apply(stack, "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=tmp_path)
        assert time.monotonic() - started < 2
        assert "is locked by apply" in str(err.value) and str(os.getpid()) in str(err.value)
    assert not store.lock_path.exists()


def test_stale_lock_is_reported_with_how_to_clear_it(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    store = StateStore("app", "memory", tmp_path)
    tmp_path.mkdir(exist_ok=True)
    store.lock_path.write_text(json.dumps({"pid": proc.pid, "host": os.uname().nodename, "since": time.time(),
                                           "command": "apply"}))
    with pytest.raises(StateLockedError) as err:
        with store.locked():
            pass
    assert "stale lock" in str(err.value) and "force-unlock" in str(err.value)
    assert store.force_unlock()
    with store.locked():
        pass


WRITER = """
import sys
from spcs_iac.state.store import StateEntry, StateStore
store = StateStore("big", "memory", sys.argv[1])
i = 0
with store.locked():
  while True:
    i += 1
    store.record(f"warehouse.W{i % 500}", StateEntry(kind="warehouse", name=f"W{i}", props={"pad": "x" * 2000}))
    if i % 97 == 0:
        store._close_journal()  # exercise the fold into the JSON file too
        store._journal_fd = __import__("os").open(store.journal_path, 0o2101, 0o644)
"""


def test_a_writer_killed_mid_write_leaves_a_readable_state(tmp_path):
    for attempt in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=os.getcwd())
        journal = tmp_path / "big.memory.journal"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (journal.exists() and journal.stat().st_size > 0):
            time.sleep(0.01)  # the writer is importing; kill it only once it writes
        time.sleep(0.05 + attempt * 0.04)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = StateStore("big", "memory", tmp_path)  # must parse: old or new file, never torn
        assert store.serial > 0 and all(isinstance(e, StateEntry) for e in store.entries.values())
        store.force_unlock()
        with store.locked():  # the next apply folds what the killed one journalled
            pass
        assert not store.journal_path.exists() and StateStore("big", "memory", tmp_path).entries == store.entries


def _owned_stack(grants: int, objects: int):
    from spcs_iac import Database, Grant, Role, Stack

    stack = Stack("owned")
    role = stack.add(Role(name="OWNER_ROLE"))
    privileges = ["CREATE DATABASE", "CREATE WAREHOUSE", "CREATE COMPUTE POOL", "CREATE INTEGRATION",
                  "BIND SERVICE ENDPOINT", "MONITOR USAGE", "EXECUTE TASK", "IMPORT SHARE"]
    for i in range(grants):
        stack.add(Grant(to=role, on="ACCOUNT", privileges=[privileges[i]]) if i == 0 else
                  Grant(to=role, on=f"DB_{i}", on_type="DATABASE", privileges=["USAGE"]))
    for i in range(objects):
        stack.add(Database(name=f"OWNED_{i}", owner=role))
    return stack


def test_state_does_not_repeat_the_owner_grants_per_object(tmp_path):
    """Each object waits for every grant to its owner role; the state keeps that set once, not per object
    (it grew with objects x grants), and reads it back as the full dependency list."""
    sizes = {}
    for grants in (2, 40):
        state_dir = tmp_path / str(grants)
        stack = _owned_stack(grants, 200)
        assert api.apply(stack, "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=state_dir).ok
        path = next(state_dir.rglob("owned.memory.json"))
        sizes[grants] = path.stat().st_size
        doc = json.loads(path.read_text())
        assert len(doc["dependency_sets"]) == 1
        store = StateStore("owned", "memory", state_dir)
        store.load()
        owned = store.entries["database.OWNED_7"]
        assert len([d for d in owned.depends_on if d.startswith("grant.")]) == grants
    # 38 more grants add their own entries and one list, not 38 x 200 references.
    assert sizes[40] - sizes[2] < 38 * 1500, sizes


def test_an_entry_is_written_with_every_field_it_has() -> None:
    # Journal lines and state files are written from to_json: a field added to StateEntry and left out of it
    # would be lost on the next load.
    entry = StateEntry(kind="service", name="DB.S.SVC", props={"spec": {"containers": [{"name": "c"}]}},
                       outputs={"url": "u"}, depends_on=["schema.DB.S"], owner="OWNER", adopted=True)
    assert entry.to_json() == dataclasses.asdict(entry)
    assert StateEntry(**json.loads(json.dumps(entry.to_json()))) == entry


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch) -> None:
    """A rename that fails (a full disk, a path taken by a directory) must not leave ``*.tmp*`` beside the
    state: nothing else removes it, and every failed apply would add one."""
    from spcs_iac.state import files

    target = tmp_path / "s.json"
    files.write_json_atomic(target, {"serial": 1})

    def refuse(src, dst):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OSError):
        files.write_json_atomic(target, {"serial": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]
    assert target.read_text(encoding="utf-8").count('"serial": 1') == 1

    def unserialisable(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError("Object of type set is not JSON serializable")

    monkeypatch.undo()
    monkeypatch.setattr(files.json, "dump", unserialisable)
    with pytest.raises(TypeError):
        files.write_json_atomic(target, {"serial": 3})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]
