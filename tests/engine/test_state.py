"""State file: locking, stale locks, atomic writes under a killed writer."""

from __future__ import annotations

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
