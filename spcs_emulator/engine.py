"""The emulator: sessions, statement dispatch, statistics, fault injection and persistence."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import ddl_account, ddl_objects, functions, grants, pools, repos, result_scan, services, tables  # noqa: F401
from .catalog import Catalog
from .context import Ctx, Session
from .data import DataEngine
from .ddl_account import KEPT_SESSION_PARAMETERS
from .errors import SqlError, simulated_failure
from .parser import Parser
from .registry import HANDLERS, lookup
from .results import Result
from .silence import Silence

MUTATING = {"CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "EXECUTE"}
DEFAULT_REGISTRY_HOST = "emu-account.registry.snowflakecomputing.com"
KEPT_RESULTS = 20_000  # past results kept for RESULT_SCAN and GET /queries/<id>/result
EndpointHandler = Callable[[dict[str, Any]], dict[str, Any]]


class Emulator:
    """A Snowflake account emulator for the SQL shapes spcs-iac emits.

    Thread-safe: statements run under one lock. Time-dependent state (service/pool/job status) is
    derived lazily from timestamps, so no background threads are needed.
    """

    def __init__(
        self,
        latency_ms: float = 0,
        fail_at: int | None = None,
        fail_matching: str | None = None,
        registry_host: str = DEFAULT_REGISTRY_HOST,
        ready_delay_s: float = 0.2,
        account: str = "EMU",
        region: str = "AWS_US_WEST_2",
        state_file: str | os.PathLike[str] | None = None,
        users: dict[str, list[str]] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        # Roles granted to each user (upper-case names). A user not listed is an administrator: ACCOUNTADMIN.
        self.users = {u.upper(): [r.upper() for r in rs] for u, rs in (users or {}).items()}
        self.latency_ms = latency_ms
        self.fail_at = fail_at
        self.fail_matching = fail_matching
        self.fail_mode = "before"
        self.registry_host = registry_host
        self.ready_delay_s = ready_delay_s
        self.account = account
        self.region = region
        self.version = "9.20.0"
        self.edition = "ENTERPRISE"  # SYSTEM$BOOTSTRAP_DATA_REQUEST's serviceLevelName
        self.internal_errors: list[str] = []  # requests that failed inside the emulator (000603): its bugs
        self.state_file = Path(state_file) if state_file else None
        self.sessions: dict[str, Session] = {}
        self.endpoint_handlers: dict[tuple[tuple[str, ...], str, str], EndpointHandler] = {}
        self.images: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self.stage_files: dict[tuple[tuple[str, ...], str], str] = {}
        self.uploads: dict[str, tuple[tuple[str, ...], str]] = {}  # presigned-URL token -> (stage, path)
        # Results of past statements by query id, with the user who ran them (RESULT_SCAN); the newest kept.
        self._results: OrderedDict[str, tuple[str, Result]] = OrderedDict()
        self.cat = Catalog.fresh(time.time())
        # Table rows: beside the state file when there is one (DuckDB keeps them on disk), else in memory.
        self.data = DataEngine(Path(str(self.state_file) + ".duckdb") if self.state_file else None)
        self._mutations = 0
        self._stats: Counter[str] = Counter()  # first keyword -> count
        self._statements: list[str] = []
        self._round_trips: Counter[str] = Counter()  # HTTP requests served, by kind (see round_trip)
        self.sleep: Callable[[float], None] = time.sleep  # how round_trip waits (tests may watch it)
        self.silence = Silence()  # inject(hang=...): the account stops answering (silence.py)
        self._next_session = 1
        if self.state_file and self.state_file.exists():
            self.load_state(self.state_file)

    # -- test hooks -----------------------------------------------------------------------------
    def inject(self, **kw: Any) -> None:
        """Change ``latency_ms``, ``fail_at``, ``fail_matching``, ``fail_mode`` or ``ready_delay_s`` at runtime,
        or stop answering: ``hang=True`` now, ``hang_matching=REGEX`` at that statement (:mod:`.silence`).

        ``fail_at`` counts mutating statements from the moment it is set (1 = the next one).
        ``fail_mode`` says when the injected fault strikes: ``"before"`` the statement takes effect (the
        default), or ``"after"`` it took effect, as when the reply is lost on the way back.
        """
        if "hang_matching" in kw:
            self.silence.matching = kw.pop("hang_matching")
        if "hang" in kw:
            self.silence.hang(bool(kw.pop("hang")))
        with self.lock:
            for key, value in kw.items():
                if key not in ("latency_ms", "fail_at", "fail_matching", "fail_mode", "ready_delay_s"):
                    raise TypeError(f"unknown injection {key!r}")
                setattr(self, key, value)
            if "fail_at" in kw:
                self._mutations = 0
            if self.fail_mode not in ("before", "after"):
                raise ValueError(f"fail_mode must be 'before' or 'after', not {self.fail_mode!r}")

    def stats(self) -> dict[str, Any]:
        """Statements run (``total``, ``by_keyword``, ``mutating``, ``statements``) and HTTP requests served
        (``round_trips``, ``round_trips_by_kind``: login, query, result, status, upload, telemetry, ...)."""
        with self.lock:
            return {
                "total": sum(self._stats.values()),
                "by_keyword": dict(self._stats),
                "mutating": sum(n for k, n in self._stats.items() if k in MUTATING),
                "statements": list(self._statements),
                "round_trips": sum(self._round_trips.values()),
                "round_trips_by_kind": dict(self._round_trips),
            }

    def reset_stats(self) -> None:
        with self.lock:
            self._stats.clear()
            self._statements.clear()
            self._round_trips.clear()

    def remember(self, query_id: str, session: Session, result: Result) -> None:
        """Keep a statement's result for RESULT_SCAN and count it in the session's history (LAST_QUERY_ID)."""
        with self.lock:
            session.query_ids.append(query_id)
            del session.query_ids[:-KEPT_RESULTS]
            self._results[query_id] = (session.user, result)
            while len(self._results) > KEPT_RESULTS:
                self._results.popitem(last=False)

    def past_result(self, query_id: str, user: str) -> Result | None:
        """A remembered result, to the user who ran the statement only."""
        with self.lock:
            found = self._results.get(query_id)
        return found[1] if found is not None and found[0] == user else None

    def round_trip(self, kind: str) -> None:
        """One HTTP request reached the account: count it and pay the injected network latency
        (``latency_ms``) once, however many statements it carries."""
        with self.lock:
            self._round_trips[kind] += 1
            delay = self.latency_ms / 1000.0
        if delay:
            self.sleep(delay)
        self.silence.hold()

    def reset(self) -> None:
        """Forget every object, grant, statistic and injected fault (sessions stay logged in)."""
        self.silence.answer()
        with self.lock:
            self.cat = Catalog.fresh(time.time())
            self.reset_stats()
            self.fail_at = None
            self.fail_matching = None
            self.fail_mode = "before"
            self.latency_ms = 0
            self._mutations = 0
            self.images.clear()
            self.stage_files.clear()
            self._results.clear()
            self.data.reset()
            for session in self.sessions.values():
                session.role = "ACCOUNTADMIN"
                session.database = session.schema = session.warehouse = None
                session.parameters.clear()

    def register_endpoint(self, service_fqn: str, endpoint: str, path: str, handler: EndpointHandler) -> None:
        """Handle service-function calls routed to ``service_fqn``'s ``endpoint`` at ``path``.

        ``handler`` receives ``{"data": [[0, arg, ...]]}`` and returns ``{"data": [[0, result]]}``.
        """
        key = tuple(Parser(service_fqn).name())
        with self.lock:
            self.endpoint_handlers[(key, endpoint, path)] = handler

    def add_image(self, repo_fqn: str, image: str, tag: str = "latest", digest: str | None = None) -> None:
        """Record an image as pushed to a repository (used when no real registry is running)."""
        import hashlib

        key = tuple(Parser(repo_fqn).name())
        digest = digest or "sha256:" + hashlib.sha256(f"{image}:{tag}".encode()).hexdigest()
        with self.lock:
            self.images.setdefault(key, []).append(
                {"image": image, "tag": tag, "digest": digest, "created_on": time.time()}
            )

    # -- PUT: the connector asks where to upload, then sends the file to a presigned URL ----------
    def prepare_upload(self, session: Session, sql: str, base_url: str) -> dict[str, Any]:
        """Answer ``PUT 'file://<path>' @stage[/dir] ...`` the way a GCS-backed account does, with a
        presigned URL on this server; :meth:`finish_upload` stores what the connector sends there."""
        m = _PUT.match(sql)
        if m is None:
            raise SqlError("001003", "42000", "SQL compilation error:\nsyntax error in PUT: expected "
                           "PUT 'file://<path>' @<stage>[/<path>] [AUTO_COMPRESS = ...] [OVERWRITE = ...]")
        with self.lock:
            self._statements.append(sql)
            self._stats["PUT"] += 1
            self._maybe_fail(sql)
            # The quoted form ('@"my stage"/dir', https://docs.snowflake.com/en/sql-reference/sql/put) is a
            # string literal ('' and backslash escapes): the lexer decodes it.
            parts, sub = Parser(m.group("loc")).stage_location()
            ctx = Ctx(self, session, self.cat, sql)
            stage = ctx.object_key(parts, "PUT")
            self.cat.require("STAGE", stage)
            source = m.group("src")
            filename = source.rstrip("/").rsplit("/", 1)[-1]
            token = uuid.uuid4().hex
            self.uploads[token] = (tuple(stage), "/".join(x for x in (sub.strip("/"), filename) if x))
        return {
            "command": "UPLOAD", "src_locations": [source], "autoCompress": False, "overwrite": True,
            "sourceCompression": "none", "parallel": 1, "threshold": 200_000_000, "encryptionMaterial": None,
            "stageInfo": {"locationType": "GCS", "location": f"emulator-stage/{token}/", "path": f"{token}/",
                          "region": "US", "storageAccount": None, "isClientSideEncrypted": False, "creds": {},
                          "presignedUrl": f"{base_url}/stage-upload/{token}", "endPoint": None,
                          "useRegionalUrl": False, "useVirtualUrl": False},
            "rowtype": [], "rowset": [], "queryResultFormat": "json",
        }

    def finish_upload(self, token: str, content: bytes) -> bool:
        with self.lock:
            target = self.uploads.pop(token, None)
            if target is None:
                return False
            self.stage_files[target] = content.decode("utf-8", errors="replace")
        if self.state_file:
            self.save_state(self.state_file)
        return True

    def _forget_stage_files(self) -> None:
        """A dropped stage takes its files with it, as do its schema and database."""
        for key in [k for k in self.stage_files if self.cat.get("STAGE", tuple(k[0])) is None]:
            del self.stage_files[key]

    def put_stage_file(self, stage_fqn: str, path: str, content: str) -> None:
        """Provide a file on a stage (e.g. a service spec used by ``FROM @stage SPECIFICATION_FILE``)."""
        key = tuple(Parser(stage_fqn).name())
        with self.lock:
            self.stage_files[(key, path.strip("/"))] = content

    # -- persistence ----------------------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        with self.lock:
            return self.cat.dump()

    def save_state(self, path: str | os.PathLike[str]) -> None:
        # One save at a time, under the statement lock (uploads finish outside it): each writes the state as
        # it is then, the last the newest, and none renames away another's temporary file.
        with self.lock:
            data = json.dumps(self.dump_state(), indent=1, sort_keys=True)
            tmp = Path(str(path) + ".tmp")
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, path)

    def load_state(self, path: str | os.PathLike[str]) -> None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        with self.lock:
            self.cat = Catalog.load(data)

    # -- sessions -------------------------------------------------------------------------------
    def login(self, user: str, role: str | None = None, warehouse: str | None = None,
              database: str | None = None, schema: str | None = None,
              parameters: dict[str, Any] | None = None) -> Session:
        with self.lock:
            granted = self.user_roles(user)
            role_name = _session_ident(role) or ("ACCOUNTADMIN" if "ACCOUNTADMIN" in granted else min(granted))
            if self.cat.get("ROLE", (role_name,)) is None or role_name not in self.usable_roles(user):
                raise SqlError(
                    "390189", "08004",
                    f"Role '{role_name}' specified in the connect string does not exist or not authorized. "
                    "Contact your local system administrator, or attempt to login with another role, "
                    "e.g. PUBLIC.",
                )
            session = Session(secrets.token_urlsafe(24), self._next_session, user, role_name)
            session.parameters = {k.upper(): str(v) for k, v in (parameters or {}).items()
                                  if k.upper() in KEPT_SESSION_PARAMETERS}
            self._next_session += 1
            wh = _session_ident(warehouse)
            if wh and self.cat.get("WAREHOUSE", (wh,)):
                session.warehouse = wh
            db = _session_ident(database)
            if db and self.cat.get("DATABASE", (db,)):
                session.database = db
                sc = _session_ident(schema) or "PUBLIC"
                if self.cat.get("SCHEMA", (db, sc)):
                    session.schema = sc
            self.sessions[session.token] = session
            return session

    def user_roles(self, user: str) -> set[str]:
        """Roles granted to the user directly (GRANT ROLE ... TO USER included), PUBLIC always."""
        name = user.upper()
        base = self.users.get(name, ["ACCOUNTADMIN"])
        return {*base, *self.cat.user_grants.get(name, []), "PUBLIC"}

    def usable_roles(self, user: str) -> set[str]:
        """Roles USE ROLE accepts: those granted to the user and every role below them."""
        out: set[str] = set()
        for role in self.user_roles(user):
            out |= self.cat.closure(role)
        return out

    def logout(self, token: str) -> None:
        with self.lock:
            self.sessions.pop(token, None)
        self.data.end_session(token)

    def session(self, token: str) -> Session | None:
        with self.lock:
            return self.sessions.get(token)

    # -- execution ------------------------------------------------------------------------------
    def execute(self, session: Session, sql: str) -> Result:
        self.silence.statement(sql)
        with self.lock:
            self._statements.append(sql)
            ctx = Ctx(self, session, self.cat, sql)
            words = _leading_words(sql)
            self._stats[words[0] if words else ""] += 1
            if not words:
                raise SqlError("000900", "42000", "Empty SQL statement.")
            lost_reply = False
            if words[0] in MUTATING and words[:2] != ["ALTER", "SESSION"]:
                lost_reply = self._maybe_fail(sql)
            parser = Parser(sql)
            skip = 0
            if words[:3] == ["CREATE", "OR", "REPLACE"]:
                ctx.or_replace = True
                words = ["CREATE", *words[3:]]
                skip = 2
            found = lookup(words)
            if found is None:
                raise parser.error(parser.peek(_known_prefix(words) + skip))
            n, handler = found
            parser.i = n + skip
            if words[0] == "SELECT" and result_scan.is_result_scan(parser):
                result = result_scan.select(ctx, parser)
            elif words[0] == "SELECT" and tables.reads_tables(parser):
                result = tables.select_rows(ctx)
            else:
                try:
                    result = handler(ctx, parser)
                except SqlError as exc:
                    # A SELECT of expressions the literal handler does not know: DuckDB evaluates it.
                    if words[0] != "SELECT" or exc.code not in ("001003", "002141", "090105", "090106"):
                        raise
                    result = tables.select_rows(ctx)
            if words[:2] in (["DROP", "DATABASE"], ["DROP", "SCHEMA"]):
                self.data.sync(ctx)
            if words[0] == "DROP":
                self._forget_stage_files()
            if words[0] in MUTATING and self.state_file:
                self.save_state(self.state_file)
            if lost_reply:
                raise simulated_failure(sql)
        if ctx.after is not None:
            return ctx.after()
        return result

    def _maybe_fail(self, sql: str) -> bool:
        """Raise the injected fault now (mode "before"), or return True to raise it once the statement
        has taken effect (mode "after")."""
        self._mutations += 1
        hit = self.fail_at is not None and self._mutations == self.fail_at
        if hit:
            self.fail_at = None
        elif self.fail_matching and re.search(self.fail_matching, sql, flags=re.IGNORECASE):
            self.fail_matching = None
            hit = True
        if hit and self.fail_mode == "before":
            raise simulated_failure(sql)
        return hit


_PUT = re.compile(r"^\s*PUT\s+'?file://(?P<src>[^'\s]+)'?\s+(?P<loc>'@(?:[^'\\]|''|\\.)*'|@\S+)(?P<opts>.*?);?\s*$",
                  re.IGNORECASE | re.DOTALL)


def _known_prefix(words: list[str]) -> int:
    """How many leading words match the start of some registered statement."""
    best = 0
    for key in HANDLERS:
        n = 0
        while n < min(len(key), len(words)) and key[n] == words[n]:
            n += 1
        best = max(best, n)
    return best


def _leading_words(sql: str) -> list[str]:
    """Up to eight leading keywords (unquoted identifiers) of the statement, upper-cased."""
    try:
        toks = Parser(sql).toks
    except SqlError:
        toks = []
        m = re.match(r"\s*([A-Za-z_]+)", sql)
        return [m.group(1).upper()] if m else []
    words: list[str] = []
    for tok in toks[:8]:
        if tok.kind != "ident":
            break
        words.append(tok.value)
    if words and words[0] == "DESCRIBE":
        words[0] = "DESC"
    return words


def _session_ident(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > 1 and value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('""', '"')
    return value.upper()
