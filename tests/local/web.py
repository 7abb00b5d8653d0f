"""HTTP from the host and from inside containers, for the local tests."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from typing import Any


def get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - local test endpoints
        return resp.read().decode()


def inside(container: Any, url: str) -> str:
    """GET from inside a container (its own namespace)."""
    code = f"import urllib.request as u;print(u.urlopen({url!r}, timeout=5).read().decode(), end='')"
    res = container.exec_run(["python3", "-c", code])
    assert res.exit_code == 0, res.output
    return res.output.decode()


def wait_for(check: Any, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # retried until the deadline
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


def answers_as_app(ip: str, port: int, marker: str) -> bool:
    """Whether the app itself answers on ip:port from the host (not a refusal, timeout or foreign reply)."""
    try:
        return marker in get(f"http://{ip}:{port}/", timeout=2) or marker in get(f"http://{ip}:{port}/hello", 2)
    except (OSError, urllib.error.URLError):
        return False


class Poller:
    """GETs a URL in a loop (a client using the endpoint during an upgrade); counts what failed."""

    def __init__(self, url: str) -> None:
        self.url, self.ok, self.failed = url, 0, []  # type: ignore[var-annotated]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                assert get(self.url, timeout=5) == "ok"
                self.ok += 1
            except Exception as exc:  # counted: the assertion below shows them
                self.failed.append(repr(exc))
            time.sleep(0.05)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
