"""Connections to Snowflake (parameters resolved by :mod:`.params`), with a query counter and a read cache.

Credentials are never printed: errors name the parameters, not their values. Every connection gets
timeouts by default (:mod:`.timeouts`): an account that stops answering fails the statement in flight, and
later ones are refused at once for a while, instead of holding the run.

A small pool of sessions lets independent operations run in parallel; each operation borrows one
session for its whole run, so ``USE ROLE`` in one operation cannot leak into another.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.targets.snowflake import timeouts
from spcs_iac.targets.snowflake.params import SECRET_KEYS, check_params
from spcs_iac.targets.snowflake.sql import Stmt, scrub

READ_CACHEABLE = ("SHOW", "DESC")


def quiet_local_connector(host: Any) -> None:
    """For an emulator on this machine, stop the connector's cloud SDK from probing the instance
    metadata endpoint (169.254.169.254) for a region: nothing there, and no traffic should leave."""
    if str(host or "") in ("localhost", "::1") or str(host or "").startswith("127."):
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def _connect(params: Mapping[str, Any]) -> Any:
    import snowflake.connector

    check_params(params)
    quiet_local_connector(params.get("host"))
    ready = timeouts.connector_params(params, timeouts.connector_version())
    began = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            conn = snowflake.connector.connect(**ready)
    except Exception as exc:  # the connector raises many types; never echo parameter values
        waited = time.monotonic() - began
        if timeouts.no_answer(exc, waited, float(ready["login_timeout"] or timeouts.LOGIN_TIMEOUT)):
            raise timeouts.NoAnswer(
                f"cannot connect to Snowflake account {params.get('account')!r}: it did not answer within "
                f"{waited:.0f} s (login); run the command again once it answers") from None
        text = scrub(str(exc), [str(params[k]) for k in SECRET_KEYS if params.get(k)])
        raise ProviderError(
            f"cannot connect to Snowflake account {params.get('account')!r} as user {params.get('user')!r}: {text}"
        ) from None
    # The connector reports the API usage of each call (a signature bind and a session-parameter read
    # per call: about 6% of its CPU per statement, paid on the interpreter lock every statement needs).
    # The flag only narrows what the account allows (Connection.telemetry_enabled).
    with contextlib.suppress(AttributeError):
        conn.telemetry_enabled = False
    return conn


# Logins under way at once for sessions lent under another role (each brings one more session): enough to
# give a role its own sessions within a round trip or two, without a burst of logins competing with the
# statements for the client's CPU.
EXTRA_LOGINS_AT_ONCE = 4
LOGIN_WAIT_ON_CLOSE = 30.0  # seconds close() waits for logins under way (each bounded by its own timeout)


class Session:
    """One connection and the role it currently uses."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        raw = getattr(conn, "role", None)
        self.default_role = ids.quote(raw) if raw else None
        self.role = self.default_role


