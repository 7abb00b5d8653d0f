"""The file backend: what this stack manages on a target, in a JSON file written atomically under a lock.

One JSON file per stack and target, plus a journal beside it while an apply runs. Every successful
operation is recorded at once as one appended journal line (cheap, so large parallel applies are not
serialised on rewriting the whole file); when the lock is released the journal is folded into the JSON
file (temp file, fsync, rename) and removed. Loading replays a journal left by a killed process, and
ignores a torn last line, so a crash never loses a recorded success nor leaves an unreadable state.
Secret values never enter it: kinds hash them in ``desired()`` before anything is recorded. Each
version written is also kept under ``history/`` (``state history``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spcs_iac.errors import StateCorruptError, StateLockedError
from spcs_iac.state.backend import (
    DEFAULT_STATE_DIR,
    STATE_VERSION,
    StateBackend,
    StateEntry,
    StateVersion,
    pack_resources,
    unpack_resources,
)
from spcs_iac.state.files import write_json_atomic

__all__ = ["DEFAULT_STATE_DIR", "STATE_VERSION", "StateEntry", "StateStore"]
LOCK_POLL_SECONDS = 0.2


class StateStore(StateBackend):
    def __init__(self, stack: str, target: str, state_dir: str | os.PathLike[str] | None = None, *,
                 strict: bool = True) -> None:
        """``strict=False`` opens a damaged state as empty (``state push --force`` replaces it)."""
        self.strict = strict
        self.dir = Path(state_dir or os.environ.get("SPCS_IAC_STATE_DIR") or DEFAULT_STATE_DIR)
        self.stack = stack
        self.target = target
        self.path = self.dir / f"{stack}.{target}.json"
        self.lock_path = self.dir / f"{stack}.{target}.lock"
        self.journal_path = self.dir / f"{stack}.{target}.journal"
        self.history_dir = self.dir / "history"
        self._journal_fd: int | None = None
        self._command = "edit"
        self.entries: dict[str, StateEntry] = {}
        self.serial = 0
        self.pending: set[str] = set()
        self._mutex = threading.Lock()
        self.load()

    # ---- reading --------------------------------------------------------------------------------
    def load(self) -> None:
        try:
            self._load()
        except StateCorruptError:
            if self.strict:
                raise
            self.entries, self.serial, self.pending = {}, 0, set()

    def _load(self) -> None:
        self.entries, self.serial, self.pending = {}, 0, set()
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError(f"the document is a {type(data).__name__}, not an object")
                if data.get("version") != STATE_VERSION:
                    raise ValueError(f"state version {data.get('version')!r} is not supported (this version "
                                     f"reads {STATE_VERSION})")
                self.serial = int(data.get("serial", 0))
                self.pending = set(data.get("pending") or [])
                self.entries = unpack_resources(data)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:  # UnicodeDecodeError is a ValueError
                raise self._damaged(self.path, exc) from None
        if self.journal_path.exists():
            self._replay()

    def _replay(self) -> None:
        try:
            lines = self.journal_path.read_bytes().decode("utf-8", errors="strict").splitlines()
        except ValueError as exc:
            raise self._damaged(self.journal_path, exc) from None
        for number, line in enumerate(lines, 1):
            try:
                item = json.loads(line)
            except ValueError as exc:
                if number == len(lines):
                    break  # a torn last line from a killed writer: everything before it counts
                raise self._damaged(self.journal_path, f"line {number}: {exc}") from None
            self.serial += 1
            try:
                if item.get("op") == "put":
                    self.entries[item["address"]] = StateEntry(**item["entry"])
                    self.pending.discard(item["address"])
                elif item.get("op") == "intent":
                    self.pending.add(item["address"])
                else:
                    self.entries.pop(item["address"], None)
            except (KeyError, TypeError, AttributeError) as exc:
                raise self._damaged(self.journal_path, f"line {number}: {exc!r}") from None

    def _damaged(self, path: Path, problem: object) -> StateCorruptError:
        versions = sorted(self.history_dir.glob(f"{self.stack}.{self.target}.*.json"))
        restore = (f"restore the last good version: spcs-iac state push {{stack}} {versions[-1]} --force --target "
                   f"{self.target} --state-dir {self.dir} (earlier ones are in {self.history_dir})"
                   if versions else "move it aside and adopt the objects again (`spcs-iac import`)")
        return StateCorruptError(f"the state of stack {self.stack} on {self.target} is damaged: {path}: {problem}. "
                                 f"Nothing was changed in the target. To recover, {restore}")

    @property
    def url(self) -> str:
        return f"file://{self.dir}"

    def history(self) -> list[StateVersion]:
        out = []
        for path in self.history_dir.glob(f"{self.stack}.{self.target}.*.json"):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a version being written right now
            meta = doc.get("written") or {}
            out.append(StateVersion(int(doc.get("serial", 0)), float(meta.get("at", 0)), str(meta.get("by", "?")),
                                    str(meta.get("command", "?")), len(doc.get("resources") or {})))
        return sorted(out, key=lambda v: v.serial)

    # ---- writing --------------------------------------------------------------------------------
    def record(self, address: str, entry: StateEntry) -> None:
        with self._mutex:
            self.entries[address] = entry
            self.pending.discard(address)
            self._append({"op": "put", "address": address, "entry": entry.to_json()})

    def intend(self, address: str) -> None:
        with self._mutex:
            self.pending.add(address)
            self._append({"op": "intent", "address": address})

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
            "pending": sorted(self.pending),
            "written": {"at": time.time(), "by": f"{_user()}@{socket.gethostname()} pid {os.getpid()}",
                        "command": self._command},
            **pack_resources(self.entries),
        }
        write_json_atomic(self.path, doc)
        # Each version is kept as a copy of the bytes just written (a copy, not a second name: damage to
        # the state file must not reach its history).
        self.history_dir.mkdir(exist_ok=True)
        shutil.copyfile(self.path, self.history_dir / f"{self.stack}.{self.target}.{self.serial:08d}.json")

    # ---- locking --------------------------------------------------------------------------------
    @contextmanager
    def locked(self, command: str = "apply", wait: float = 0.0) -> Iterator[StateStore]:
        self.dir.mkdir(parents=True, exist_ok=True)
        info = {"id": uuid.uuid4().hex[:12], "pid": os.getpid(), "host": socket.gethostname(),
                "since": time.time(), "command": command}
        deadline = time.monotonic() + wait
        while True:
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                if time.monotonic() >= deadline:
                    raise StateLockedError(self._lock_message()) from None
                time.sleep(LOCK_POLL_SECONDS)
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        self._command = command
        try:
            self.load()
            if self.journal_path.exists():
                self._write()  # fold a journal left by a killed apply before starting a new one
                self.journal_path.unlink()
            self._journal_fd = os.open(self.journal_path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
            yield self
        finally:
            self._close_journal()
            self._command = "edit"
            self.lock_path.unlink(missing_ok=True)

    def _close_journal(self) -> None:
        if self._journal_fd is None:
            return
        recorded = os.fstat(self._journal_fd).st_size > 0
        os.close(self._journal_fd)
        self._journal_fd = None
        # A run that recorded nothing (refused, declined, nothing to do) writes no version: a new serial
        # would make saved plans look stale. A damaged state opened to be replaced is written anyway.
        if recorded or not self.strict:
            with self._mutex:
                self._write()
        self.journal_path.unlink(missing_ok=True)

    def _lock_message(self) -> str:
        unlock = f"spcs-iac force-unlock {{stack}} --target {self.target} --state-dir {self.dir}"
        try:
            holder = json.loads(self.lock_path.read_text(encoding="utf-8"))
            if not isinstance(holder, dict):
                raise ValueError("not an object")
        except FileNotFoundError:
            return f"stack {self.stack} on {self.target} was locked a moment ago; try again"
        except (OSError, ValueError) as exc:
            return (f"stack {self.stack} on {self.target} is locked, but the lock file {self.lock_path} cannot be "
                    f"read ({exc}). If no other apply is in progress, clear it with: {unlock}")
        pid, host = holder.get("pid"), holder.get("host")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("since", 0)))
        who = f"{holder.get('command', '?')} (lock {holder.get('id', '?')}, pid {pid} on {host}, since {since})"
        exact = unlock.replace("--target", f"{holder['id']} --target") if holder.get("id") else unlock
        if host == socket.gethostname() and isinstance(pid, int) and not _alive(pid):
            return (f"stack {self.stack} on {self.target} has a stale lock left by {who}, which is no longer "
                    f"running. If no other apply is in progress, clear it with: {exact}")
        return (f"stack {self.stack} on {self.target} is locked by {who}; wait for it to finish (--lock-timeout "
                f"SECONDS waits). If its holder is gone: {exact}")

    def force_unlock(self, lock_id: str | None = None) -> bool:
        try:
            holder = json.loads(self.lock_path.read_text())
        except FileNotFoundError:
            return False
        except ValueError:
            holder = {}
        if lock_id is not None and holder.get("id") != lock_id:
            raise StateLockedError(f"stack {self.stack} on {self.target} is locked by lock {holder.get('id', '?')}, "
                                   f"not {lock_id}; nothing was removed")
        self.lock_path.unlink(missing_ok=True)
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "?"
