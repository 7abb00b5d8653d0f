"""A service's endpoint proxy: Debian's haproxy in one container per service with HTTP endpoints.

What SPCS's ingress does, locally:

- every HTTP endpoint gets a host port on 127.0.0.1, allocated once per service endpoint and kept in
  the service's catalog record (``edge``), so its URL stays the same across rolling upgrades,
  suspend/resume and re-applies;
- requests are spread round robin over the instances that pass their check (the readiness probe of
  the container serving that port, else a TCP connect); instances are found through Docker's DNS
  (the service's alias on the pool network), so new generations join without reconfiguration;
- private endpoints are published too, but only requests carrying the gateway token (kept in the
  record, sent by the service-function gateway) get through: the host sees 403, like a caller without
  Snowflake's side of a service function.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import socket
import tarfile
import time
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model.base import fingerprint
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.runtime import Runtime

Edge = dict[str, Any]  # {"ports": {endpoint name: host port}, "token": str}
FRONT_BASE = 20000  # proxy-side port of the i-th proxied endpoint
MONITOR_PORT = 19999  # proxy-side only: /ready (every backend has a server up) and /stats
TOKEN_HEADER = "x-spcs-iac-gateway"
CONFIG_PATH = "/usr/local/etc/spcs-iac/haproxy.cfg"
SLOTS = 16  # servers per backend (instances, plus new generations during a rolling upgrade)


def proxied(rt: Runtime) -> list[dict[str, Any]]:
    """Endpoints the proxy serves: a service's HTTP(S) endpoints with a port; private HTTPS is left out
    (its requests are encrypted, so the gateway token cannot be checked)."""
    if rt["job"]:
        return []
    return [e for e in rt["endpoints"] if e["port"] and (e["protocol"] == "HTTP" or
                                                          (e["protocol"] == "HTTPS" and e["public"]))]


def plan_edge(rt: Runtime, old: Edge | None) -> Edge:
    """The edge of a service: ports kept from ``old`` for endpoints that are still proxied."""
    from spcs_iac.targets.local.containers import free_port

    old = old or {}
    ports = {e["name"]: int((old.get("ports") or {}).get(e["name"]) or free_port()) for e in proxied(rt)}
    kept = {"config": old["config"]} if old.get("config") else {}  # what the running proxy was given
    return {"ports": ports, "token": old.get("token") or secrets.token_urlsafe(24), **kept}


def public_urls(rt: Runtime, edge: Edge | None) -> dict[str, str]:
    ports = (edge or {}).get("ports") or {}
    return {e["name"]: f"http://127.0.0.1:{ports[e['name']]}" for e in proxied(rt) if e["public"] and e["name"] in ports}


def gateway_target(rt: Runtime, edge: Edge | None, endpoint: str) -> tuple[str, dict[str, str]]:
    """(base URL, headers) through which the function gateway reaches ``endpoint``."""
    ep = next((e for e in proxied(rt) if e["name"] == endpoint), None)
    port = ((edge or {}).get("ports") or {}).get(endpoint)
    if ep is None or port is None:
        raise ProviderError(f"service {rt['fqn']}: endpoint {endpoint!r} is not an HTTP endpoint the local target "
                            "proxies; apply the stack again")
    return f"http://127.0.0.1:{port}", ({} if ep["public"] else {TOKEN_HEADER: edge["token"]})  # type: ignore[index]


def config(rt: Runtime, edge: Edge) -> str:
    """haproxy.cfg for the service."""
    target = rt["aliases"][-1]  # the schema-qualified alias: unique on a pool shared by schemas
    probes = {c["probe"]["port"]: c["probe"]["path"] for c in rt["containers"] if c["probe"]}
    lines = [
        "global", "  maxconn 4096", "  log stdout format raw local0 warning",
        "defaults", "  log global", "  timeout connect 1s", "  timeout client 1h", "  timeout server 1h",
        "  timeout tunnel 1h", "  retries 3", "  option redispatch 1",  # a gone instance: the next one answers
        "  default-server init-addr none resolvers docker resolve-prefer ipv4 check inter 1s fall 1 rise 1",
        "resolvers docker", "  nameserver dns 127.0.0.11:53", "  timeout resolve 1s", "  hold valid 1s",
        "  hold obsolete 1s", "  accepted_payload_size 8192",
        "listen monitor", f"  bind :{MONITOR_PORT}", "  mode http", "  monitor-uri /ready", "  stats enable",
        "  stats uri /stats", "  stats show-legends",  # legends: the CSV then carries server addresses
    ]
    eps = proxied(rt)
    for i, _e in enumerate(eps):
        lines.append(f"  acl down_{i} nbsrv(ep_{i}) lt 1")
    lines.append("  monitor fail if " + " || ".join(f"down_{i}" for i in range(len(eps))))
    for i, e in enumerate(eps):
        mode = "http" if e["protocol"] == "HTTP" else "tcp"
        lines += [f"frontend fe_{i}", f"  bind :{FRONT_BASE + i}", f"  mode {mode}", f"  default_backend ep_{i}"]
        if not e["public"]:
            # "--": a token may begin with "-", which haproxy would read as an ACL option (secrets.token_urlsafe
            # gives one such token in 64) and refuse the whole configuration.
            lines += [f"  http-request deny deny_status 403 unless {{ req.hdr({TOKEN_HEADER}) -m str -- "
                      f"{_quoted(edge['token'])} }}",
                      f"  http-request del-header {TOKEN_HEADER}"]
        lines += [f"backend ep_{i}", f"  mode {mode}", "  balance roundrobin"]
        if mode == "http":
            # An instance stopped by a rolling upgrade may close a connection it already took, before
            # answering: the request goes to the next instance instead of becoming a 502.
            lines.append("  retry-on conn-failure empty-response response-timeout")
        if mode == "http" and e["port"] in probes:
            lines.append(f"  option httpchk GET {_quoted(probes[e['port']])}")
        lines.append(f"  server-template i 1-{SLOTS} {target}:{e['port']}")
    return "\n".join(lines) + "\n"


def _quoted(word: str) -> str:
    """``word`` as one haproxy argument, as written: single quotes take everything literally (no ``#``
    comment, no ``$`` variable, no backslash escape); a single quote inside closes, adds ``\'``, reopens."""
    return "'" + word.replace("'", "'\\''") + "'"


