"""The endpoint proxy's configuration, checked by the haproxy of the base image (``haproxy -c``): every gateway
token and readiness-probe path a service can have gives a configuration haproxy accepts, meaning what it says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spcs_iac.targets.local import edge
from tests.local.conftest import BASE_IMAGE


def _runtime(probe_path: str) -> dict[str, Any]:
    return {
        "job": False,
        "aliases": ["svc", "svc.s.db"],
        "endpoints": [{"name": "api", "port": 8080, "protocol": "HTTP", "public": False},
                      {"name": "web", "port": 8081, "protocol": "HTTP", "public": True}],
        "containers": [{"probe": {"port": 8080, "path": probe_path}}],
    }


def _haproxy_check(docker_client: Any, text: str, tmp_path: Path) -> str:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    out = docker_client.containers.run(BASE_IMAGE, ["sh", "-c", "haproxy -c -f /cfg/haproxy.cfg 2>&1; true"],
                                       volumes={str(tmp_path): {"bind": "/cfg", "mode": "ro"}}, remove=True)
    return out.decode()


@pytest.mark.parametrize("token", [
    "-starts-with-a-dash_0123456789abcdef",  # secrets.token_urlsafe gives one in 64 such tokens
    "--two-dashes",
    "plain_Token-1",
])
def test_any_gateway_token_gives_a_valid_configuration(docker_client: Any, tmp_path: Path, token: str) -> None:
    text = edge.config(_runtime("/ready"), {"ports": {"api": 1, "web": 2}, "token": token})  # type: ignore[arg-type]
    assert "Configuration file is valid" in _haproxy_check(docker_client, text, tmp_path), text


# A server that records the request paths it gets, and answers 200 (the health check's target).
_RECORDER = """
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open("/tmp/paths", "a").write(self.path + "\\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 8080), H).serve_forever()
"""


@pytest.mark.parametrize("path", ["/ready", "/health#frag", "/it's", "/$HOME/x", '/say"hi"', "/a\\b"])
def test_any_probe_path_gives_a_valid_configuration_that_checks_that_path(docker_client: Any, tmp_path: Path,
                                                                           path: str) -> None:
    text = edge.config(_runtime(path), {"ports": {"api": 1, "web": 2}, "token": "t"})  # type: ignore[arg-type]
    assert "Configuration file is valid" in _haproxy_check(docker_client, text, tmp_path), text
    # Run it, with the instances' addresses (found through Docker's DNS in a service) replaced by the recorder's:
    # the health check must ask for the path as declared (no comment cut off, no variable expanded).
    live = "\n".join(
        "  server s 127.0.0.1:8080" if "server-template" in line and ":8080" in line
        else "" if "server-template" in line else line
        for line in text.splitlines()) + "\n"
    (tmp_path / "haproxy.cfg").write_text(live)
    (tmp_path / "recorder.py").write_text(_RECORDER)
    script = ("python3 /cfg/recorder.py & sleep 0.5; haproxy -f /cfg/haproxy.cfg -db >/dev/null 2>&1 & "
              "for i in 1 2 3 4 5 6 7 8 9 10; do [ -s /tmp/paths ] && break; sleep 0.3; done; cat /tmp/paths")
    out = docker_client.containers.run(BASE_IMAGE, ["sh", "-c", script], remove=True,
                                       volumes={str(tmp_path): {"bind": "/cfg", "mode": "ro"}}).decode()
    assert out.splitlines()[:1] == [path], (out, live)
