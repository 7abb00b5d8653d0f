"""Reads from the Docker engine's HTTP API over its unix socket, without the Docker SDK.

A plan reads Docker with a few GETs: the stack's labelled containers and networks, and an inspect of a
container that started recently (``instances.looping``). Importing the SDK (requests, urllib3) and its
version handshake took longer than those reads, so they go over the socket directly; whatever changes
Docker goes through the SDK. An engine reached another way (``DOCKER_HOST=tcp://...`` or ``ssh://``,
TLS) is read through the SDK as well: :func:`socket_path` is None for it.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
from collections.abc import Mapping
from typing import Any

DEFAULT_SOCKET = "/var/run/docker.sock"  # the SDK's default too


def socket_path(environ: Mapping[str, str] = os.environ) -> str | None:
    """The engine's unix socket as the SDK's ``from_env`` finds it; None when it is not a unix socket."""
    host = environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host[len("unix://"):]
    return None


class EngineError(Exception):
    """The engine answered with an error status (404: no such object)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Docker engine answered {status}: {message}")
        self.status = status


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_file: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_file = socket_file

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_file)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class EngineReader:
    def __init__(self, socket_file: str, timeout: float = 120.0) -> None:
        self.socket_file, self.timeout = socket_file, timeout

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The parsed JSON answer to ``GET path``. Unversioned paths get the engine's own API version, the
        one the SDK negotiates. OSError when the socket cannot be reached, EngineError on an error status.
        A connection per call: reads come from several threads during an apply, and a unix connect is cheap."""
        url = path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        conn = _UnixConnection(self.socket_file, self.timeout)
        try:
            conn.request("GET", url)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status >= 400:
            raise EngineError(resp.status, _message(body))
        return json.loads(body)


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message") or body.decode(errors="replace"))
    except (ValueError, AttributeError):
        return body.decode(errors="replace").strip()
