"""An in-memory target for engine tests: a dict of objects, with injectable latency and failures."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model.base import fingerprint
from spcs_iac.plan.model import Change
from spcs_iac.plan.target import ApplyContext, Observed, Provider, ReadRequest


@dataclass
class OpRecord:
    verb: str
    address: str
    start: float
    end: float


@dataclass
class MemoryTarget:
    """The 'account': survives across provider instances when shared (or persisted to a file)."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ops: list[OpRecord] = field(default_factory=list)
    reads: int = 0
    latency: float = 0.0
    fail: set[tuple[str, str]] = field(default_factory=set)  # (verb, address) that fail once
    fail_at: int | None = None  # the k-th operation (1-based) fails once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"objects": self.objects, "outputs": self.outputs}))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> MemoryTarget:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(objects=data["objects"], outputs=data["outputs"])


class MemoryProvider(Provider):
    target = "memory"

    def __init__(self, stack_name: str = "test", target: MemoryTarget | None = None, state_dir: str | None = None,
                 connect: bool = True, **_: Any) -> None:
        directory = state_dir or os.environ.get("SPCS_IAC_STATE_DIR")
        self._file = Path(directory) / "memory-target.json" if target is None and directory else None
        self.t = target or (MemoryTarget.load(self._file) if self._file else MemoryTarget())
        if target is None and os.environ.get("MEMORY_TARGET_LATENCY"):  # CLI tests: slow operations
            self.t.latency = float(os.environ["MEMORY_TARGET_LATENCY"])

    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        with self._shared(), self.t.lock:
            self.t.reads += 1
            return {r.address: Observed(dict(self.t.objects[r.address]), dict(self.t.outputs.get(r.address, {})))
                    for r in requests if r.address in self.t.objects}

    def statements(self, change: Change, outputs: Any = None) -> list[str]:
        return [f"{change.action.value} {change.address} " + ",".join(sorted(change.changed_fields))]

    def _op(self, verb: str, address: str) -> float:
        with self.t.lock:
            count = len(self.t.ops) + 1
            if (verb, address) in self.t.fail:
                self.t.fail.discard((verb, address))
                raise ProviderError(f"injected failure: {verb} {address}")
            if self.t.fail_at is not None and count == self.t.fail_at:
                self.t.fail_at = None
                raise ProviderError(f"injected failure at operation {count}: {verb} {address}")
            self.t.ops.append(OpRecord(verb, address, time.monotonic(), 0.0))
            rec = self.t.ops[-1]
        if self.t.latency:
            time.sleep(self.t.latency)
        rec.end = time.monotonic()
        return rec.start

    def create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        with self._shared():
            exists = change.address in self.t.objects
        if exists:
            raise ProviderError(f"{change.address} already exists")
        self._op("create", change.address)
        return self._store(change, ctx)

    def update(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        with self._shared():
            exists = change.address in self.t.objects
        if not exists:
            raise ProviderError(f"{change.address} does not exist")
        self._op("update", change.address)
        return self._store(change, ctx)

    @contextmanager
    def _shared(self):  # type: ignore[no-untyped-def]
        """With a file, reload under an exclusive lock so concurrent instances do not lose writes."""
        if self._file is None:
            yield
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        with open(str(self._file) + ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fresh = MemoryTarget.load(self._file)
            self.t.objects, self.t.outputs = fresh.objects, fresh.outputs
            yield

    def _store(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        r = change.resource
        assert r is not None
        outputs: dict[str, Any] = {}
        if r.kind not in ("grant", "role_grant"):  # like a comment marker: grants have no comment
            outputs["managed_by"] = ctx.stack
        if r.kind == "image":
            outputs["digest"] = "sha256:" + fingerprint([r.desired(ctx.outputs), time.time_ns()])
        props = r.desired(ctx.outputs)
        with self._shared(), self.t.lock:
            self.t.objects[change.address] = props
            self.t.outputs[change.address] = outputs
            self._persist()
        return outputs

    def delete(self, change: Change, ctx: ApplyContext) -> None:
        with self._shared():
            exists = change.address in self.t.objects
        if not exists:
            raise ProviderError(f"{change.address} does not exist")
        self._op("delete", change.address)
        with self._shared(), self.t.lock:
            self.t.objects.pop(change.address, None)
            self.t.outputs.pop(change.address, None)
            self._persist()

    def _persist(self) -> None:
        if self._file is not None:
            self.t.save(self._file)
