"""One service instance in Docker: its containers, volumes, session token, readiness and exit.

All containers of an instance share one network namespace, as in a Kubernetes pod: the first spec
container owns it (pool network, DNS aliases, published ports) and the others join it with
``network_mode=container:<first>``. Caveat: if the first container restarts, Docker gives it a new
namespace and the others keep the old one; a later apply sees nothing wrong with that instance.
"""

from __future__ import annotations

import errno
import io
import os
import secrets
import socket
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.runtime import Runtime

SecretLookup = Callable[[str], dict[str, str] | None]


@dataclass
class Placement:
    """Where an instance runs: its pool networks and the limits its pool gives each container."""

    stack: str
    internal: str  # pool network every instance joins
    extra: str | None  # egress or ingress network (publishing, outbound), or None
    family: str | None
    restart: bool  # services restart; jobs run once
    say: Callable[[str], None] = field(default=lambda _t: None)


def create_instance(host: DockerHost, rt: Runtime, index: int, gen: str, where: Placement,
                    secret_values: SecretLookup) -> list[str]:
    """Create and start the containers of instance ``index``; returns their ids (spec order)."""
    api = host.api
    labels = naming.base_labels(where.stack, rt["address"], rt["hash"])
    labels.update({naming.LABEL_INSTANCE: str(index), naming.LABEL_GEN: gen, naming.LABEL_POOL: where.internal})
    mounts_by_volume = _volumes(host, rt, index, gen, labels)
    env_extra = dict(rt["env"])
    if rt["job"]:
        env_extra.update(SNOWFLAKE_JOB_INDEX=str(index), SNOWFLAKE_JOBS_COUNT=str(rt["instances"]))
    for image in {c["image"] for c in rt["containers"]}:
        host.ensure_image(image)
    for attempt in range(3):
        ids: list[str] = []
        try:
            for pos, c in enumerate(rt["containers"]):
                ids.append(_create_container(host, rt, c, index, gen, pos, ids, where, labels, mounts_by_volume,
                                             env_extra, secret_values))
            for cid in ids:
                api.start(cid)
            return ids
        except Exception as exc:
            for cid in ids:  # no half-made instance: it would look like drift and hold names
                _quiet(lambda cid=cid: api.remove_container(cid, force=True))
            taken = "port is already allocated" in str(exc) or "address already in use" in str(exc)
            if not taken or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _create_container(host: DockerHost, rt: Runtime, c: dict[str, Any], index: int, gen: str, pos: int,
                      ids: list[str], where: Placement, labels: dict[str, str], mounts_by_volume: dict[str, Any],
                      env_extra: dict[str, str], secret_values: SecretLookup) -> str:
    import docker

    api = host.api
    env = {**c["env"], **env_extra}
    files: dict[str, bytes] = {}
    for s in c["secrets"]:
        values = secret_values(s["secret"])
        if values is None:
            raise ProviderError(
                f"{rt['fqn']}: container {c['name']} uses secret {s['secret']}, whose value the local target "
                "only knows during an apply that declares it; run apply"
            )
        if "env" in s:
            env[s["env"]] = values.get(s["key"]) or ""
        else:
            for key, value in values.items():
                files[f"{s['dir'].rstrip('/')}/{key}"] = value.encode()
    mounts = [docker.types.Mount(m["target"], **mounts_by_volume[m["volume"]]) for m in c["mounts"]]
    token = c.get("token")
    if token:
        _write_token(token)
        mounts.append(docker.types.Mount(token["target"], token["dir"], type="bind", read_only=True))
        if token["connection_config"]:
            env["SNOWFLAKE_HOME"] = token["target"]
    limits = host.limits(where.family, c["cpus"], c["memory"], c["gpus"], where.say, f"{rt['fqn']}/{c['name']}")
    c_labels = {**labels, naming.LABEL_CONTAINER: c["name"], naming.LABEL_ROLE: "netns" if pos == 0 else "member"}
    owner = pos == 0
    public_ports = [e["port"] for e in rt["endpoints"] if e["public"] and e["port"]] if owner and where.extra else []
    host_config = api.create_host_config(
        network_mode=where.internal if owner else f"container:{ids[0]}",
        # A free host port on loopback, chosen now and bound explicitly: it stays the same when the
        # container restarts (crash, suspend/resume), which Docker's own ephemeral choice does not.
        port_bindings={p: ("127.0.0.1", free_port()) for p in public_ports} or None,
        restart_policy={"Name": "always"} if where.restart else None,
        mounts=mounts, memswap_limit=-1, init=True, **limits,  # init: apps as PID 1 still get SIGTERM
    )
    networking = api.create_networking_config(
        {where.internal: api.create_endpoint_config(aliases=list(rt["aliases"]))}) if owner else None
    created = api.create_container(
        c["image"], name=naming.container_name(where.stack, rt["name"], index, gen, c["name"]),
        entrypoint=c["command"], command=c["args"], environment=env, labels=c_labels, host_config=host_config,
        networking_config=networking, ports=public_ports or None,
        hostname=f"{rt['dns']}-{index}" if owner else None,
    )
    cid = str(created["Id"])
    if owner and where.extra:
        api.connect_container_to_network(cid, where.extra)
    if files:
        api.put_archive(cid, "/", _tar(files))
    return cid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        name = naming.volume_name(labels[naming.LABEL_STACK], rt["name"], index,
                                  None if kind == "block" else gen, v["name"])
        opts = {"type": "tmpfs", "device": "tmpfs", "o": f"size={v['size']}"} if kind == "memory" else None
        if not any(x["Name"] == name for x in api.volumes(filters={"name": name}).get("Volumes") or []):
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
        lines = ["[default]", f'account = "{conn["account"]}"', f'host = "{conn["host"]}"',
                 'authenticator = "oauth"', f'token_file_path = "{token["target"]}/token"',
                 f'database = "{conn["database"]}"', f'schema = "{conn["schema"]}"']
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


