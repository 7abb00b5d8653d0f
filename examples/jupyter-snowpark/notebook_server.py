"""A minimal stand-in for Jupyter's contents API, serving files under the working directory."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.getcwd()


def _safe(path: str) -> str | None:
    full = os.path.realpath(os.path.join(ROOT, path.lstrip("/")))
    return full if full == ROOT or full.startswith(ROOT + os.sep) else None


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path in ("/api/status", "/api", "/"):
            return self._send(200, {"status": "ok", "root": ROOT})
        if self.path.startswith("/api/contents"):
            target = _safe(self.path[len("/api/contents"):])
            if target is None or not os.path.exists(target):
                return self._send(404, {"message": "not found"})
            if os.path.isdir(target):
                return self._send(200, {"type": "directory", "content": sorted(os.listdir(target))})
            with open(target, encoding="utf-8") as fh:
                return self._send(200, {"type": "file", "content": fh.read()})
        self._send(404, {"message": "not found"})

    def do_PUT(self) -> None:
        target = _safe(self.path[len("/api/contents"):]) if self.path.startswith("/api/contents") else None
        if target is None:
            return self._send(404, {"message": "not found"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(body.get("content", ""))
        self._send(201, {"path": self.path})

    def log_message(self, fmt: str, *args: object) -> None:
        print(fmt % args, flush=True)


if __name__ == "__main__":
    print(f"notebook contents server on :8888 serving {ROOT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8888), Handler).serve_forever()
