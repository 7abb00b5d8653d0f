"""Connection parameters, resolved like the Snowflake CLI resolves them.

From lowest to highest precedence: a named connection in ``$SNOWFLAKE_HOME/connections.toml`` (``[NAME]``) or
``config.toml`` (``[connections.NAME]``), ``SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>`` and ``SNOWFLAKE_<KEY>``
environment variables, and the options passed to the provider. Credentials are never printed: errors name
the parameters, not their values.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.targets.snowflake import timeouts

# Option names accepted from files, environment and callers, mapped to snowflake.connector's names.
ALIASES = {
    "username": "user", "accountname": "account", "private_key_path": "private_key_file",
    "private_key_file_pwd": "private_key_password", "private_key_passphrase": "private_key_password",
    "dbname": "database", "schemaname": "schema", "rolename": "role", "warehousename": "warehouse",
}
ENV_KEYS = (
    "ACCOUNT", "USER", "PASSWORD", "ROLE", "WAREHOUSE", "DATABASE", "SCHEMA", "HOST", "PORT", "PROTOCOL",
    "AUTHENTICATOR", "PRIVATE_KEY_PATH", "PRIVATE_KEY_FILE", "PRIVATE_KEY_PASSPHRASE", "PRIVATE_KEY_FILE_PWD",
    "TOKEN", "TOKEN_FILE_PATH", "REGION", "PASSCODE", "OKTA_USERNAME", "LOGIN_TIMEOUT",
    "SOCKET_TIMEOUT", "NETWORK_TIMEOUT", "CONNECT_TIMEOUT", "RETRY_TIMEOUT", "RETRY_MAX_ATTEMPTS",  # timeouts.py
)
SECRET_KEYS = ("password", "token", "private_key_password", "passcode", "private_key", "oauth_client_secret")
INT_KEYS = ("port", *timeouts.KEYS)


def snowflake_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("SNOWFLAKE_HOME") or Path.home() / ".snowflake").expanduser()


def _toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProviderError(f"cannot read Snowflake configuration {path}: {exc}") from None


def named_connection(name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    home = snowflake_home(environ)
    found = _toml(home / "connections.toml").get(name)
    if found is None:
        found = (_toml(home / "config.toml").get("connections") or {}).get(name)
    return dict(found) if isinstance(found, dict) else None


def default_connection_name(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    if env.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME"):
        return env["SNOWFLAKE_DEFAULT_CONNECTION_NAME"]
    home = snowflake_home(env)
    name = _toml(home / "config.toml").get("default_connection_name")
    return name if isinstance(name, str) else None


def _canon(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or value == "":
            continue
        k = ALIASES.get(key.lower(), key.lower())
        out[k] = int(value) if k in INT_KEYS and isinstance(value, str) and value.isdigit() else value
    return out


def resolve_params(connection: str | None = None, options: Mapping[str, Any] | None = None,
                   environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The snowflake.connector parameters for a provider (see the module docstring for precedence)."""
    env = os.environ if environ is None else environ
    params: dict[str, Any] = {}
    name = connection or default_connection_name(env)
    if name:
        found = named_connection(name, env)
        if found is None and connection:
            raise ProviderError(
                f"Snowflake connection {connection!r} is not defined in {snowflake_home(env)}/connections.toml "
                "or config.toml [connections.<name>]"
            )
        params.update(_canon(found or {}))
        prefix = f"SNOWFLAKE_CONNECTIONS_{name.upper()}_"
        params.update(_canon({k[len(prefix):]: v for k, v in env.items() if k.startswith(prefix)}))
    params.update(_canon({k: env.get(f"SNOWFLAKE_{k}") for k in ENV_KEYS}))
    params.update(_canon(dict(options or {})))
    return params


def check_params(params: Mapping[str, Any]) -> None:
    missing = [k for k in ("account", "user") if not params.get(k)]
    auth = str(params.get("authenticator") or "").lower()
    if "user" in missing and auth in ("oauth", "programmatic_access_token", "workload_identity"):
        missing.remove("user")
    has_secret = any(params.get(k) for k in ("password", "token", "token_file_path", "private_key_file",
                                               "private_key"))
    if not has_secret and auth in ("", "snowflake"):
        missing.append("password (or private_key_file, token)")
    if missing:
        raise ProviderError(
            "the Snowflake connection is not configured: missing " + ", ".join(missing)
            + ". Give connection=NAME (from ~/.snowflake/connections.toml), set SNOWFLAKE_ACCOUNT, "
            "SNOWFLAKE_USER and SNOWFLAKE_PASSWORD (or SNOWFLAKE_PRIVATE_KEY_PATH), or pass them as options"
        )
