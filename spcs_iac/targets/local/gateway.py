"""The service-function gateway: what Snowflake does when SQL calls a service function (reference §13.2).

Argument values are checked against the declared types first (``argtypes``). Rows are sent in batches
of at most MAX_BATCH_ROWS as ``POST <path>`` with ``{"data": [[row, arg...]]}`` (row numbers 0-based
within the batch) through the service's endpoint proxy (``edge``), which spreads the batches over the
ready instances; a private endpoint's frontend admits only requests carrying the gateway token. The
reply must hold exactly one ``[row, value]`` per input row; values are returned in input order. Failed
batches are retried like MAX_BATCH_RETRIES (3) before the call fails.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.local import edge
from spcs_iac.targets.local.argtypes import coerce_rows
from spcs_iac.targets.local.records import Record
from spcs_iac.targets.local.services import Services

DEFAULT_BATCH_ROWS = 100
RETRIES = 3
Resolver = Callable[[str], tuple[Record, Record | None]]  # function name -> (function, its service)


class Gateway:
    """``Gateway(services, resolve).call("DB.SCHEMA.FN", rows)``: what SQL does when it calls a function."""

    def __init__(self, services: Services, resolve: Resolver) -> None:
        self.services, self.resolve = services, resolve

    def call(self, function_fqn: str, rows: Iterable[Any]) -> list[Any]:
        fn, svc = self.resolve(function_fqn)
        return call(self.services, fn, svc, rows)


def endpoint_target(svc: Record, endpoint: str) -> tuple[str, dict[str, str]]:
    """(base URL, extra headers) through which the gateway reaches a service endpoint."""
    rt = svc["runtime"]
    if not any(e["name"] == endpoint for e in rt["endpoints"]):
        raise ProviderError(f"service {svc['name']} has no endpoint {endpoint!r}; it has "
                            f"{[e['name'] for e in rt['endpoints']]}")
    return edge.gateway_target(rt, svc.get("edge"), endpoint)


def call(services: Services, fn: Record, svc: Record | None, rows: Iterable[Any],
         log: Callable[[str], Any] | None = None) -> list[Any]:
    """Call service function ``fn`` on ``rows`` (each a sequence of arguments, or a bare value).
    ``log`` gets one line per batch sent (the gateway log)."""
    props = fn.get("props") or {}
    if svc is None:
        raise ProviderError(f"function {fn['name']}: service {props.get('service')} does not exist locally")
    data = [list(r) if isinstance(r, list | tuple) else [r] for r in rows]
    data = coerce_rows(fn["name"], [list(a) for a in props.get("arguments") or []], data)  # before anything is sent
    if svc.get("status") == "SUSPENDED":
        if not (svc.get("props") or {}).get("auto_resume", True):
            raise ProviderError(f"service {svc['name']} is suspended and AUTO_RESUME is FALSE")
        services.resume(svc, lambda _t: None)  # a call to a suspended service resumes it (AUTO_RESUME)
    target, extra = endpoint_target(svc, props["endpoint"])
    size = int(props.get("max_batch_rows") or DEFAULT_BATCH_ROWS)
    query_id = str(uuid.uuid4())
    out: list[Any] = []
    for start in range(0, len(data), size):
        batch = data[start:start + size]
        base, began = target, time.perf_counter()
        out.extend(_send(base, props["path"], batch, fn, query_id, extra))
        if log is not None:
            log(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {fn['name']} query {query_id[:8]}: batch of {len(batch)} "
                f"row(s) -> {base}{props['path']} ({(time.perf_counter() - began) * 1000:.1f} ms)")
    return out


def _send(base: str, path: str, batch: Sequence[list[Any]], fn: Record, query_id: str,
          extra: dict[str, str] | None = None) -> list[Any]:
    body = json.dumps({"data": [[i, *row] for i, row in enumerate(batch)]}, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "sf-external-function-format": "json",
        "sf-external-function-format-version": "1.0",
        "sf-external-function-current-query-id": query_id,
        "sf-external-function-query-batch-id": str(uuid.uuid4()),
        "sf-external-function-name": fn["name"],
        "sf-external-function-return-type": str((fn.get("props") or {}).get("returns") or ""),
        **(extra or {}),
    }
    # UTF-8 bytes: http.client encodes str values as Latin-1 and fails on a name such as DB."データ".FN.
    raw = {key: value.encode() for key, value in headers.items()}
    last = ""
    for attempt in range(RETRIES + 1):
        try:
            req = urllib.request.Request(base + path, data=body, headers=raw, method="POST")  # type: ignore[arg-type]
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - local endpoint
                if resp.status == 200:
                    return _rows(json.loads(resp.read() or b"{}"), len(batch), fn)
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2 * (attempt + 1))
    raise ProviderError(f"function {fn['name']}: {base}{path} failed after {RETRIES} retries: {last}")


def _rows(reply: Any, count: int, fn: Record) -> list[Any]:
    rows = reply.get("data") if isinstance(reply, dict) else None
    if not isinstance(rows, list) or len(rows) != count:
        got = len(rows) if isinstance(rows, list) else "no"
        raise ValueError(f"reply of {fn['name']} has {got} rows in 'data', expected {count}")
    values: dict[int, Any] = {}
    for row in rows:
        if not isinstance(row, list) or len(row) != 2 or not isinstance(row[0], int):
            raise ValueError(f"reply row {row!r} is not [row_number, value]")
        values[row[0]] = row[1]
    if sorted(values) != list(range(count)):
        raise ValueError(f"reply of {fn['name']} has row numbers {sorted(values)}, expected 0..{count - 1}")
    return [values[i] for i in range(count)]
