"""Names and spec values written into other formats by the local target (host paths, DuckDB schema names,
curl's URL argument) keep their meaning for every value a stack can declare (no Docker needed)."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sfduck.warehouse import Column, Warehouse
from spcs_iac.model.kinds.objects import Stage
from spcs_iac.targets.local import adapters, naming, readiness
from tests.conftest import require

# Quoted Snowflake identifiers a stack may declare (``".."`` is as valid a name as ``"my stage"``).
STAGE_PARTS = [
    ("DB", "S", "ST"), ("DB", "S", ".."), ("DB", "S", "."), ("DB", "S", "a/b"), ("DB", "S", "a_b"),
    ("DB", "S", 'a"b'), ("DB", "S", "ab"), ("DB", "S", "a%2Fb"), ("..", "..", ".."), ("DB", "..", "ST"),
]


def test_every_stage_has_its_own_directory_under_stages(tmp_path: Path) -> None:
    base = (tmp_path / "stages").resolve()
    dirs = {parts: naming.stage_dir(tmp_path, *parts).resolve() for parts in STAGE_PARTS}
    for parts, d in dirs.items():
        assert d.parent.parent.parent == base, (parts, d)  # exactly DB/SCHEMA/STAGE below stages/
    assert len(set(dirs.values())) == len(dirs), dirs


def test_a_sub_path_stays_in_its_stage(tmp_path: Path) -> None:
    top = naming.stage_dir(tmp_path, "DB", "S", "ST").resolve()
    assert naming.stage_dir(tmp_path, "DB", "S", "ST", "../../x/./y").resolve() == top / "x" / "y"


def test_dropping_a_stage_named_dot_dot_removes_only_its_own_files(tmp_path: Path) -> None:
    other = naming.stage_dir(tmp_path, "DB", "S", "KEEP")
    other.mkdir(parents=True)
    (other / "data.csv").write_text("1\n")
    catalog = tmp_path / "catalog-s.json"
    catalog.write_text("{}")
    stage = Stage(name='".."', database="DB", schema="S")
    adapters.remove_stage(SimpleNamespace(root=tmp_path), SimpleNamespace(name=stage.fqn), None)  # type: ignore[arg-type]
    assert (other / "data.csv").exists() and catalog.exists()


# ---- the DuckDB warehouse: Snowflake schema DB.S is one DuckDB schema --------------------------------------
def test_tables_of_a_database_with_a_dot_in_its_name_are_listed_under_their_own_names() -> None:
    w = Warehouse()
    try:
        for key in [("my.db", "PUBLIC", "T"), ("a", "b.S", "T"), ("a.b", "S", "T"), ("50%", "S", "T")]:
            w.create_table(key, [Column("A", "NUMBER(38,0)")])
        assert set(w.tables()) == {("my.db", "PUBLIC", "T"), ("a", "b.S", "T"), ("a.b", "S", "T"), ("50%", "S", "T")}
        w.drop_schema("a.b")
        assert set(w.tables()) == {("my.db", "PUBLIC", "T"), ("a", "b.S", "T"), ("50%", "S", "T")}
    finally:
        w.close()


def test_plain_names_keep_their_duckdb_schema() -> None:
    # Existing warehouses hold "DB.SCHEMA" schemas: names without '.' or '%' must map as before.
    from sfduck.translate import storage_schema

    assert storage_schema("DB", "PUBLIC") == "DB.PUBLIC"
    assert storage_schema("my db", "a.b") == "my db.a.b"


# ---- readiness probes: curl gets the path as written --------------------------------------------------------
@pytest.fixture
def web() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


class _LocalExec:
    """``exec_create``/``exec_start`` run the command here instead of in the namespace owner."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def exec_create(self, cid: str, cmd: list[str]) -> dict[str, str]:
        key = str(len(self.codes))
        self.codes[key] = subprocess.run(cmd, capture_output=True, timeout=10).returncode
        return {"Id": key}

    def exec_start(self, key: str) -> bytes:
        return b""

    def exec_inspect(self, key: str) -> dict[str, int]:
        return {"ExitCode": self.codes[key]}


@pytest.mark.parametrize("path", ["/ready?x[0]=1", "/ready?q=[", "/v1/{id}/health", "/ready"])
def test_a_readiness_probe_requests_its_path_as_declared(web: tuple[int, list[str]], path: str) -> None:
    require(shutil.which("curl") is not None, "curl", "the namespace owner's probe client; apt-get install curl")
    port, seen = web
    host = SimpleNamespace(api=_LocalExec())
    assert readiness.probe(host, "owner", "127.0.0.1", port, path)  # type: ignore[arg-type]
    assert seen == [path]


# ---- service functions: the gateway's headers carry any function name ---------------------------------------
def test_a_function_whose_name_is_not_latin_1_can_be_called() -> None:
    from spcs_iac.targets.local import gateway

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers["Content-Length"]))
            name = self.headers["sf-external-function-name"].encode("latin-1").decode()  # the bytes sent
            body = json.dumps({"data": [[0, name]]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    name = 'DB."データ".TRANSLATE(VARCHAR)'
    try:
        got = gateway._send(f"http://127.0.0.1:{server.server_address[1]}", "/translate", [["x"]],
                            {"name": name, "props": {"returns": "VARCHAR"}}, "q")
    finally:
        server.shutdown()
        server.server_close()
    assert got == [name]


# ---- session tokens: one directory per service --------------------------------------------------------------
def _token_dir(tmp_path: Path, database: str, stack: str = "st") -> str:
    from spcs_iac.model.kinds.account import Database
    from spcs_iac.model.kinds.services import Service
    from spcs_iac.model.kinds.spcs import ComputePool
    from spcs_iac.targets.local.runtime import build_runtime

    svc = Service(name="API", database=Database(name=database), compute_pool=ComputePool(
        name="POOL", instance_family="CPU_X64_XS"), spec={"spec": {"containers": [{"name": "app", "image": "x:1"}]}})
    rt = build_runtime(svc, {}, stack=stack, registry_host="127.0.0.1:5000", egress=False,
                       pool_address="compute_pool.POOL", local_root=tmp_path, account="A", snowflake_host="h")
    return str(rt["containers"][0]["token"]["dir"])


def test_services_whose_names_slug_alike_get_their_own_session_token(tmp_path: Path) -> None:
    # One shared directory would give both services one token and the connections.toml of the last one
    # started (the other's database), and dropping either would delete the other's token.
    # (A service's database cannot have a quoted name, so `"dev"` beside DEV is refused by the model; names
    # that read alike once made DNS-safe, and stacks that differ in case, remain.)
    dirs = {_token_dir(tmp_path, "DEV"), _token_dir(tmp_path, "A_B"), _token_dir(tmp_path, "A$B"),
            _token_dir(tmp_path, "DEV", stack="App"), _token_dir(tmp_path, "DEV", stack="app")}
    assert len(dirs) == 5, dirs


def test_dropping_a_service_removes_its_own_session_directory_only(tmp_path: Path) -> None:
    keep, gone = Path(_token_dir(tmp_path, "A_B")), Path(_token_dir(tmp_path, "A$B"))
    for d in {keep, gone}:
        d.mkdir(parents=True, exist_ok=True)
        (d / "token").write_text("t")
    fake = SimpleNamespace(root=tmp_path, stack="st", services=SimpleNamespace(remove=lambda _address: None))
    adapters.remove_containers(fake, SimpleNamespace(name="A$B.PUBLIC.API", address="service.x"), None)  # type: ignore[arg-type]
    assert (keep / "token").exists() and not gone.exists()