# ---- readiness ------------------------------------------------------------------------------------
def container_ip(inspect: dict[str, Any], network: str | None = None) -> str | None:
    nets = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    if network and nets.get(network, {}).get("IPAddress"):
        return str(nets[network]["IPAddress"])
    return next((str(n["IPAddress"]) for n in nets.values() if n.get("IPAddress")), None)


def probe_http(api: Any, owner_id: str, ip: str | None, port: int, path: str) -> bool:
    """GET the probe over HTTP from the host via the pool network; inside the container if unroutable."""
    if ip:
        try:
            with urllib.request.urlopen(f"http://{ip}:{port}{path}", timeout=2) as resp:  # noqa: S310
                return 200 <= resp.status < 300
        except urllib.error.HTTPError:
            return False
        except OSError as exc:
            if getattr(exc, "errno", None) not in (errno.ENETUNREACH, errno.EHOSTUNREACH):
                reason = getattr(exc, "reason", None)
                if not isinstance(reason, OSError) or reason.errno not in (errno.ENETUNREACH, errno.EHOSTUNREACH):
                    return False
    code = (f"import urllib.request as u,sys;r=u.urlopen('http://127.0.0.1:{port}{path}',timeout=2);"
            "sys.exit(0 if 200<=r.status<300 else 1)")
    try:
        res = api.exec_create(owner_id, ["python3", "-c", code])
        api.exec_start(res["Id"])
        return api.exec_inspect(res["Id"]).get("ExitCode") == 0
    except Exception:  # no python3 in the image: cannot probe this way
        return False


def wait_ready(host: DockerHost, rt: Runtime, index: int, ids: list[str], internal: str, timeout: float) -> None:
    """Wait until every container of the instance runs and passes its readiness probe."""
    api = host.api
    deadline = time.monotonic() + timeout
    pending = set(range(len(ids)))
    while True:
        for pos in sorted(pending):
            info = api.inspect_container(ids[pos])
            state = info.get("State") or {}
            restarts = int(info.get("RestartCount") or 0)
            restarting = bool(((info.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name"))
            if restarts >= 3 or (state.get("Status") in ("exited", "dead") and not restarting):
                raise not_ready(host, rt, index, ids, f"container exits (restarted {restarts} times)")
            if state.get("Status") != "running":
                continue
            probe = rt["containers"][pos]["probe"]
            if probe is None:
                pending.discard(pos)
                continue
            owner = api.inspect_container(ids[0]) if pos else info
            if probe_http(api, ids[0], container_ip(owner, internal), probe["port"], probe["path"]):
                pending.discard(pos)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise not_ready(host, rt, index, ids, f"not READY after {timeout:.0f}s")
        time.sleep(0.3)


def not_ready(host: DockerHost, rt: Runtime, index: int, ids: list[str], why: str) -> ProviderError:
    return ProviderError(f"{rt['kind']} {rt['fqn']} instance {index}: {why}\n" + describe(host, rt, ids))


def describe(host: DockerHost, rt: Runtime, ids: list[str], lines: int = 15) -> str:
    """Status, message and last log lines of each container, for error messages."""
    out = []
    for pos, cid in enumerate(ids):
        name = rt["containers"][pos]["name"] if pos < len(rt["containers"]) else cid[:12]
        try:
            info = host.api.inspect_container(cid)
            state = info.get("State") or {}
            logs = host.api.logs(cid, tail=lines).decode(errors="replace").rstrip()
        except Exception as exc:  # the container may be gone already
            out.append(f"  container {name}: cannot inspect ({exc})")
            continue
        status = f"{state.get('Status')} exit={state.get('ExitCode')} restarts={info.get('RestartCount', 0)}"
        msg = state.get("Error") or ("OOM killed" if state.get("OOMKilled") else "")
        out.append(f"  container {name}: {status}{' ' + msg if msg else ''}")
        if logs:
            out.append("    " + logs.replace("\n", "\n    "))
    return "\n".join(out)


def wait_exit(host: DockerHost, ids: list[str], timeout: float) -> list[int] | None:
    """Exit codes once every container has exited, or None at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        states = [host.api.inspect_container(cid).get("State") or {} for cid in ids]
        if all(s.get("Status") in ("exited", "dead") for s in states):
            return [int(s.get("ExitCode") or 0) for s in states]
        if time.monotonic() > deadline:
            return None
        time.sleep(0.3)
