"""Secret values out of what the commands on one object show: ``logs``, ``status`` and their errors.

An apply knows the stack's secret values and its executor scrubs them from every message. ``logs``,
``status`` and ``resume`` run without the stack, so the values come from where the local target put
them: the environment of the service's containers (``envVarName``) and the files copied into them
(``directoryPath``), besides any this process already knows (declared Secrets it read, or values a
driver handed in). Every value is hidden in each form ``model.redact`` knows, as in apply errors.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Iterator
from typing import Any

from spcs_iac.model.redact import scrub
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.containers import SecretLookup
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.records import Record

MAX_FILE = 1 << 20  # a secret file larger than this is not a secret value we wrote


def held_values(host: DockerHost, rec: Record, known: SecretLookup, stack: str) -> list[str]:
    """Every secret value the containers of service or job ``rec`` were given."""
    containers = (rec.get("runtime") or {}).get("containers") or []
    values: set[str] = set()
    for c in containers:
        for s in c["secrets"]:
            values.update(v for v in (known(s["secret"]) or {}).values() if v)
    wanted = {c["name"]: c["secrets"] for c in containers if c["secrets"]}
    if not wanted:
        return sorted(values)
    for summary in host.containers(obj=rec["address"], stack=stack):
        if naming.role(summary) != naming.ROLE_MEMBER:
            continue
        secrets = wanted.get((summary.get("Labels") or {}).get(naming.LABEL_CONTAINER) or "")
        if secrets:
            values.update(_from_container(host, summary["Id"], secrets))
    return sorted(v for v in values if v)


def _from_container(host: DockerHost, cid: str, secrets: list[dict[str, Any]]) -> set[str]:
    names = {s["env"] for s in secrets if "env" in s}
    out: set[str] = set()
    if names:
        try:
            env = (host.inspect_container(cid).get("Config") or {}).get("Env") or []
        except Exception:  # removed meanwhile: its logs are gone too
            return out
        out.update(value for key, _, value in (item.partition("=") for item in env) if key in names)
    for directory in {s["dir"] for s in secrets if "dir" in s}:
        out.update(_files(host, cid, directory))
    return out


def _files(host: DockerHost, cid: str, directory: str) -> set[str]:
    """The contents of the files under ``directory`` in the container (copied there at its creation)."""
    try:
        stream, _stat = host.api.get_archive(cid, directory.rstrip("/") or "/")
        data = b"".join(stream)
    except Exception:  # removed meanwhile, or nothing there: no value to hide
        return set()
    out = set()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member) if member.isfile() and member.size <= MAX_FILE else None
            if f is not None:
                out.add(f.read().decode(errors="replace"))
    return out


def hidden(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (text, or lists and dicts of it, as ``status`` answers) with every secret value hidden."""
    secrets = list(secrets)
    if not secrets:
        return value
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: hidden(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [hidden(v, secrets) for v in value]
    return value


def hidden_lines(lines: Iterator[str], secrets: list[str]) -> Iterator[str]:
    """``logs --follow``: each line as it comes, hidden; closing this closes the streams."""
    try:
        for line in lines:
            yield scrub(line, secrets)
    finally:
        close = getattr(lines, "close", None)
        if close is not None:
            close()
