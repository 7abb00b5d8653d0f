"""Connections to Snowflake, configured like the Snowflake CLI, with a query counter and a read cache.

Parameters come from (lowest to highest precedence): a named connection in
``$SNOWFLAKE_HOME/connections.toml`` (``[NAME]``) or ``config.toml`` (``[connections.NAME]``),
``SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>`` and ``SNOWFLAKE_<KEY>`` environment variables, and the options
passed to the provider. Credentials are never printed: errors name the parameters, not their values.

A small pool of sessions lets independent operations run in parallel; each operation borrows one
session for its whole run, so ``USE ROLE`` in one operation cannot leak into another.
"""

from __future__ import annotations

import os
import threading
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.targets.snowflake.sql import Stmt, scrub

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
)
SECRET_KEYS = ("password", "token", "private_key_password", "passcode", "private_key", "oauth_client_secret")
INT_KEYS = ("port", "login_timeout", "network_timeout", "connect_timeout")
READ_CACHEABLE = ("SHOW", "DESC")


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


def quiet_local_connector(host: Any) -> None:
    """For an emulator on this machine, stop the connector's cloud SDK from probing the instance
    metadata endpoint (169.254.169.254) for a region: nothing there, and no traffic should leave."""
    if str(host or "") in ("localhost", "::1") or str(host or "").startswith("127."):
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def _connect(params: Mapping[str, Any]) -> Any:
    import snowflake.connector

    check_params(params)
    quiet_local_connector(params.get("host"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return snowflake.connector.connect(**params)
    except Exception as exc:  # the connector raises many types; never echo parameter values
        text = scrub(str(exc), [str(params[k]) for k in SECRET_KEYS if params.get(k)])
        raise ProviderError(
            f"cannot connect to Snowflake account {params.get('account')!r} as user {params.get('user')!r}: {text}"
        ) from None


class Session:
    """One connection and the role it currently uses."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        raw = getattr(conn, "role", None)
        self.default_role = ids.quote(raw) if raw else None
        self.role = self.default_role


class Db:
    """The provider's access to the account: counted statements, pooled sessions, cached reads."""

    def __init__(self, params: Mapping[str, Any], *, allowed: bool = True, max_sessions: int = 8,
                 read_parallelism: int = 4, connect: Callable[[Mapping[str, Any]], Any] = _connect) -> None:
        self.params = dict(params)
        self.allowed = allowed
        self.max_sessions = max(1, max_sessions)
        self.read_parallelism = max(1, read_parallelism)
        self._connect = connect
        self._idle: list[Session] = []
        self._all: list[Session] = []
        self._lock = threading.Condition()
        self._cache: dict[str, list[dict[str, Any]]] = {}
        self.count = 0  # every statement sent, USE ROLE included
        self.log: list[str] = []  # display form of every statement sent
        configured = self.params.get("role")
        self._default_role = ids.quote(ids.normalize(str(configured))) if configured else None

    # ---- sessions ----------------------------------------------------------------------------------
    @property
    def default_role(self) -> str | None:
        """The role sessions start with (known once connected; else the configured one)."""
        return self._default_role

    @property
    def connected(self) -> bool:
        return bool(self._all)

    @contextmanager
    def session(self) -> Iterator[Session]:
        sess = self._borrow()
        try:
            yield sess
        finally:
            with self._lock:
                self._idle.append(sess)
                self._lock.notify()

    def _borrow(self) -> Session:
        if not self.allowed:
            raise ProviderError(
                "not connected to Snowflake: this provider was created with connect=False (plan --assume-empty)"
            )
        with self._lock:
            while not self._idle and len(self._all) >= self.max_sessions:
                self._lock.wait()
            if self._idle:
                return self._idle.pop()
            self._all.append(placeholder := Session(None))
        try:
            sess = Session(self._connect(self.params))
        except BaseException:
            with self._lock:
                self._all.remove(placeholder)
                self._lock.notify()
            raise
        with self._lock:
            self._all[self._all.index(placeholder)] = sess
            if sess.default_role:
                self._default_role = sess.default_role
            elif self._default_role:
                sess.default_role = sess.role = self._default_role
        return sess

    def close(self) -> None:
        with self._lock:
            sessions, self._all, self._idle = self._all, [], []
        for s in sessions:
            try:
                if s.conn is not None:
                    s.conn.close()
            except Exception:  # closing is best effort
                pass

    # ---- statements --------------------------------------------------------------------------------------
    def run(self, sess: Session, s: Stmt) -> list[dict[str, Any]]:
        """Run one statement in a session, switching to its role first when needed."""
        want = s.role or sess.default_role
        if want and want != sess.role:
            self._execute(sess, Stmt(("USE ROLE", want)))
            sess.role = want
        return self._execute(sess, s)

    def _execute(self, sess: Session, s: Stmt) -> list[dict[str, Any]]:
        shown = s.render(display=True)
        with self._lock:
            self.count += 1
            self.log.append(shown)
            if s.mutating:
                self._cache.clear()
        try:
            cur = sess.conn.cursor()
            try:
                cur.execute(s.render(display=False))
                names = [d[0].lower() for d in (cur.description or [])]
                rows = [dict(zip(names, row, strict=False)) for row in cur.fetchall()] if names else []
            finally:
                cur.close()
        except ProviderError:
            raise
        except Exception as exc:
            msg = scrub(getattr(exc, "msg", None) or str(exc), s.secrets)
            raise ProviderError(f"{_short(shown)}\n  failed: {msg.strip()}") from None
        return rows

    def query(self, sql: str, *, cache: bool = True) -> list[dict[str, Any]]:
        """A read under the default role; SHOW/DESC results are cached until the next change."""
        cacheable = cache and sql.upper().startswith(READ_CACHEABLE)
        if cacheable:
            with self._lock:
                hit = self._cache.get(sql)
            if hit is not None:
                return hit
        with self.session() as sess:
            rows = self.run(sess, Stmt((sql,)))
        if cacheable:
            with self._lock:
                self._cache[sql] = rows
        return rows

    def queries(self, sqls: list[str], *, tolerate: Callable[[ProviderError], bool] | None = None,
                parallel: int | None = None) -> list[list[dict[str, Any]] | ProviderError]:
        """Several reads at once (independent SHOW/DESC); failures ``tolerate`` accepts are returned."""
        from concurrent.futures import ThreadPoolExecutor

        def one(sql: str) -> list[dict[str, Any]] | ProviderError:
            try:
                return self.query(sql)
            except ProviderError as exc:
                if tolerate is not None and tolerate(exc):
                    return exc
                raise

        parallel = parallel or self.read_parallelism
        if len(sqls) <= 1 or parallel <= 1:
            return [one(s) for s in sqls]
        with ThreadPoolExecutor(max_workers=min(parallel, len(sqls), self.max_sessions)) as pool:
            return list(pool.map(one, sqls))

    def forget_reads(self) -> None:
        with self._lock:
            self._cache.clear()


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit // 2] + " ... " + text[-limit // 4:]


def poll(check: Callable[[], bool], timeout: float, first: float = 0.2, cap: float = 5.0) -> bool:
    """Call ``check`` until it returns True (done: returns True) or the timeout passes (returns False).

    ``check`` raises to give up early (a failed container, a failed job)."""
    deadline = time.monotonic() + timeout
    delay = first
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(cap, delay * 1.5)