class _Login:
    """A session being logged in; ``error`` is why it could not be."""

    error: BaseException | None = None


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
        # Whether the account takes several statements per request here (batch.py): None = not tried yet.
        self.multi_statement: bool | None = None
        self._logins: list[threading.Thread] = []  # sessions being logged in, in the background
        # When the account last stopped answering, and at which statement: later statements are refused at
        # once for a while rather than each waiting out its own timeouts.
        self._silent: tuple[float, str] | None = None
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

    def allow_sessions(self, count: int) -> None:
        """Let the pool grow to ``count`` sessions (it never shrinks)."""
        with self._lock:
            if count > self.max_sessions:
                self.max_sessions = count
                self._lock.notify_all()

    def log_in_ahead(self, count: int) -> None:
        """Start logging sessions in, in the background, until the pool has ``count`` (at most its size):
        borrowers then find them ready instead of each waiting for a login of its own."""
        with self._lock:
            for _ in range(min(count, self.max_sessions) - len(self._all)):
                self._start_login()

    def log_in_ahead_as(self, role: str, count: int) -> None:
        """Start logging sessions in under ``role`` (quoted), in the background, until ``count`` use it or
        the pool is full: operations under that role then find sessions needing no ``USE ROLE``."""
        with self._lock:
            using = sum(1 for s in self._all if s.role == role)
            for _ in range(min(count - using, self.max_sessions - len(self._all))):
                self._start_login(role)

    @contextmanager
    def session(self, role: str | None = None) -> Iterator[Session]:
        """Borrow a session for a run of statements; ``role`` (None: the default role) is the one they start
        with, so an idle session already using it is preferred: it needs no ``USE ROLE`` round trip."""
        sess = self._borrow(role)
        try:
            yield sess
        finally:
            with self._lock:
                self._idle.append(sess)
                self._lock.notify()

    def _borrow(self, role: str | None = None) -> Session:
        if not self.allowed:
            raise ProviderError(
                "not connected to Snowflake: this provider was created with connect=False (plan --assume-empty)"
            )
        self._refuse_if_silent("login")
        login: _Login | None = None
        with self._lock:
            # Whichever comes first: a session another operation returns, or the one this borrower logs in
            # (logins take longer than statements, and the connector runs them one at a time).
            while not self._idle:
                if login is not None and login.error is not None:
                    raise login.error
                if login is None and len(self._all) < self.max_sessions:
                    login = self._start_login(role)
                self._lock.wait()
            i = self._idle_index(role)
            if (login is None and not self._uses(self._idle[i], role) and len(self._all) < self.max_sessions
                    and sum(1 for s in self._all if s.conn is None) < EXTRA_LOGINS_AT_ONCE):
                # Lent at once, with a USE ROLE to come; one more session gives the next borrowers more
                # sessions to choose from, until each role keeps some of its own. It logs in under the
                # wanted role: the next borrower for it needs no USE ROLE either.
                self._start_login(role)
            return self._idle.pop(i)

    def _start_login(self, role: str | None = None) -> _Login:
        """Log one more session in, in the background (the lock held), under ``role`` (None: the default
        one); it joins the idle ones."""
        placeholder, login = Session(None), _Login()
        placeholder.role = role  # counted as that role's while it logs in (log_in_ahead_as)
        self._all.append(placeholder)
        wanted = role if role and self._default_role and role != self._default_role else None
        thread = threading.Thread(target=self._log_in, args=(placeholder, login, wanted), name="snowflake-login",
                                  daemon=True)
        self._logins = [t for t in self._logins if t.is_alive()] + [thread]
        thread.start()
        return login

    def _log_in(self, placeholder: Session, login: _Login, role: str | None = None) -> None:
        try:
            sess = self._connect_as(role)
        except BaseException as exc:
            if isinstance(exc, timeouts.NoAnswer):
                self._went_silent("login")
            with self._lock:
                if placeholder in self._all:
                    self._all.remove(placeholder)
                login.error = exc
                self._lock.notify_all()
            return
        with self._lock:
            closed = placeholder not in self._all  # the pool was closed while this session logged in
            if not closed:
                self._all[self._all.index(placeholder)] = sess
                if sess.default_role:
                    self._default_role = sess.default_role
                elif self._default_role:
                    sess.default_role = sess.role = self._default_role
                self._idle.append(sess)
                self._lock.notify_all()
        if closed:
            _close_quietly(sess.conn)

    def _connect_as(self, role: str | None) -> Session:
        """A new session, started under ``role`` when given (the connection's ``role`` parameter: no USE ROLE
        round trip later). Should that login be refused, the role is taken with USE ROLE instead, as
        any session would, and a failure shows there."""
        if role is None:
            return Session(self._connect(self.params))
        # The account reads the login's role as an identifier: bare names are folded to upper case and a
        # quoted one is taken as written (https://github.com/sqitchers/sqitch/issues/685), which is the form
        # ``role`` has here (ids.quote).
        try:
            conn = self._connect({**self.params, "role": role})
        except timeouts.NoAnswer:
            raise
        except ProviderError:  # e.g. the role was dropped meanwhile (390189)
            return Session(self._connect(self.params))
        sess = Session(conn)
        sess.default_role, sess.role = self._default_role, role
        return sess

    def _idle_index(self, role: str | None) -> int:
        """The idle session to lend (the lock held): the most recently returned one using ``role``, else the
        most recently returned one."""
        for i in range(len(self._idle) - 1, -1, -1):
            if self._uses(self._idle[i], role):
                return i
        return len(self._idle) - 1

    @staticmethod
    def _uses(sess: Session, role: str | None) -> bool:
        return sess.role == (role or sess.default_role)

    def close(self) -> None:
        with self._lock:
            sessions, self._all, self._idle = self._all, [], []
            logins, self._logins = self._logins, []
        # A login still under way closes its session itself once it arrives (_log_in); waited for here, so
        # that no session is left for the connector's exit-time cleanup when the process ends right after
        # (that cleanup has aborted processes). Not waited for from an account that stopped answering.
        deadline = time.monotonic() + (0 if self._silent else LOGIN_WAIT_ON_CLOSE)
        for thread in logins:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        conns = [s.conn for s in sessions if s.conn is not None]
        if not conns:
            return
        from concurrent.futures import ThreadPoolExecutor

        # Together: an account that stopped answering makes each logout wait out its own timeout.
        with ThreadPoolExecutor(max_workers=len(conns)) as pool:
            list(pool.map(_close_quietly, conns))

    # ---- statements --------------------------------------------------------------------------------------
    def run(self, sess: Session, s: Stmt, *, rows: bool = True) -> list[dict[str, Any]]:
        """Run one statement in a session, switching to its role first when needed. ``rows=False``: only
        whether it succeeded matters (its result is not fetched: one request less to the connector's core)."""
        self.use_role(sess, s.role or sess.default_role)
        return self._execute(sess, s, rows=rows)

    def use_role(self, sess: Session, role: str | None) -> None:
        if role and role != sess.role:
            self._execute(sess, Stmt(("USE ROLE", role)), rows=False)
            sess.role = role

    def _execute(self, sess: Session, s: Stmt, *, rows: bool = True) -> list[dict[str, Any]]:
        shown = s.render(display=True)
        self._refuse_if_silent(shown)
        with self._lock:
            self.count += 1
            self.log.append(shown)
            if s.mutating:
                self._cache.clear()
        sql = s.render(display=False)
        began = time.monotonic()
        try:
            cur = sess.conn.cursor()
            try:
                cur.execute(sql, **timeouts.statement_options(sql, timeouts.connector_version()))
                names = [d[0].lower() for d in (cur.description or [])] if rows else []
                found = [dict(zip(names, row, strict=False)) for row in cur.fetchall()] if names else []
            finally:
                cur.close()
        except ProviderError:
            raise
        except Exception as exc:
            waited = time.monotonic() - began
            if timeouts.no_answer(exc, waited, self._per_request()):
                self._went_silent(shown)
                raise timeouts.NoAnswer(
                    f"the account did not answer within {waited:.0f} s ({_line(shown)}); nothing after it ran; "
                    "run the command again once the account answers") from None
            msg = scrub(getattr(exc, "msg", None) or str(exc), s.secrets)
            raise ProviderError(f"{_short(shown)}\n  failed: {msg.strip()}") from None
        return found

    # ---- an account that stopped answering ---------------------------------------------------------------
    def _per_request(self) -> float:
        return timeouts.per_request(timeouts.connector_params(self.params, timeouts.connector_version()))

    def _went_silent(self, shown: str) -> None:
        """Remember that the account stopped answering, at which statement (or the login)."""
        with self._lock:
            self._silent = (time.monotonic(), _line(shown))

    def _refuse_if_silent(self, shown: str) -> None:
        """Refuse a statement (or login) at once while the account is known not to answer: each would
        wait out its own timeouts. The refusal lasts one request timeout, then the account is tried again."""
        with self._lock:
            silent = self._silent
        if silent is None:
            return
        since, what = silent
        ago = time.monotonic() - since
        if ago > self._per_request():
            with self._lock:
                self._silent = None
            return
        raise timeouts.NoAnswer(f"not sent ({_line(shown)}): the account stopped answering {ago:.0f} s ago, at "
                                f"{what}; run the command again once it answers")

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

    def read_batch(self, sqls: list[str], *, tolerate: Callable[[ProviderError], bool] | None = None,
                   optional: Collection[str] = ()) -> dict[str, list[dict[str, Any]] | ProviderError]:
        """Reads sent together in a few round trips (:mod:`.batch`); answers by statement."""
        from spcs_iac.targets.snowflake.batch import read_batch

        return read_batch(self, sqls, tolerate, optional)

    def cached(self, sql: str) -> list[dict[str, Any]] | None:
        with self._lock:
            return self._cache.get(sql)

    def remember(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Cache a read done outside :meth:`query` (SHOW / DESC only, until the next change)."""
        if sql.upper().startswith(READ_CACHEABLE):
            with self._lock:
                self._cache[sql] = rows

    def counted(self, sqls: list[str], *, mutating: bool) -> None:
        """Count statements sent outside :meth:`run` (several in one request)."""
        with self._lock:
            self.count += len(sqls)
            self.log.extend(sqls)
            if mutating:
                self._cache.clear()

    def forget_reads(self) -> None:
        with self._lock:
            self._cache.clear()


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # closing is best effort
        pass


def _line(text: str, limit: int = 160) -> str:
    """A statement on one short line, for one-line messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 4] + " ..."


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
