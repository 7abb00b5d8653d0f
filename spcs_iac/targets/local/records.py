"""The local catalog: objects without a Docker footprint (roles, grants, databases, ...) as JSON records.

One file per stack, ``<state_dir>/local/catalog-<stack>.json``. Every mutation re-reads the file under a
lock (thread lock + flock, since CLI operations may run beside an apply) and writes it atomically
(temp file, fsync, rename). Records keep the declared field names of their kind, so reading them back
gives the planner the same shape for every kind. Secret values never get here: kinds hash them in
``desired()`` before the provider sees the props.
"""

from __future__ import annotations

import fcntl
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spcs_iac.state.files import write_json_atomic

CATALOG_VERSION = 1
Record = dict[str, Any]


class Catalog:
    def __init__(self, root: Path, stack: str) -> None:
        self.root = root
        self.stack = stack
        self.path = root / f"catalog-{stack}.json"
        self._lock_path = root / f"catalog-{stack}.lock"
        self._mutex = threading.RLock()

    # ---- reading --------------------------------------------------------------------------------
    def load(self) -> dict[str, Record]:
        return _read(self.path)

    def get(self, address: str) -> Record | None:
        return self.load().get(address)

    # ---- writing --------------------------------------------------------------------------------
    @contextmanager
    def edit(self) -> Iterator[dict[str, Record]]:
        """Read-modify-write under the lock; the yielded dict is written back on success."""
        with self._mutex:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self._lock_path, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    objects = _read(self.path)
                    yield objects
                    self._write(objects)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def put(self, address: str, record: Record) -> None:
        with self.edit() as objects:
            objects[address] = record

    def patch(self, address: str, **fields: Any) -> Record | None:
        with self.edit() as objects:
            rec = objects.get(address)
            if rec is not None:
                rec.update(fields)
            return rec

    def remove(self, address: str) -> None:
        with self.edit() as objects:
            objects.pop(address, None)

    def _write(self, objects: dict[str, Record]) -> None:
        doc = {"version": CATALOG_VERSION, "stack": self.stack, "objects": dict(sorted(objects.items()))}
        write_json_atomic(self.path, doc)


def _read(path: Path) -> dict[str, Record]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return dict(data.get("objects", {}))


def catalogs(root: Path) -> Iterator[Catalog]:
    """The catalog of every stack of a local state directory, in the order of their names."""
    for path in sorted(root.glob("catalog-*.json")):
        yield Catalog(root, path.name[len("catalog-"):-len(".json")])


def find_anywhere(root: Path, address: str, prefer: Catalog | None = None) -> Record | None:
    """A record by address in this stack's catalog, else in any other stack's catalog of the state dir
    (a service may use a pool or an integration another stack manages)."""
    if prefer is not None:
        rec = prefer.get(address)
        if rec is not None:
            return rec
    for catalog in catalogs(root):
        rec = catalog.get(address)
        if rec is not None:
            return rec
    return None
