"""The provider's configuration: read, checked at preview (CheckConfig), compared (DiffConfig).

Keys (``pulumi config set spcs-iac:KEY``, or arguments of ``spcs_iac.pulumi.Provider``): ``target``, ``stateDir``,
``stack``, ``connection``, ``password``, ``snowflake`` (an object of connection options, JSON in stack config)
and ``destroyAdopted``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from spcs_iac.drivers.pulumi.wire import UNKNOWN, has_unknown
from spcs_iac.errors import SpcsIacError

PACKAGE = "spcs-iac"
CONFIG_KEYS = ("target", "stateDir", "stack", "connection", "password", "snowflake", "destroyAdopted")
DEFAULT_STATE_DIR = ".spcs-iac"
# Connection options that name the account (the others, user, role, warehouse, timeouts, say how to log in).
ACCOUNT_OPTIONS = ("account", "host", "port")


def read_config(variables: dict[str, str], args: dict[str, Any]) -> dict[str, Any]:
    """Provider configuration from the request's typed args, else its string variables."""
    out: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        value = args.get(key)
        if value is None:
            value = variables.get(f"{PACKAGE}:config:{key}", variables.get(f"{PACKAGE}:{key}"))
        if key == "snowflake" and value not in (None, "") and not has_unknown(value):
            value = _options(value)
        if key == "destroyAdopted" and value not in (None, ""):
            value = _flag(key, value)
        if value not in (None, ""):
            out[key] = value
    out.setdefault("target", "local")
    return out


def check_config(cfg: dict[str, Any]) -> None:
    """What read_config cannot tell alone: that the target is one spcs-iac has (a preview, not the first
    apply, says so)."""
    from spcs_iac.drivers.targets import known_targets

    target = cfg.get("target")
    if not has_unknown(target) and target not in known_targets():
        raise SpcsIacError(f"provider configuration {PACKAGE}:target {target!r} is not a known target; "
                           f"allowed: {', '.join(known_targets())}")


def _options(value: Any) -> Any:
    """The ``snowflake`` options: an object (JSON text in stack config). The text is not repeated: it may
    hold a password."""
    what = f"provider configuration {PACKAGE}:snowflake must be a JSON object of Snowflake connection options " \
           "(account, user, host, ...)"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SpcsIacError(f"{what}: {exc}") from None
    if not isinstance(value, dict):
        raise SpcsIacError(f"{what}, got {type(value).__name__}")
    return value


def _flag(key: str, value: Any) -> Any:
    if has_unknown(value):
        return value
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "false"):
        return str(value).strip().lower() == "true"
    raise SpcsIacError(f"provider configuration {PACKAGE}:{key} must be true or false, got {value!r}")


def stack_of(urn: str) -> str:
    """The Pulumi stack's name from a URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)."""
    parts = urn.split(":", 2)
    return parts[2].split("::", 1)[0] if len(parts) == 3 and urn.startswith("urn:pulumi:") else "pulumi"


def state_dir(cfg: dict[str, Any]) -> str:
    return os.path.abspath(str(cfg.get("stateDir") or DEFAULT_STATE_DIR))


def place(cfg: dict[str, Any], urn: str) -> dict[str, Any]:
    """What says where the provider's objects are: the target and, on Snowflake, the account (connection
    entry and account options); elsewhere (the local target, plugins) the state directory and the stack
    name its records and labels use. Unknown values (a preview) stay unknown."""
    out: dict[str, Any] = {"target": cfg.get("target", "local")}
    if has_unknown(out["target"]):
        return out
    if out["target"] == "snowflake":
        options = cfg.get("snowflake")
        out["connection"] = cfg.get("connection")
        for key in ACCOUNT_OPTIONS:
            value = options.get(key) if isinstance(options, dict) else options
            out[f"snowflake.{key}"] = value if value is None or has_unknown(value) else str(value).lower()
    else:
        out["stateDir"] = UNKNOWN if has_unknown(cfg.get("stateDir")) else state_dir(cfg)
        out["stack"] = UNKNOWN if has_unknown(cfg.get("stack")) else str(cfg.get("stack") or stack_of(urn))
    return out


def moved(olds: dict[str, Any], news: dict[str, Any], urn: str) -> list[str]:
    """Config keys whose change points the provider at another place (an unknown one may: as Pulumi's
    Kubernetes provider does for a cluster it cannot tell yet, that counts)."""
    before, after = place(_lenient(olds), urn), place(_lenient(news), urn)
    changed = [k for k in sorted(set(before) | set(after))
               if before.get(k) != after.get(k) or has_unknown(after.get(k))]
    return sorted({k.split(".", 1)[0] for k in changed})


def _lenient(values: dict[str, Any]) -> dict[str, Any]:
    """The configuration for comparing: as read, keeping what CheckConfig would refuse as it is."""
    out = {k: v for k, v in values.items() if k in CONFIG_KEYS and v not in (None, "")}
    if isinstance(out.get("snowflake"), str) and not has_unknown(out["snowflake"]):
        try:
            out["snowflake"] = json.loads(out["snowflake"])
        except ValueError:
            pass
    out.setdefault("target", "local")
    return out
