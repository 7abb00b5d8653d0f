"""A real OCI registry for the local target: Debian's ``docker-registry`` (distribution v2) on 127.0.0.1.

One registry per state directory. Its port is chosen once and recorded in
``<state_dir>/local/registry.json`` so repository URLs stay stable; a registry already answering on
that port is reused (by this or another process). Data lives in ``<state_dir>/local/registry``.
Docker treats 127.0.0.0/8 registries as insecure-allowed, so ``docker push`` works without daemon
configuration. The process is detached (its own session): it outlives the command that started it,
like a daemon; :meth:`LocalRegistry.stop` ends it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.images import MANIFEST_TYPES

CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
"""
# No blob-descriptor cache: repositories are removed on disk by destroy, and a cache would remember them.
CONFIRMED_FOR = 2.0  # seconds a registry that answered is taken to be still up without asking again


class LocalRegistry:
    _mutex = threading.Lock()

    def __init__(self, local_root: Path, binary: str | None = None, start_timeout: float = 15.0) -> None:
        self.local_root = local_root
        self.data = local_root / "registry"
        self.info_path = local_root / "registry.json"
        self.config_path = local_root / "registry.yml"
        self.log_path = local_root / "registry.log"
        self.binary = binary or os.environ.get("SPCS_IAC_REGISTRY_BIN") or shutil.which("docker-registry") \
            or shutil.which("registry") or "/usr/bin/docker-registry"
        self.start_timeout = start_timeout
        self._port: int | None = None
        self._confirmed = float("-inf")  # monotonic time it last answered a probe

    # ---- lifecycle ------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, starting the registry when it is not running."""
        return f"127.0.0.1:{self.ensure()}"

    def recorded_host(self) -> str | None:
        """The host from the port file, without starting anything (None if never started)."""
        info = self._info()
        return f"127.0.0.1:{info['port']}" if info.get("port") else None

    def ensure(self) -> int:
        # A plan asks for the host once per repository and image: one probe serves them all.
        if self._port is not None and time.monotonic() - self._confirmed < CONFIRMED_FOR:
            return self._port
        if self._port is not None and _answers(self._port):
            self._confirmed = time.monotonic()
            return self._port
        with self._mutex:
            self.local_root.mkdir(parents=True, exist_ok=True)
            with open(self.local_root / "registry.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one starter per state dir, across processes
                try:
                    self._port = self._ensure_locked()
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
            self._confirmed = time.monotonic()
        return self._port

    def _ensure_locked(self) -> int:
        info = self._info()
        port = info.get("port")
        if port and _answers(port):
            return int(port)
        if not port or not _free(port):
            port = _free_port()  # first start, or the recorded port was taken by something else
        if not os.path.exists(self.binary):
            raise ProviderError(
                f"the local registry binary {self.binary} is missing: install Debian's docker-registry "
                "(bash scripts/ensure-registry.sh) or set SPCS_IAC_REGISTRY_BIN"
            )
        self.data.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(CONFIG.format(root=self.data, port=port), encoding="utf-8")
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(  # noqa: S603 - fixed binary, our own config
                [self.binary, "serve", str(self.config_path)], stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, start_new_session=True, close_fds=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-1500:] if self.log_path.exists() else ""
                proc.poll() is None and proc.kill()
                raise ProviderError(f"the local registry did not start on 127.0.0.1:{port}; log {self.log_path}:\n{tail}")
            time.sleep(0.1)
        self.info_path.write_text(json.dumps({"port": port, "pid": proc.pid, "binary": self.binary}), encoding="utf-8")
        return int(port)

    def stop(self) -> bool:
        """Stop the registry process recorded for this state dir (the port stays recorded)."""
        pid = self._info().get("pid")
        if not pid:
            return False
        try:
            os.kill(int(pid), signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return False
        for _ in range(50):
            try:
                os.waitpid(int(pid), os.WNOHANG)  # reap it when it is our child
            except ChildProcessError:
                pass
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self._port = None
        self._confirmed = float("-inf")
        return True

    def _info(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.info_path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}

    # ---- registry API ---------------------------------------------------------------------------
    def digest(self, path: str, reference: str) -> str | None:
        """The digest a tag (or digest) resolves to now, or None when it does not exist."""
        resp = self._request("HEAD", f"/v2/{path}/manifests/{urllib.parse.quote(reference)}")
        if resp is None:
            return None
        return resp.headers.get("Docker-Content-Digest")

    def tags(self, path: str) -> list[str]:
        resp = self._request("GET", f"/v2/{path}/tags/list")
        if resp is None:
            return []
        return list(json.loads(resp.read() or b"{}").get("tags") or [])

    def delete_image(self, path: str, tag: str) -> None:
        """Remove one tag; its manifest goes too when no other tag of the image points at it."""
        digest = self.digest(path, tag)
        if digest is None:
            return
        others = [t for t in self.tags(path) if t != tag and self.digest(path, t) == digest]
        if others:
            shutil.rmtree(self._repo_dir(path) / "_manifests" / "tags" / tag, ignore_errors=True)
        else:
            self._request("DELETE", f"/v2/{path}/manifests/{digest}")
        if not self.tags(path):
            self._remove_dir(path)

    def delete_repository(self, path: str) -> None:
        """Remove every image under ``db/schema/repo`` (Snowflake deletes a repository's images with it)."""
        self._remove_dir(path)

    def _remove_dir(self, path: str) -> None:
        """Remove a repository directory and the parents it leaves empty (``db/``, ``db/schema/``).

        Layer blobs stay in the blob store until a registry garbage collection; no path names them."""
        target = self._repo_dir(path)
        shutil.rmtree(target, ignore_errors=True)
        base = self._repo_dir("")
        parent = target.parent
        while parent != base and base in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def has_path(self, path: str) -> bool:
        return self._repo_dir(path).exists()

    def _repo_dir(self, path: str) -> Path:
        base = (self.data / "docker" / "registry" / "v2" / "repositories").resolve()
        target = (base / path).resolve()
        if path and base not in target.parents:
            raise ProviderError(f"registry path {path!r} is outside the registry")
        return target

    def _request(self, method: str, url_path: str, retry: bool = True) -> Any:
        host = self.host
        req = urllib.request.Request(
            f"http://{host}{url_path}", method=method, headers={"Accept": ", ".join(MANIFEST_TYPES)}
        )
        try:
            return urllib.request.urlopen(req, timeout=15)  # noqa: S310 - loopback registry
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise ProviderError(f"local registry: {method} {url_path} answered HTTP {exc.code}") from None
        except OSError as exc:
            if retry and isinstance(getattr(exc, "reason", exc), ConnectionRefusedError):
                # Stopped since it last answered (ensure did not ask again): start it, as a probe would have.
                self._confirmed = float("-inf")
                return self._request(method, url_path, retry=False)
            raise ProviderError(f"local registry at {host} cannot be reached: {exc}") from None


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as resp:  # noqa: S310
            return resp.headers.get("Docker-Distribution-Api-Version", "").startswith("registry/2")
    except (OSError, ValueError):
        return False


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", int(port)))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