def ensure(host: DockerHost, rt: Runtime, edge: Edge, *, stack: str, internal: str, ingress: str | None,
           image: str, say: Any) -> str | None:
    """The service's running proxy (created, recreated when its configuration changed, or started);
    None when the service has nothing to proxy. May move a port that something else took (``edge``)."""
    api = host.api
    current = [s for s in host.containers(obj=rt["address"], stack=stack) if naming.role(s) == naming.ROLE_PROXY]
    if not proxied(rt) or ingress is None:
        for s in current:
            _remove(api, s["Id"])
        return None
    text = config(rt, edge)
    want = _bindings_hash(rt, edge)
    keep = next((s for s in current if (s.get("Labels") or {}).get(naming.LABEL_HASH) == want), None)
    for s in current:
        if s is not keep:
            _remove(api, s["Id"])
    if keep is not None:
        cid = str(keep["Id"])
        if edge.get("config") != fingerprint(text):  # same ports, new routing: reload, no gap
            api.put_archive(cid, "/", _tar(CONFIG_PATH, text))
            if keep.get("State") == "running":
                api.kill(cid, signal="SIGUSR2")  # haproxy's master re-reads its configuration
        if keep.get("State") != "running":
            try:
                api.start(cid)
            except Exception as exc:
                if not _taken(exc):
                    raise
                # Its ports are the endpoints' URLs: kept, not moved, when another program took one.
                raise port_taken(rt, edge, exc) from None
        edge["config"] = fingerprint(text)
        return cid
    for attempt in range(3):
        try:
            cid = _create(host, rt, edge, text, want, stack=stack, internal=internal, ingress=ingress, image=image)
            edge["config"] = fingerprint(text)
            return cid
        except Exception as exc:
            if not _taken(exc):
                raise
            if attempt == 2:
                raise port_taken(rt, edge, exc) from None
            _move_taken_ports(edge, rt, say)
            text = config(rt, edge)
            want = _bindings_hash(rt, edge)
    raise AssertionError("unreachable")


def _bindings_hash(rt: Runtime, edge: Edge) -> str:
    """What forces a new proxy container: its published ports (a new routing only reloads haproxy)."""
    return fingerprint({"ports": [(e["name"], edge["ports"][e["name"]]) for e in proxied(rt)]})


def _create(host: DockerHost, rt: Runtime, edge: Edge, text: str, want: str, *, stack: str, internal: str,
            ingress: str, image: str) -> str:
    api = host.api
    eps = proxied(rt)
    labels = {**naming.base_labels(stack, rt["address"], want), naming.LABEL_ROLE: naming.ROLE_PROXY,
              naming.LABEL_POOL: internal}
    bindings = {FRONT_BASE + i: ("127.0.0.1", edge["ports"][e["name"]]) for i, e in enumerate(eps)}
    name = naming.proxy_name(stack, rt["name"], rt["schema"], rt["database"], rt["address"])
    for s in api.containers(all=True, filters={"name": name}):  # a leftover of an interrupted run
        if s.get("Names") and s["Names"][0].lstrip("/") == name \
                and (s.get("Labels") or {}).get(naming.LABEL_OBJECT) == rt["address"]:  # never another's
            _remove(api, s["Id"])
    created = api.create_container(
        image, name=name, command=["haproxy", "-W", "-db", "-f", CONFIG_PATH], labels=labels,
        ports=list(bindings), host_config=api.create_host_config(  # published from the ingress network
            network_mode=ingress, port_bindings=bindings, restart_policy={"Name": "always"}, init=True),
    )
    cid = str(created["Id"])
    try:
        api.connect_container_to_network(cid, internal)  # where the instances are
        api.put_archive(cid, "/", _tar(CONFIG_PATH, text))
        api.start(cid)
    except Exception:
        _remove(api, cid)
        raise
    return cid


