"""Docker build / push and registry digest helpers, shared by the targets that run images.

The Snowflake target pushes to the account's image registry; the local target may push to a local
registry. Both need the same three things: build an :class:`~spcs_iac.model.kinds.spcs.Image` from its
context, push it and learn the pushed digest, and ask a registry which digest a tag points at now
(Docker Registry HTTP API v2, with the token handshake Snowflake's registry uses).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from spcs_iac.errors import ProviderError

if TYPE_CHECKING:
    from spcs_iac.model.kinds.spcs import Image

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class RegistryUnreachable(ProviderError):
    """The registry could not be contacted at all (DNS, connection refused, timeout)."""


@dataclass(frozen=True)
class RegistryAuth:
    username: str
    password: str

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"RegistryAuth(username={self.username!r}, password=***)"


def split_ref(ref: str) -> tuple[str, str, str]:
    """``host[:port]/path/name:tag`` -> (host, path/name, tag)."""
    host, sep, rest = ref.partition("/")
    if not sep or not rest:
        raise ProviderError(f"image reference {ref!r} has no registry host")
    path, colon, tag = rest.rpartition(":")
    if not colon or "/" in tag:
        path, tag = rest, "latest"
    return host, path, tag


def is_local_registry(host: str) -> bool:
    return host.rsplit(":", 1)[0] in LOCAL_HOSTS or host.startswith("[::1]")


def _scheme(host: str) -> str:
    return "http" if is_local_registry(host) else "https"


def _open(req: urllib.request.Request, timeout: float) -> Any:
    try:
        return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - registry URLs only
    except urllib.error.HTTPError as exc:
        return exc  # an HTTP answer: the caller looks at .code
    except OSError as exc:  # URLError, timeouts and refused connections are all OSErrors
        reason = getattr(exc, "reason", exc)
        raise RegistryUnreachable(f"registry {req.host} cannot be reached: {reason}") from None


_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def _authorization(challenge: str, auth: RegistryAuth, timeout: float) -> str:
    """Answer a ``WWW-Authenticate`` challenge: Basic directly, Bearer via the token endpoint."""
    basic = "Basic " + base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
    if not challenge.lower().startswith("bearer"):
        return basic
    params = dict(_CHALLENGE.findall(challenge))
    realm = params.pop("realm", "")
    if not realm:
        raise ProviderError("the registry asked for a token but named no token service")
    url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(params)
    resp = _open(urllib.request.Request(url, headers={"Authorization": basic}), timeout)
    if getattr(resp, "code", 200) >= 400:
        raise ProviderError(f"registry login refused for user {auth.username!r} (HTTP {resp.code})")
    data = json.loads(resp.read() or b"{}")
    token = data.get("token") or data.get("access_token")
    if not token:
        raise ProviderError("the registry token service returned no token")
    return f"Bearer {token}"


def remote_digest(ref: str, auth: RegistryAuth | None = None, timeout: float = 15.0) -> str | None:
    """The digest the registry serves for ``ref`` now, or None when the tag does not exist."""
    host, path, tag = split_ref(ref)
    url = f"{_scheme(host)}://{host}/v2/{path}/manifests/{urllib.parse.quote(tag)}"
    headers = {"Accept": ", ".join(MANIFEST_TYPES)}
    for attempt in range(2):
        resp = _open(urllib.request.Request(url, headers=headers, method="HEAD"), timeout)
        code = getattr(resp, "code", 200)
        if code == 401 and auth is not None and attempt == 0:
            headers["Authorization"] = _authorization(resp.headers.get("WWW-Authenticate", ""), auth, timeout)
            continue
        if code == 404:
            return None
        if code >= 400:
            raise ProviderError(f"registry {host} answered HTTP {code} for {path}:{tag}")
        digest = resp.headers.get("Docker-Content-Digest")
        if digest:
            return str(digest)
        body = _open(urllib.request.Request(url, headers=headers), timeout).read()
        return "sha256:" + hashlib.sha256(body).hexdigest()
    raise ProviderError(f"registry {host} refused the credentials of user {auth.username if auth else '?'!r}")


def docker_client() -> Any:
    import docker

    try:
        return docker.from_env()
    except Exception as exc:  # docker.errors.DockerException and socket errors
        raise ProviderError(f"Docker is not available to build images: {exc}") from None


def build(image: Image, ref: str, client: Any = None, log: Callable[[str], None] | None = None) -> str:
    """``docker build --platform ... -t ref context``; returns the local image id."""
    import docker

    client = client or docker_client()
    try:
        built, _logs = client.images.build(
            path=image.context, dockerfile=image.dockerfile, tag=ref, buildargs=dict(image.build_args),
            platform=image.platform, rm=True, forcerm=True,
        )
    except docker.errors.BuildError as exc:
        lines = [str(x.get("stream") or x.get("error") or "").rstrip() for x in exc.build_log]
        tail = "\n".join(x for x in lines if x)[-2000:]
        raise ProviderError(f"docker build of {ref} failed: {exc.msg}\n{tail}") from None
    except (docker.errors.APIError, TypeError) as exc:
        raise ProviderError(f"docker build of {ref} failed: {exc}") from None
    if log:
        log(f"    built {ref} ({built.short_id})")
    return str(built.id)


def push(ref: str, auth: RegistryAuth | None = None, client: Any = None,
         log: Callable[[str], None] | None = None) -> str:
    """``docker push ref``; returns the digest the registry recorded."""
    import docker

    client = client or docker_client()
    host, path, tag = split_ref(ref)
    auth_config = {"username": auth.username, "password": auth.password} if auth else None
    digest = None
    try:
        if auth is not None:
            client.login(username=auth.username, password=auth.password, registry=host, reauth=True)
        for line in client.api.push(f"{host}/{path}", tag=tag, stream=True, decode=True, auth_config=auth_config):
            if line.get("error"):
                raise ProviderError(f"docker push {ref} failed: {line['error']}")
            digest = (line.get("aux") or {}).get("Digest") or digest
    except docker.errors.APIError as exc:
        raise ProviderError(f"docker push {ref} failed: {exc.explanation or exc}") from None
    digest = digest or remote_digest(ref, auth)
    if not digest:
        raise ProviderError(f"docker push {ref} finished but the registry does not list the tag")
    if log:
        log(f"    pushed {ref}@{digest}")
    return digest


def display_commands(image: Image, ref: str) -> list[str]:
    """The equivalent docker commands, for plans (build-arg values are not shown)."""
    args = " ".join(f"--build-arg {shlex.quote(k)}" for k in sorted(image.build_args))
    dockerfile = "" if image.dockerfile == "Dockerfile" else f" -f {shlex.quote(image.dockerfile)}"
    build_cmd = f"docker build --platform {shlex.quote(image.platform)}{dockerfile} {args} -t {shlex.quote(ref)}"
    return [" ".join(build_cmd.split()) + f" {shlex.quote(image.context)}", f"docker push {shlex.quote(ref)}"]


class ImageTool(Protocol):
    """What a target needs from Docker; tests substitute a fake."""

    def build_and_push(self, image: Image, ref: str, auth: RegistryAuth | None,
                       log: Callable[[str], None] | None) -> str: ...

    def remote_digest(self, ref: str, auth: RegistryAuth | None) -> str | None: ...


class DockerImages:
    """The real :class:`ImageTool`: the Docker engine from the environment and the registry API."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def build_and_push(self, image: Image, ref: str, auth: RegistryAuth | None,
                       log: Callable[[str], None] | None = None) -> str:
        build(image, ref, self.client, log)
        return push(ref, auth, self.client, log)

    def remote_digest(self, ref: str, auth: RegistryAuth | None) -> str | None:
        return remote_digest(ref, auth)
