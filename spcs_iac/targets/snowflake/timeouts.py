"""How long a connection waits for an account that stopped answering: the defaults, in one place.

Left to the connector, an account that accepts a connection and never replies holds an apply, and its
state lock, for many minutes: connector 5 waits 300 s per HTTP attempt over six attempts, and connectors
3 and 4 retry forever (their ``network_timeout`` is unset). So every connection gets these defaults,
each overridable under its connector name in connections.toml (``[NAME] login_timeout = 30``), by
``SNOWFLAKE_<KEY>`` or ``SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>``, or as a provider option. The connection
parameters: https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api
(``connect``), and https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-connect
(managing connection timeouts).

No default caps how long a statement may run: a synchronous EXECUTE JOB SERVICE runs as long as its job.
Snowflake answers a request whose statement is still running within about 45 s and the connector asks
again with a new request, so a per-request limit above that, with a bounded number of attempts, is what
tells a long statement from an account that stopped answering.

The connector's names differ by version (``connector_params`` translates):

- connector 5 (a new core): ``login_timeout``; ``connect_timeout`` and ``retry_timeout`` (the connect, and
  one HTTP attempt); ``retry_max_attempts``; ``logout_total_timeout_seconds``. Its ``query_timeout`` is a
  cap on statements and stays unset. ``socket_timeout`` and ``network_timeout`` are deprecated there and
  are translated the way connector 5 itself would (to connect + retry timeouts, and query + request
  timeouts).
- connectors 3 and 4: ``login_timeout``; ``socket_timeout`` (connect and read of one attempt);
  ``network_timeout`` (the retry time of one request). ``network_timeout`` also cancels any statement
  still running after that long (``cursor.execute`` arms a timer with it), so the statements that wait
  for the account's work (``WAITS``) are run with Snowflake's own default statement limit instead
  (``statement_options``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from spcs_iac.errors import ProviderError

LOGIN_TIMEOUT = 60  # seconds for the whole login, retries included
REQUEST_TIMEOUT = 60  # seconds for one HTTP attempt: connect, send, wait for the reply (above Snowflake's ~45 s)
ATTEMPTS = 3  # HTTP attempts per request: an account that stopped answering costs at most about 3 minutes
LOGOUT_TIMEOUT = 15  # seconds for closing a session (connector 5's own default), never above REQUEST_TIMEOUT

# Statements that wait for the account's work and may legitimately run for minutes or hours.
WAITS = re.compile(r"\s*(EXECUTE\s+JOB\s+SERVICE|CREATE\s+(OR\s+REPLACE\s+)?SERVICE|PUT)\b", re.IGNORECASE)
# STATEMENT_TIMEOUT_IN_SECONDS' default, two days: what such a statement may take on connectors 3 and 4.
# https://docs.snowflake.com/en/sql-reference/parameters#statement-timeout-in-seconds
STATEMENT_LIMIT = 172800

# Every key the timeouts are given under, by either generation (read as integers from the environment).
KEYS = ("login_timeout", "socket_timeout", "network_timeout", "connect_timeout", "retry_timeout",
        "retry_max_attempts", "query_timeout", "request_timeout", "logout_total_timeout_seconds")
NEW_CORE_ONLY = ("connect_timeout", "retry_timeout", "retry_max_attempts", "query_timeout", "request_timeout",
                 "logout_total_timeout_seconds")


class NoAnswer(ProviderError):
    """The account did not answer a request in time (or refused it): the statement's fate is unknown."""


@cache
def connector_version() -> str:
    import snowflake.connector

    return str(getattr(snowflake.connector, "__version__", "0"))


def new_core(version: str) -> bool:
    """Whether this connector version has connector 5's parameters (and deprecates the older names)."""
    m = re.match(r"\s*(\d+)", version)
    return bool(m) and int(m.group(1)) >= 5


def _at_least(version: str, major: int, minor: int) -> bool:
    m = re.match(r"\s*(\d+)\.(\d+)", version)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (major, minor)


def logout_on_close(version: str) -> dict[str, Any]:
    """The parameter saying that close always logs the session out, for connectors that ask for it: 5.2
    warns on every login (from every login thread) while it is unsaid. This provider never leaves
    asynchronous queries running to keep a session for."""
    if new_core(version) and _at_least(version, 5, 2):
        return {"enable_server_session_keep_alive_auto_detection": False}
    return {}


def connector_params(params: Mapping[str, Any], version: str) -> dict[str, Any]:
    """``params`` with the timeout defaults added, under the names this connector version reads; what the
    caller gave wins, and timeouts given under the other generation's names are translated."""
    out = dict(params)
    if new_core(version):
        socket = out.pop("socket_timeout", None)
        if socket is not None:
            out.setdefault("connect_timeout", socket)
            out.setdefault("retry_timeout", socket)
        network = out.pop("network_timeout", None)
        if network is not None:  # the caller asked for this cap: connector 5 maps it to these two
            out.setdefault("query_timeout", network)
            out.setdefault("request_timeout", network)
        out.setdefault("login_timeout", LOGIN_TIMEOUT)
        out.setdefault("connect_timeout", REQUEST_TIMEOUT)
        out.setdefault("retry_timeout", REQUEST_TIMEOUT)
        out.setdefault("retry_max_attempts", ATTEMPTS)
        out.setdefault("logout_total_timeout_seconds", min(LOGOUT_TIMEOUT, _positive(out["retry_timeout"])))
        for key, value in logout_on_close(version).items():
            out.setdefault(key, value)
        return out
    given = {k: out.pop(k) for k in NEW_CORE_ONLY if k in out}
    per_request = given.get("retry_timeout", given.get("connect_timeout"))
    if per_request is not None:
        out.setdefault("socket_timeout", per_request)
    out.setdefault("login_timeout", LOGIN_TIMEOUT)
    out.setdefault("socket_timeout", REQUEST_TIMEOUT)
    attempts = given.get("retry_max_attempts", ATTEMPTS)
    out.setdefault("network_timeout", _positive(out["socket_timeout"]) * max(1, int(attempts)))
    return out


def statement_options(sql: str, version: str) -> dict[str, Any]:
    """Keyword arguments for ``cursor.execute``: on connectors 3 and 4, a statement that waits for the
    account's work gets Snowflake's statement limit rather than ``network_timeout``'s cancel timer."""
    if not new_core(version) and WAITS.match(sql):
        return {"timeout": STATEMENT_LIMIT}
    return {}


def per_request(params: Mapping[str, Any]) -> float:
    """Seconds one HTTP attempt may take under these (connector-ready) parameters."""
    for key in ("retry_timeout", "socket_timeout"):
        if params.get(key):
            return float(params[key])
    return float(REQUEST_TIMEOUT)


def _positive(value: Any) -> int:
    """A timeout of 0 means "none" to the connector: derived limits fall back to the default."""
    number = int(value)
    return number if number > 0 else REQUEST_TIMEOUT


def no_answer(exc: BaseException, waited: float, per_request_seconds: float) -> bool:
    """Whether the connector gave up for want of an answer (a timeout, a refused or dropped connection),
    rather than the account answering with an error."""
    if getattr(exc, "sfqid", None):  # the account ran the statement and answered
        return False
    from snowflake.connector.errors import OperationalError

    # ER_FAILED_TO_CONNECT_TO_DB: how connector 5 reports a login that got no answer.
    if not isinstance(exc, OperationalError) and getattr(exc, "errno", None) != 250001:
        return False
    text = str(exc).lower()
    return waited >= per_request_seconds or any(
        w in text for w in ("timed out", "timeout", "refused", "reset", "aborted", "could not connect"))