def _taken(exc: BaseException) -> bool:
    """Whether Docker could not publish a port because something else listens there."""
    return any(why in str(exc) for why in ("port is already allocated", "address already in use"))


def _in_use(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", int(port)))
        except OSError:
            return True
    return False


def port_taken(rt: Runtime, edge: Edge, exc: BaseException) -> ProviderError:
    """What to tell the user when the proxy cannot publish an endpoint's port: which endpoint, which port."""
    ports = {name: int(port) for name, port in (edge.get("ports") or {}).items()}
    named = re.search(r"(?:127\.0\.0\.1|0\.0\.0\.0):(\d+)", str(exc))
    taken = [(n, p) for n, p in ports.items() if named and p == int(named.group(1))] or \
        [(n, p) for n, p in ports.items() if _in_use(p)]
    if not taken:  # freed meanwhile: say what Docker said
        return ProviderError(f"service {rt['fqn']}: its endpoint proxy cannot publish its ports: "
                             f"{getattr(exc, 'explanation', None) or exc}")
    what = ", ".join(f"endpoint {n} (127.0.0.1:{p})" for n, p in taken)
    first = taken[0][1]
    return ProviderError(
        f"service {rt['fqn']}: {what} cannot be published: the host port is in use by another program. The "
        f"endpoint keeps its port so that its URL stays the same: stop that program (`ss -ltnp 'sport = :{first}'` "
        f"shows which), then run `spcs-iac resume {rt['fqn']}` or apply again."
    )


def _move_taken_ports(edge: Edge, rt: Runtime, say: Any) -> None:
    from spcs_iac.targets.local.containers import free_port

    for name, port in list(edge["ports"].items()):
        if not _in_use(port):
            continue
        edge["ports"][name] = free_port()
        say(f"    ! {rt['fqn']}: port {port} of endpoint {name} is taken by another program; the endpoint moves "
            f"to 127.0.0.1:{edge['ports'][name]}")


def wait_ready(host: DockerHost, cid: str, rt: Runtime, timeout: float) -> None:
    """Until every proxied endpoint has an instance passing its check."""
    deadline = time.monotonic() + timeout
    while not _curl_ok(host, cid, "/ready"):
        if time.monotonic() > deadline:
            logs = host.api.logs(cid, tail=10).decode(errors="replace").strip()
            raise ProviderError(f"service {rt['fqn']}: the endpoint proxy sees no ready instance after "
                                f"{timeout:.0f}s" + (f"\n    {logs}" if logs else ""))
        time.sleep(0.2)


def servers(host: DockerHost, cid: str) -> dict[str, set[str]]:
    """Backend -> IP addresses of the servers the proxy has UP now."""
    text = _curl(host, cid, "/stats;csv")
    if text is None:
        return {}
    out: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(text.lstrip("# "))):
        if row.get("svname") in ("FRONTEND", "BACKEND") or not (row.get("pxname") or "").startswith("ep_"):
            continue
        out.setdefault(row["pxname"], set())
        if (row.get("status") or "").startswith("UP") and row.get("addr"):
            out[row["pxname"]].add(row["addr"].rsplit(":", 1)[0])
    return out


def wait_servers(host: DockerHost, cid: str, *, up: set[str], down: set[str], timeout: float = 5.0) -> bool:
    """Until every backend has the ``up`` addresses UP and none of the ``down`` ones (best effort)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = servers(host, cid)
        if now and all(up <= s and not down & s for s in now.values()):
            return True
        time.sleep(0.2)
    return False


def _curl(host: DockerHost, cid: str, path: str) -> str | None:
    try:
        res = host.api.exec_create(cid, ["curl", "-fsS", "-m", "2", f"http://127.0.0.1:{MONITOR_PORT}{path}"])
        out = host.api.exec_start(res["Id"])
        if host.api.exec_inspect(res["Id"]).get("ExitCode") != 0:
            return None
        return bytes(out).decode(errors="replace")
    except Exception:  # the proxy is (re)starting
        return None


def _curl_ok(host: DockerHost, cid: str, path: str) -> bool:
    return _curl(host, cid, path) is not None


def _tar(path: str, text: str) -> bytes:
    buf = io.BytesIO()
    data = text.encode()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _remove(api: Any, cid: str) -> None:
    try:
        api.remove_container(cid, force=True)
    except Exception:  # already gone
        pass
