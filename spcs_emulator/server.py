"""HTTP front end speaking the Snowflake REST protocol used by ``snowflake.connector``.

Endpoints (all JSON; request bodies may be gzip-compressed):

* ``POST /session/v1/login-request`` - login; query string carries ``roleName``, ``warehouse``,
  ``databaseName``, ``schemaName``; body ``data.LOGIN_NAME``/``PASSWORD``.
* ``POST /queries/v1/query-request`` - execute ``sqlText``; header ``Authorization: Snowflake Token="<t>"``.
* ``POST /queries/v1/abort-request``, ``POST /session/heartbeat``, ``POST /session/token-request``,
  ``POST /telemetry/send`` - acknowledged.
* ``POST /session?delete=true`` (logout; also ``DELETE /session``).
* ``GET /monitoring/queries/<id>`` and ``GET /queries/<id>/result`` - status/result of past queries (a
  multi-statement request's children are fetched this way, one request each: :mod:`.multi`).

Every request is one round trip: :meth:`Emulator.round_trip` counts it by kind and pays the injected latency.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import threading
import time
import uuid
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from . import multi
from .context import Session
from .engine import DEFAULT_REGISTRY_HOST, KEPT_RESULTS, Emulator
from .errors import SqlError
from .results import TEXT, Result
from .silence import Unanswered

_TOKEN = re.compile(r'Snowflake Token="([^"]*)"')
SESSION_PARAMETERS = [
    {"name": "TIMEZONE", "value": "UTC"},
    {"name": "CLIENT_RESULT_CHUNK_SIZE", "value": 160},
    {"name": "QUERY_RESULT_FORMAT", "value": "JSON"},
    {"name": "CLIENT_SESSION_KEEP_ALIVE", "value": False},
    {"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": 3600},
    # On unless an administrator turns it off, as in the login answers recorded in Snowflake's own driver
    # tests (gosnowflake); connectors then report their API usage unless the client narrows it.
    {"name": "CLIENT_TELEMETRY_ENABLED", "value": True},
]
# Request path -> the kind of round trip it counts as.
ROUND_TRIP_KINDS = (("/session/v1/login-request", "login"), ("/queries/v1/query-request", "query"),
                    ("/monitoring/queries/", "status"), ("/queries/", "result"), ("/session/heartbeat", "heartbeat"),
                    ("/session/token-request", "token"), ("/telemetry/", "telemetry"), ("/session", "logout"),
                    ("/stage-upload/", "upload"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms delayed-ACK stalls
    server: _Server

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except Unanswered:  # the account stopped answering (silence.py): close without a reply
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing -------------------------------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if raw[:2] == b"\x1f\x8b" or "gzip" in (self.headers.get("Content-Encoding") or ""):
            raw = gzip.decompress(raw)
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _send(self, payload: dict[str, Any], code: int = 200) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _session(self) -> Session | None:
        match = _TOKEN.search(self.headers.get("Authorization") or "")
        return self.server.emulator.session(match.group(1)) if match else None

    def _unauthorized(self) -> None:
        self._send({"success": False, "code": "390104", "data": None, "headers": None,
                    "message": "User must login again to access the service."}, 401)

    @staticmethod
    def _ok(data: Any = None) -> dict[str, Any]:
        return {"success": True, "code": None, "message": None, "data": data}

    def _round_trip(self) -> None:
        path = urlparse(self.path).path
        kind = next((k for prefix, k in ROUND_TRIP_KINDS if path.startswith(prefix)), "other")
        self.server.emulator.round_trip(kind)

    # -- routing --------------------------------------------------------------------------------
    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        url = urlparse(self.path)
        body = self._body()
        self._round_trip()
        if url.path == "/session/v1/login-request":
            return self._login(parse_qs(url.query), body)
        if url.path == "/session" and "delete=true" in url.query:
            return self._logout()
        if url.path == "/queries/v1/query-request":
            return self._query(body)
        if url.path in ("/queries/v1/abort-request", "/session/heartbeat", "/telemetry/send"):
            return self._send(self._ok())
        if url.path == "/session/token-request":
            session = self._session()
            if session is None:
                return self._unauthorized()
            return self._send(self._ok({"sessionToken": session.token, "validityInSecondsST": 3600,
                                        "masterToken": "master-" + session.token, "validityInSecondsMT": 14400,
                                        "sessionId": session.session_id}))
        self._send({"success": False, "code": "390400", "message": f"Unknown endpoint {url.path}",
                    "data": None}, 404)

    def do_PUT(self) -> None:  # noqa: N802 - the connector uploads a PUT's file to the presigned URL
        m = re.fullmatch(r"/stage-upload/([0-9a-f]+)(/.*)?", urlparse(self.path).path)
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._round_trip()
        if m is None or not self.server.emulator.finish_upload(m.group(1), data):
            return self._send({"message": "unknown upload"}, 404)
        self._send({}, 200)

    def do_DELETE(self) -> None:  # noqa: N802
        self._round_trip()
        if urlparse(self.path).path == "/session":
            return self._logout()
        self._send({"success": False, "code": "390400", "message": "Unknown endpoint", "data": None}, 404)

    def do_GET(self) -> None:  # noqa: N802
        path = urlparse(self.path).path
        self._round_trip()
        if self._session() is None:
            return self._unauthorized()
        m = re.fullmatch(r"/monitoring/queries/+([^/]+)", path)  # connector 5 sends ".../queries//<id>"
        if m:
            known = m.group(1) in self.server.results
            status = "SUCCESS" if known else "NO_DATA"
            return self._send(self._ok({"queries": [{"id": m.group(1), "status": status}] if known else []})
                              | {"message": None if known else "No data"})
        m = re.fullmatch(r"/queries/([^/]+)/result", path)
        if m and m.group(1) in self.server.results:
            return self._send(self.server.results[m.group(1)])
        self._send({"success": False, "code": "390400", "message": "Unknown endpoint", "data": None}, 404)

    # -- handlers -------------------------------------------------------------------------------
    def _login(self, query: dict[str, list[str]], body: dict[str, Any]) -> None:
        data = body.get("data") or {}

        def q(name: str) -> str | None:
            return (query.get(name) or [None])[0] or None

        try:
            params = data.get("SESSION_PARAMETERS")
            session = self.server.emulator.login(str(data.get("LOGIN_NAME") or "user"), q("roleName"),
                                                 q("warehouse"), q("databaseName"), q("schemaName"),
                                                 params if isinstance(params, dict) else None)
        except SqlError as exc:
            return self._send({"success": False, "code": exc.code, "message": exc.message, "headers": None,
                               "data": {"nextAction": "RETRY_LOGIN", "authnMethod": "USERNAME_PASSWORD"}})
        self._send(self._ok({
            "token": session.token, "masterToken": "master-" + session.token, "validityInSeconds": 3600,
            "masterValidityInSeconds": 14400, "sessionId": session.session_id, "displayUserName": session.user,
            "serverVersion": self.server.emulator.version, "firstLogin": False, "remMeToken": None,
            "remMeValidityInSeconds": 0, "healthCheckInterval": 45, "newClientForUpgrade": None,
            "idToken": None, "idTokenValidityInSeconds": 0, "responseData": None, "mfaToken": None,
            "mfaTokenValidityInSeconds": 0, "parameters": SESSION_PARAMETERS,
            "sessionInfo": {"databaseName": session.database, "schemaName": session.schema,
                            "warehouseName": session.warehouse, "roleName": session.role},
        }))

    def _logout(self) -> None:
        match = _TOKEN.search(self.headers.get("Authorization") or "")
        if match:
            self.server.emulator.logout(match.group(1))
        self._send(self._ok())

    def _query(self, body: dict[str, Any]) -> None:
        session = self._session()
        if session is None:
            return self._unauthorized()
        sql = str(body.get("sqlText") or "")
        query_id = str(uuid.uuid4())
        if self.server.verbose:
            sys.stderr.write(f"[sql] {sql}\n")
        try:
            count = multi.desired_count(body.get("parameters"), session.parameters)
            pieces = multi.split(sql)
            if len(pieces) > 1 or count not in (0, 1):
                if count and count != len(pieces):
                    raise multi.count_mismatch(len(pieces), count)
                return self._send(self._multi(session, pieces, query_id))
            if sql.lstrip()[:4].upper() == "PUT ":
                host, port = self.server.server_address[:2]
                data = self.server.emulator.prepare_upload(session, sql, f"http://{host}:{port}")
                return self._send(self._ok({**data, "queryId": query_id}))
            result = self.server.emulator.execute(session, sql)
        except SqlError as exc:
            return self._send(self._failure(exc, query_id))
        except Exception as exc:  # an emulator bug must not kill the connection
            return self._send(self._internal_error(sql, exc, query_id))
        payload = self._ok(self._result_data(result, session, query_id))
        self.server.emulator.remember(query_id, session, result)
        self.server.remember(query_id, payload)
        self._send(payload)

    def _multi(self, session: Session, pieces: list[multi.Piece], query_id: str) -> dict[str, Any]:
        """Run the statements one by one; the reply names each one's result by its query id."""
        if session.warehouse is None:
            raise multi.no_warehouse()
        if any(p.text[:4].upper() in ("PUT ", "GET ") for p in pieces):
            raise multi.not_in_multi("PUT/GET")
        ids: list[str] = []
        types: list[str] = []
        for piece in pieces:
            try:
                result = self.server.emulator.execute(session, piece.text)
            except SqlError as exc:
                return self._failure(multi.statement_failed(piece, exc), query_id)
            except Exception as exc:  # an emulator bug must not kill the connection
                return self._internal_error(piece.text, exc, query_id)
            child = str(uuid.uuid4())
            self.server.emulator.remember(child, session, result)
            self.server.remember(child, self._ok(self._result_data(result, session, child)))
            ids.append(child)
            types.append(str(result.statement_type))
        summary = Result([(multi.SUMMARY_COLUMN, TEXT)], [[multi.SUMMARY]], statement_type=multi.MULTI_STATEMENT_TYPE)
        data = self._result_data(summary, session, query_id)
        data["rowtype"][0]["nullable"] = False
        data.update(resultIds=",".join(ids), resultTypes=",".join(types))
        payload = self._ok(data)
        self.server.emulator.remember(query_id, session, summary)
        self.server.remember(query_id, payload)
        return payload

    @staticmethod
    def _failure(exc: SqlError, query_id: str) -> dict[str, Any]:
        return {
            "success": False, "code": exc.code, "message": exc.message, "headers": None,
            "data": {"sqlState": exc.sqlstate, "queryId": query_id, "errorCode": exc.code,
                     "internalError": exc.code == "000603", "errorMessage": exc.message, "age": 0,
                     "type": "COMPILATION", "line": -1, "pos": -1},
        }

    def _internal_error(self, sql: str, exc: Exception, query_id: str) -> dict[str, Any]:
        self.server.emulator.internal_errors.append(f"{sql[:200]}: {type(exc).__name__}: {exc}")
        return {
            "success": False, "code": "000603", "headers": None,
            "message": f"SQL execution internal error: emulator bug: {type(exc).__name__}: {exc}",
            "data": {"sqlState": "XX000", "queryId": query_id, "errorCode": "000603", "internalError": True},
        }

    @staticmethod
    def _result_data(result: Result, session: Session, query_id: str) -> dict[str, Any]:
        rowset = result.rowset()
        return {
            "parameters": [], "rowtype": result.rowtype(), "rowset": rowset, "total": len(rowset),
            "returned": len(rowset), "queryId": query_id, "queryResultFormat": "json",
            "databaseProvider": None, "finalDatabaseName": session.database, "finalSchemaName": session.schema,
            "finalWarehouseName": session.warehouse, "finalRoleName": session.role, "numberOfBinds": 0,
            "arrayBindSupported": False, "statementTypeId": result.statement_type, "version": 1,
            # Epoch milliseconds, as the service sends it (connector 3.12 subtracts it from its clock).
            "sendResultTime": int(time.time() * 1000), "queryContext": {"entries": []},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], emulator: Emulator, verbose: bool = False) -> None:
        super().__init__(addr, _Handler)
        self.emulator = emulator
        self.verbose = verbose
        self.results: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._results_lock = threading.Lock()

    def remember(self, query_id: str, payload: dict[str, Any]) -> None:
        with self._results_lock:
            self.results[query_id] = payload
            while len(self.results) > KEPT_RESULTS:
                self.results.popitem(last=False)


