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
# Connection parameters that name the account (the others, user, role, warehouse, timeouts, say how to log in).
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


def moved(olds: dict[str, Any], news: dict[str, Any], urn: str) -> list[str]:
    """The configuration keys whose change points the provider at another place, where the objects Pulumi
    records are not: another target; on Snowflake another account (the connection entry and options as
    they resolve, so a renamed entry for the same account is no move); elsewhere another state directory
    or stack name. A value not known yet (a preview) may be a move, and counts as one, as Pulumi's
    Kubernetes provider counts a cluster it cannot tell yet. Raises, in one line, for a move the target
    cannot make: on the local target, another state directory under the same stack name."""
    old, new = _lenient(olds), _lenient(news)
    if has_unknown(new["target"]) or old["target"] != new["target"]:
        return ["target"]
    if new["target"] == "snowflake":
        if _account(old) == _account(new) and not has_unknown(_account(new)):
            return []
        return [k for k in ("connection", "snowflake") if old.get(k) != new.get(k) or has_unknown(new.get(k))]
    keys = [k for k in ("stack", "stateDir") if has_unknown(new.get(k))
            or _where(old, urn)[k] != _where(new, urn)[k]]
    if new["target"] == "local" and keys == ["stateDir"]:
        return _local_directory(_where(old, urn), _where(new, urn))
    return keys


def _where(cfg: dict[str, Any], urn: str) -> dict[str, str]:
    return {"stack": str(cfg.get("stack") or stack_of(urn)), "stateDir": state_dir(cfg)}


def _account(cfg: dict[str, Any]) -> Any:
    """What the Snowflake connection resolves to (account, host, port), as the target resolves it."""
    from spcs_iac.targets.snowflake.params import resolve_params

    options, connection = cfg.get("snowflake"), cfg.get("connection")
    if has_unknown(options) or has_unknown(connection):
        return UNKNOWN
    try:
        params = resolve_params(connection, options if isinstance(options, dict) else {})
    except SpcsIacError:  # an entry that is not defined: the configuration as given
        return (connection, json.dumps(options, sort_keys=True, default=str))
    return tuple(str(params.get(k) or "").lower() for k in ACCOUNT_OPTIONS)


def _local_directory(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Another state directory for the same local stack: the catalog moved there (no replacement), or a
    refusal: the local target names its containers and networks by stack, so objects made again under the
    same name in the new directory would be the old ones, which the old directory's deletes then remove."""
    from spcs_iac.targets.local import naming
    from spcs_iac.targets.local.records import Catalog

    def catalog(directory: str) -> bool:
        return Catalog(naming.local_dir(directory), new["stack"]).path.exists()

    if catalog(new["stateDir"]) and not catalog(old["stateDir"]):
        return []
    raise SpcsIacError(
        f"provider configuration {PACKAGE}:stateDir: moving stack {new['stack']!r} from {old['stateDir']} to "
        f"{new['stateDir']} cannot make its objects again there (the local target names containers and networks "
        f"by stack, not directory); move the directory itself, set {PACKAGE}:stateDir back, or give {PACKAGE}:stack "
        "a new name as well (every resource is then replaced)")


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
