"""The state file: what this stack manages on a target, written atomically under a lock.

One JSON file per stack and target, plus a journal beside it while an apply runs. Every successful
operation is recorded at once as one appended journal line (cheap, so large parallel applies are not
serialised on rewriting the whole file); when the lock is released the journal is folded into the JSON
file (temp file, fsync, rename) and removed. Loading replays a journal left by a killed process, and
ignores a torn last line, so a crash never loses a recorded success nor leaves an unreadable state.
Secret values never enter it: kinds hash them in ``desired()`` before anything is recorded.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spcs_iac.errors import StateLockedError
from spcs_iac.state.files import write_json_atomic

STATE_VERSION = 1
DEFAULT_STATE_DIR = ".spcs-iac"


@dataclass
class StateEntry:
    kind: str
    name: str
    props: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    owner: str | None = None


class StateStore:
    def __init__(self, stack: str, target: str, state_dir: str | os.PathLike[str] | None = None) -> None:
        self.dir = Path(state_dir or os.environ.get("SPCS_IAC_STATE_DIR") or DEFAULT_STATE_DIR)
        self.stack = stack
        self.target = target
        self.path = self.dir / f"{stack}.{target}.json"
        self.lock_path = self.dir / f"{stack}.{target}.lock"
        self.journal_path = self.dir / f"{stack}.{target}.journal"
        self._journal_fd: int | None = None
        self.entries: dict[str, StateEntry] = {}
        self.serial = 0
        self._mutex = threading.Lock()
        self.load()

    # ---- reading --------------------------------------------------------------------------------
    def load(self) -> None:
        self.entries, self.serial = {}, 0
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                raise StateLockedError(f"{self.path}: state version {data.get('version')} is not supported")
            self.serial = int(data.get("serial", 0))
            self.entries = {a: StateEntry(**e) for a, e in data.get("resources", {}).items()}
        if self.journal_path.exists():
            self._replay()

    def _replay(self) -> None:
        for line in self.journal_path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                break  # a torn last line from a killed writer: everything before it counts
            self.serial += 1
            if item.get("op") == "put":
                self.entries[item["address"]] = StateEntry(**item["entry"])
            else:
                self.entries.pop(item["address"], None)

    def get(self, address: str) -> StateEntry | None:
        return self.entries.get(address)

    # ---- writing --------------------------------------------------------------------------------
    def record(self, address: str, entry: StateEntry) -> None:
        with self._mutex:
            self.entries[address] = entry
            self._append({"op": "put", "address": address, "entry": asdict(entry)})

    def forget(self, address: str) -> None:
        with self._mutex:
            if self.entries.pop(address, None) is not None:
                self._append({"op": "del", "address": address})

    def _append(self, item: dict[str, Any]) -> None:
        if self._journal_fd is None:
            # Outside an apply (no lock held) there is no journal: write the whole file at once.
            self._write()
            return
        self.serial += 1
        os.write(self._journal_fd, (json.dumps(item, sort_keys=True, default=str) + "\n").encode())

    def _write(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.serial += 1
        doc = {
            "version": STATE_VERSION,
            "stack": self.stack,
            "target": self.target,
            "serial": self.serial,
            "resources": {a: asdict(e) for a, e in sorted(self.entries.items())},
        }
        write_json_atomic(self.path, doc)

    # ---- locking --------------------------------------------------------------------------------
    @contextmanager
    def locked(self, command: str = "apply") -> Iterator[StateStore]:
        self.dir.mkdir(parents=True, exist_ok=True)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), "command": command}
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise StateLockedError(self._lock_message()) from None
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        try:
            self.load()
            if self.journal_path.exists():
                self._write()  # fold a journal left by a killed apply before starting a new one
                self.journal_path.unlink()
            self._journal_fd = os.open(self.journal_path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
            yield self
        finally:
            self._close_journal()
            self.lock_path.unlink(missing_ok=True)

    def _close_journal(self) -> None:
        if self._journal_fd is None:
            return
        os.close(self._journal_fd)
        self._journal_fd = None
        with self._mutex:
            self._write()
        self.journal_path.unlink(missing_ok=True)

    def _lock_message(self) -> str:
        try:
            holder = json.loads(self.lock_path.read_text())
        except (OSError, ValueError):
            holder = {}
        pid, host = holder.get("pid"), holder.get("host")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("since", 0)))
        who = f"{holder.get('command', '?')} (pid {pid} on {host}, since {since})"
        if host == socket.gethostname() and isinstance(pid, int) and not _alive(pid):
            return (
                f"stack {self.stack} on {self.target} has a stale lock left by {who}, which is no longer running. "
                f"If no other apply is in progress, clear it with: spcs-iac force-unlock STACK --target "
                f"{self.target} (or delete {self.lock_path})"
            )
        return (
            f"stack {self.stack} on {self.target} is locked by {who}; wait for it to finish. "
            f"Lock file: {self.lock_path}"
        )

    def force_unlock(self) -> bool:
        existed = self.lock_path.exists()
        self.lock_path.unlink(missing_ok=True)
        return existed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