class EmulatorServer:
    """Runs an :class:`Emulator` behind HTTP on a background thread."""

    def __init__(self, emulator: Emulator | None = None, host: str = "127.0.0.1", port: int = 0,
                 verbose: bool = False) -> None:
        self.emulator = emulator or Emulator()
        self.host = host
        self.port = port
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        self._server = _Server((self.host, self.port), self.emulator, self.verbose)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="spcs-emulator", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def connection_params(self, role: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"account": "emu", "user": "emulator", "password": "emulator",
                                  "host": self.host, "port": self.port, "protocol": "http"}
        if role:
            params["role"] = role
        return params

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spcs_emulator",
                                     description="Snowflake account emulator for spcs-iac (HTTP, JSON results).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0, help="network latency, paid once per HTTP request")
    parser.add_argument("--registry-host", default=DEFAULT_REGISTRY_HOST)
    parser.add_argument("--state", default=None, help="JSON file the catalog is loaded from and saved to")
    parser.add_argument("--ready-delay", type=float, default=0.2, help="seconds until services are RUNNING")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    args = parser.parse_args(argv)
    from . import serve

    serve(port=args.port, latency_ms=args.latency_ms, registry_host=args.registry_host, state_file=args.state,
          host=args.host, ready_delay_s=args.ready_delay, verbose=args.verbose)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
