"""One service instance in Docker: its namespace owner, containers, volumes and session token.

All containers of an instance share one network namespace, as in a Kubernetes pod. It belongs to a
namespace owner that runs no user code (``infra.netns_command``: a firewall, then sleep): the owner
joins the pool network with the service's DNS aliases (and the egress network when an integration
allows it), and the spec containers join it with ``network_mode=container:<owner>``. A spec container
that crashes and restarts rejoins the same namespace, so localhost between containers survives any
container restart. Instances publish nothing: endpoints go through the service's proxy (``edge.py``).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import socket
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.local import infra, naming
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.readiness import Instance
from spcs_iac.targets.local.runtime import Runtime, search_domain

SecretLookup = Callable[[str], dict[str, str] | None]
NETNS_START_TIMEOUT = 15.0


@dataclass
class Placement:
    """Where an instance runs: its pool networks and the limits its pool gives each container."""

    stack: str
    internal: str  # pool network every instance joins
    egress: str | None  # network with a route out, for services an integration allows egress
    ingress: str | None  # network the service's endpoint proxy publishes from
    family: str | None
    restart: bool  # services restart; jobs run once
    subnet: str | None = None  # of the internal network: the only source of new inbound connections
    gateway: str | None = None  # the host's address on the internal bridge, if it has one
    say: Callable[[str], None] = field(default=lambda _t: None)


def create_instance(host: DockerHost, rt: Runtime, index: int, gen: str, where: Placement,
                    secret_values: SecretLookup) -> Instance:
    """Create and start the namespace owner and the containers of instance ``index``."""
    api = host.api
    labels = naming.base_labels(where.stack, rt["address"], rt["hash"])
    labels.update({naming.LABEL_INSTANCE: str(index), naming.LABEL_GEN: gen, naming.LABEL_POOL: where.internal})
    # Secrets first: a missing value fails before anything is created.
    prepared = [_secret_env_and_files(rt, c, secret_values) for c in rt["containers"]]
    mounts_by_volume = _volumes(host, rt, index, gen, labels)
    env_extra = dict(rt["env"])
    if rt["job"]:
        env_extra.update(SNOWFLAKE_JOB_INDEX=str(index), SNOWFLAKE_JOBS_COUNT=str(rt["instances"]))
    for image in {c["image"] for c in rt["containers"]}:
        host.ensure_image(image)
    created: list[str] = []
    try:
        owner = _create_netns(host, rt, index, gen, where, labels)
        created.append(owner)
        members = []
        for pos, c in enumerate(rt["containers"]):
            env, files = prepared[pos]
            cid = _create_container(host, rt, c, index, gen, owner, where, labels, mounts_by_volume,
                                    {**c["env"], **env_extra, **env}, files)
            created.append(cid)
            members.append(cid)
        for cid in members:
            api.start(cid)
        return Instance(index, owner, members)
    except Exception:
        for cid in reversed(created):  # no half-made instance: it would look like drift and hold names
            _quiet(lambda cid=cid: api.remove_container(cid, force=True))
        raise


def _create_netns(host: DockerHost, rt: Runtime, index: int, gen: str, where: Placement,
                  labels: dict[str, str]) -> str:
    api = host.api
    image = infra.infra_image(host.client)
    created = api.create_container(
        image, name=naming.netns_name(where.stack, rt["name"], index, gen),
        command=infra.netns_command(where.subnet, where.gateway),
        labels={**labels, naming.LABEL_ROLE: naming.ROLE_NETNS}, hostname=f"{rt['dns']}-{index}",
        host_config=api.create_host_config(
            network_mode=where.internal, cap_add=["NET_ADMIN"], init=True, dns_search=[search_domain(rt)],
            # A bare name is tried in the schema's domain first (Docker's ndots:0 would first send it to
            # the upstream resolvers of a namespace with egress, and wait out their timeout offline).
            dns_opt=["ndots:1"],
            restart_policy={"Name": "always"} if where.restart else None),
        networking_config=api.create_networking_config(
            {where.internal: api.create_endpoint_config(aliases=list(rt["aliases"]))}),
    )
    cid = str(created["Id"])
    if where.egress:
        api.connect_container_to_network(cid, where.egress)
    api.start(cid)
    wait_netns(host, cid, rt)
    return cid


def wait_netns(host: DockerHost, cid: str, rt: Runtime) -> None:
    """Until the owner has set its firewall (members must not start in an open namespace)."""
    deadline = time.monotonic() + NETNS_START_TIMEOUT
    while True:
        logs = host.api.logs(cid).decode(errors="replace")
        if infra.READY_MARK in logs:
            return
        state = (host.api.inspect_container(cid).get("State") or {})
        if state.get("Status") in ("exited", "dead") or time.monotonic() > deadline:
            raise ProviderError(
                f"service {rt['fqn']}: the instance's network namespace owner could not set its firewall "
                f"(state {state.get('Status')}, exit code {state.get('ExitCode')}); it needs iptables and the "
                f"NET_ADMIN capability:\n    " + logs.strip().replace("\n", "\n    ")
            )
        time.sleep(0.05)


def _secret_env_and_files(rt: Runtime, c: dict[str, Any], secret_values: SecretLookup,
                          ) -> tuple[dict[str, str], dict[str, bytes]]:
    env: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for s in c["secrets"]:
        values = secret_values(s["secret"])
        if values is None:
            raise ProviderError(
                f"service {rt['fqn']}: container {c['name']} uses secret {s['secret']}, whose value the local "
                "target only knows during an apply of the stack that declares it; declare the Secret in the stack"
            )
        if "env" in s:
            env[s["env"]] = values.get(s["key"]) or ""
        else:
            for key, value in values.items():
                files[f"{s['dir'].rstrip('/')}/{key}"] = value.encode()
    return env, files


def _create_container(host: DockerHost, rt: Runtime, c: dict[str, Any], index: int, gen: str, owner: str,
                      where: Placement, labels: dict[str, str], mounts_by_volume: dict[str, Any],
                      env: dict[str, str], files: dict[str, bytes]) -> str:
    import docker

    api = host.api
    mounts = [docker.types.Mount(m["target"], **mounts_by_volume[m["volume"]]) for m in c["mounts"]]
    token = c.get("token")
    if token:
        _write_token(token)
        mounts.append(docker.types.Mount(token["target"], token["dir"], type="bind", read_only=True))
        if token["connection_config"]:
            env["SNOWFLAKE_HOME"] = token["target"]
    limits = host.limits(where.family, c["cpus"], c["memory"], c["gpus"], where.say, f"{rt['fqn']}/{c['name']}")
    host_config = api.create_host_config(
        network_mode=f"container:{owner}",
        restart_policy={"Name": "always"} if where.restart else None,
        mounts=mounts, memswap_limit=-1, init=True, **limits,  # init: apps as PID 1 still get SIGTERM
    )
    created = api.create_container(
        c["image"], name=naming.container_name(where.stack, rt["name"], index, gen, c["name"]),
        entrypoint=c["command"], command=c["args"], environment=env, host_config=host_config,
        labels={**labels, naming.LABEL_CONTAINER: c["name"], naming.LABEL_ROLE: naming.ROLE_MEMBER},
    )
    cid = str(created["Id"])
    if files:
        api.put_archive(cid, "/", _tar(files))
    return cid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _volume_exists(api: Any, name: str, owner: str | None = None) -> bool:
    """Whether Docker has volume ``name`` (made for service ``owner``, when given)."""
    for x in api.volumes(filters={"name": name}).get("Volumes") or []:  # the filter matches substrings
        if x["Name"] == name and (owner is None or (x.get("Labels") or {}).get(naming.LABEL_OBJECT) == owner):
            return True
    return False


def _volumes(host: DockerHost, rt: Runtime, index: int, gen: str, labels: dict[str, str]) -> dict[str, Any]:
    """Mount sources per spec volume; creates Docker volumes and stage directories as needed."""
    api = host.api
    out: dict[str, Any] = {}
    for v in rt["volumes"]:
        kind = v["type"]
        if kind == "stage":
            path = Path(v["host_path"])
            path.mkdir(parents=True, exist_ok=True)
            if v.get("uid") is not None or v.get("gid") is not None:
                try:
                    os.chown(path, v.get("uid") if v.get("uid") is not None else -1,
                             v.get("gid") if v.get("gid") is not None else -1)
                except PermissionError:
                    path.chmod(0o777)  # not root: let the container user write anyway
            out[v["name"]] = {"source": str(path), "type": "bind"}
            continue
        # local and memory volumes live as long as the instance generation; block volumes per instance.
        args = (labels[naming.LABEL_STACK], rt["name"], index, None if kind == "block" else gen, v["name"])
        name = naming.volume_name(*args, address=rt["address"])
        if kind == "block" and not _volume_exists(api, name):
            # A block volume made before names carried the service's address keeps serving the service that
            # made it (its data outlives generations); another service of that name gets a volume of its own.
            legacy = naming.volume_name(*args)
            if _volume_exists(api, legacy, owner=rt["address"]):
                name = legacy
        opts = {"type": "tmpfs", "device": "tmpfs", "o": f"size={v['size']}"} if kind == "memory" else None
        if not _volume_exists(api, name):
            v_labels = {**labels, naming.LABEL_CONTAINER: v["name"]}
            if kind == "block":
                v_labels[naming.LABEL_GEN] = ""
            api.create_volume(name, driver="local", driver_opts=opts, labels=v_labels)
        out[v["name"]] = {"source": name, "type": "volume"}
    return out


def _write_token(token: dict[str, Any]) -> None:
    """The session token file Snowflake mounts (an opaque local value; no Snowflake accepts it)."""
    d = Path(token["dir"])
    d.mkdir(parents=True, exist_ok=True)
    path = d / "token"
    if not path.exists():
        path.write_text(f"spcs-iac-local.{secrets.token_urlsafe(24)}", encoding="utf-8")
    path.chmod(int(token["permission"], 8))
    if token["connection_config"]:
        conn = token["connection"]
        values = {"account": conn["account"], "host": conn["host"], "authenticator": "oauth",
                  "token_file_path": f"{token['target']}/token", "database": conn["database"],
                  "schema": conn["schema"]}
        # A JSON string is a TOML basic string (same escapes): names with quotes or backslashes stay whole.
        lines = ["[default]", *(f"{key} = {json.dumps(str(value))}" for key, value in values.items())]
        (d / "connections.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode = len(data), 0o440
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _quiet(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # best-effort cleanup: the original error matters more
        pass
