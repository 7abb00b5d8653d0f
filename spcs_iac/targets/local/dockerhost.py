"""The Docker engine as the local target sees it: a lazy client, labelled listings, pool networks, limits.

Compute pools are Docker networks. Each pool has an ``internal`` network (no route out, and no address
of the host on its bridge, so the host cannot reach instances through it) that every instance's
namespace owner joins with the service's DNS names as aliases: services reach each other by name and
nothing else. Two more networks are created on demand:

- ``<pool>-egress``: a normal bridge, joined by the instances of services with an external access
  integration (EAI) that has an EGRESS rule: outbound traffic works (their owners' firewall keeps the
  host from connecting in);
- ``<pool>-ingress``: a bridge with IP masquerading off, joined by the services' endpoint proxies:
  Docker can publish their ports on 127.0.0.1, and nothing on it has a way out.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model.base import fingerprint
from spcs_iac.model.kinds.spcs import INSTANCE_FAMILIES
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.engine import EngineReader, socket_path

GIB = 1024**3


class DockerHost:
    def __init__(self, stack: str, log: Any = None, lock_dir: Path | None = None) -> None:
        self.stack = stack
        # Pool networks are created under a file lock here: other processes (parallel Pulumi provider
        # processes, a CLI beside an apply) create them too, and Docker allows two networks of one name.
        self.lock_path = (lock_dir or Path(tempfile.gettempdir())) / "docker-networks.lock"
        self._client: Any = None
        self._lock = threading.RLock()
        self._said: set[str] = set()
        self._gpus: int | None = None
        self._subnets: dict[str, tuple[str | None, str | None]] = {}
        self.log = log
        socket_file = socket_path()
        self._reader = EngineReader(socket_file) if socket_file else None  # reads without the SDK

    # ---- connection -----------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import docker

                    try:
                        client = docker.from_env(timeout=120)
                        client.ping()
                    except Exception as exc:  # DockerException, socket and HTTP errors alike
                        raise _unreachable(exc) from None
                    self._client = client
        return self._client

    @property
    def api(self) -> Any:
        return self.client.api

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def say_once(self, key: str, text: str, say: Any = None) -> None:
        with self._lock:
            if key in self._said:
                return
            self._said.add(key)
        (say or self.log or (lambda _t: None))(text)

    # ---- reads (listings: one call each, filtered by label) --------------------------------------
    def read(self, path: str, **params: Any) -> Any:
        """The engine's JSON answer to ``GET path``: over its unix socket when it has one (see engine.py),
        else through the SDK. Both give the same documents: the SDK returns these answers as they are."""
        if self._reader is None:
            api = self.api
            return api._result(api._get(api._url(path), params=params), True)
        try:
            return self._reader.get(path, params)
        except (OSError, http.client.HTTPException) as exc:
            raise _unreachable(exc) from None

    def containers(self, *, obj: str | None = None, pool: str | None = None, stack: str | None = None) -> list[dict]:
        """Container summaries of ``stack`` (default: this one; "" = any stack, for pool-wide listings)."""
        stack = self.stack if stack is None else stack
        labels = [f"{naming.LABEL_STACK}={stack}"] if stack else []
        if obj:
            labels.append(f"{naming.LABEL_OBJECT}={obj}")
        if pool:
            labels.append(f"{naming.LABEL_POOL}={pool}")
        return list(self.read("/containers/json", all=1, filters=_filters(labels or [naming.LABEL_OBJECT])))

    def networks(self, *, obj: str | None = None, stack: str | None = None) -> list[dict]:
        labels = [f"{naming.LABEL_STACK}={self.stack if stack is None else stack}"]
        labels.append(f"{naming.LABEL_OBJECT}={obj}" if obj else naming.LABEL_OBJECT)
        return list(self.read("/networks", filters=_filters(labels)))

    def volumes(self, *, obj: str | None = None) -> list[dict]:
        labels = [f"{naming.LABEL_STACK}={self.stack}"]
        if obj:
            labels.append(f"{naming.LABEL_OBJECT}={obj}")
        return list(self.read("/volumes", filters=_filters(labels)).get("Volumes") or [])

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        """``docker inspect`` of a container (an error when it is gone)."""
        return dict(self.read(f"/containers/{urllib.parse.quote(container_id)}/json"))

    # ---- pool networks --------------------------------------------------------------------------
    def ensure_network(self, pool_address: str, pool_name: str, owner_stack: str, flavour: str = "internal") -> str:
        """The pool's network of that flavour, created when missing (labelled with the pool's stack)."""
        name = naming.network_name(owner_stack, pool_name, flavour)
        with self._lock, self._file_lock():
            if any(n.get("Name") == name for n in self.api.networks(names=[name])):  # names= matches substrings
                return name
            labels = naming.base_labels(owner_stack, pool_address, fingerprint({"flavour": flavour}))
            labels[naming.LABEL_FLAVOUR] = flavour
            options = {"ingress": {"com.docker.network.bridge.enable_ip_masquerade": "false"},
                       "internal": {"com.docker.network.bridge.inhibit_ipv4": "true"}}.get(flavour)
            self.api.create_network(name, driver="bridge", internal=flavour == "internal", labels=labels,
                                    options=options, check_duplicate=True)
        return name

    def subnet(self, name: str) -> tuple[str | None, str | None]:
        """(subnet, gateway) of a network; the gateway is None when the host has no address on it."""
        with self._lock:
            if name not in self._subnets:
                info = self.api.inspect_network(name)
                config = ((info.get("IPAM") or {}).get("Config") or [{}])[0]
                inhibited = (info.get("Options") or {}).get("com.docker.network.bridge.inhibit_ipv4") == "true"
                self._subnets[name] = (config.get("Subnet"), None if inhibited else config.get("Gateway"))
            return self._subnets[name]

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def pool_network_names(self, pool_address: str, owner_stack: str) -> dict[str, str]:
        """flavour -> name of the networks a pool (of ``owner_stack``) has now."""
        out = {}
        for n in self.networks(obj=pool_address, stack=owner_stack):
            out[(n.get("Labels") or {}).get(naming.LABEL_FLAVOUR, "internal")] = n["Name"]
        return out

    def remove_networks(self, pool_address: str) -> None:
        """Remove this stack's networks of a pool (another stack's pool of the same name is not ours)."""
        for n in self.networks(obj=pool_address):
            try:
                self.api.remove_network(n["Id"])
            except Exception as exc:  # docker.errors.APIError: still in use
                raise ProviderError(
                    f"cannot remove network {n['Name']} of {pool_address}: {exc}. Containers not managed by "
                    "this stack still use it; remove them or their services first."
                ) from None

    # ---- resources -------------------------------------------------------------------------------
    @property
    def host_gpus(self) -> int:
        if self._gpus is None:
            count = sum(1 for d in os.listdir("/dev") if d.startswith("nvidia") and d[6:].isdigit()) \
                if os.path.isdir("/dev") else 0
            try:
                runtimes = self.client.info().get("Runtimes") or {}
            except Exception:  # info is advisory only
                runtimes = {}
            self._gpus = count if count and "nvidia" in runtimes else 0
        return self._gpus

    def limits(self, family: str | None, cpus: float | None, memory: int | None, gpus: int,
               say: Any = None, who: str = "") -> dict[str, Any]:
        """Container limits: the spec's limits, capped at the instance family and the host."""
        fam = INSTANCE_FAMILIES.get(family or "")
        host_cpus = float(os.cpu_count() or 1)
        host_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        cap_cpu = min(float(fam.vcpu), host_cpus) if fam else host_cpus
        cap_mem = min(fam.memory_gib * GIB, host_mem) if fam else host_mem
        out: dict[str, Any] = {
            "nano_cpus": int(min(cpus or cap_cpu, cap_cpu) * 1e9),
            "mem_limit": int(min(memory or cap_mem, cap_mem)),
        }
        if gpus:
            if self.host_gpus:
                import docker

                out["device_requests"] = [docker.types.DeviceRequest(count=min(gpus, self.host_gpus),
                                                                      capabilities=[["gpu"]])]
            else:
                self.say_once("no-gpu", f"    ! this host has no GPUs usable by Docker: {who or 'containers'} "
                              "asking for nvidia.com/gpu run without them", say)
        return out

    def update_limits(self, container_id: str, limits: dict[str, Any]) -> None:
        """Change CPU/memory of a running container (docker update); used when a pool changes family."""
        api = self.api
        data = {"NanoCpus": limits["nano_cpus"], "Memory": limits["mem_limit"], "MemorySwap": -1}
        api._result(api._post_json(api._url("/containers/{0}/update", container_id), data=data), True)

    # ---- images ----------------------------------------------------------------------------------
    def remove_local_images(self, repo: str, tag: str | None = None, digest: str | None = None) -> int:
        """Remove the engine's references to images of ``repo`` (``host:port/path/name``, or a path prefix
        ending in '/'): the tag, the pinned digest, or every tag and digest under it. Returns how many."""
        removed = 0
        for image in self.api.images(all=False):
            refs = list(image.get("RepoTags") or []) + list(image.get("RepoDigests") or [])
            for ref in refs:
                name, _, rest = ref.rpartition("@") if "@" in ref else ref.rpartition(":")
                under = name.startswith(repo) if repo.endswith("/") else name == repo
                wanted = tag is None and digest is None or rest in (tag, digest)
                if under and wanted:
                    try:
                        self.api.remove_image(ref)
                        removed += 1
                    except Exception:  # still used by a container, or already gone
                        pass
        return removed

    def ensure_image(self, ref: str) -> None:
        """Make ``ref`` available locally: built and pushed images already are; others are pulled."""
        import docker

        try:
            self.api.inspect_image(ref)
            return
        except docker.errors.ImageNotFound:
            pass
        try:
            self.client.images.pull(ref)
        except docker.errors.APIError as exc:
            raise ProviderError(f"image {ref} is not available locally and cannot be pulled: "
                                f"{exc.explanation or exc}") from None


def _filters(labels: list[str]) -> str:
    return json.dumps({"label": labels})  # the engine's filter syntax, as the SDK encodes it


def _unreachable(exc: BaseException) -> ProviderError:
    return ProviderError(f"the local target needs a running Docker engine, which is not reachable: {exc}. "
                         "Start it (bash scripts/ensure-docker.sh) or set DOCKER_HOST.")
