"""A no-op plan or apply on the local target, as the CLI runs it in a fresh process: it reads Docker, the
registry and the warehouse without loading the Docker SDK or DuckDB, and still sees what changed by hand
(a removed container, a dropped table)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, Database, Image, ImageRepository, Service, Stack, Table, TableColumn
from spcs_iac.drivers import api
from spcs_iac.targets.local import naming, tables
from spcs_iac.targets.local.engine import socket_path
from tests.local.apps import APP_B, write_app
from tests.local.conftest import BASE_IMAGE, ROOT, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# Runs the CLI in a fresh process as the console script does, then prints its exit code, what it printed
# and which of the heavy libraries it loaded.
PROBE = """
import contextlib, io, json, sys
from spcs_iac.drivers.cli.main import app
sys.argv = ["spcs-iac", *json.loads(sys.argv[1])]
printed, code = io.StringIO(), 0
with contextlib.redirect_stdout(printed):
    try:
        app()
    except SystemExit as exc:
        code = exc.code or 0
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"docker", "requests", "duckdb", "sqlglot"})
print(json.dumps({"code": code, "out": printed.getvalue(), "loaded": loaded}))
"""


def small_stack(name: str, context: Path) -> Stack:
    stack = Stack(name)
    prefix = name.upper().replace("-", "_")
    db = stack.add(Database(name=f"{prefix}_DB"))
    pool = stack.add(ComputePool(name=f"{prefix}_POOL", instance_family="CPU_X64_XS"))
    repo = stack.add(ImageRepository(name="REPO", database=db))
    img = stack.add(Image(name="b", repository=repo, context=str(context), build_args={"BASE_IMAGE": BASE_IMAGE}))
    stack.add(Service(name="WEB", database=db, compute_pool=pool, spec={"spec": {
        "containers": [{"name": "main", "image": img, "readinessProbe": {"port": 8080, "path": "/hello"}}],
        "endpoints": [{"name": "web", "port": 8080, "public": True}]}}))
    stack.add(Table(name="READINGS", database=db, columns=[TableColumn(name="TEMP_C", datatype="NUMBER")]))
    return stack


def run_cli(*args: str, stack_file: Path, state_dir: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps([*args, str(stack_file), "--state-dir",
                                                                    str(state_dir)])],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_noop_plan_and_apply_load_neither_the_docker_sdk_nor_duckdb_yet_see_drift(
        state_dir: Path, docker_client: Any, tmp_path: Path) -> None:
    name = unique("noop")
    context = write_app(tmp_path / "b", APP_B)
    stack_file = tmp_path / "noop_stack.py"
    stack_file.write_text("from pathlib import Path\nfrom tests.local.test_noop import small_stack\n"
                          f"stack = small_stack({name!r}, Path({str(context)!r}))\n")
    stack, sd = small_stack(name, context), str(state_dir)
    try:
        assert api.apply(stack, target="local", state_dir=sd).ok
        # A plan seconds after the last write to the warehouse keeps its listing (see tables.RACY_NS).
        warehouse = tables.warehouse_path(naming.local_dir(state_dir), name)
        time.sleep(max(0.0, tables.RACY_NS / 1e9 + 0.2 - (time.time() - warehouse.stat().st_ctime)))
        assert not api.plan(stack, target="local", state_dir=sd).has_changes

        heavy = {"duckdb", "sqlglot"} | ({"docker", "requests"} if socket_path() is not None else set())
        for command in (["plan", "--json"], ["apply", "--yes"]):
            done = run_cli(*command, stack_file=stack_file, state_dir=state_dir)
            assert done["code"] == 0, done["out"]
            assert not heavy & set(done["loaded"]), done["loaded"]
        assert json.loads(run_cli("plan", "--json", stack_file=stack_file, state_dir=state_dir)["out"])["changes"] == []

        # Changed by hand: a spec container removed, the table dropped in the DuckDB file.
        [member] = docker_client.containers.list(all=True, filters={"label": [
            f"{naming.LABEL_STACK}={name}", f"{naming.LABEL_ROLE}={naming.ROLE_MEMBER}"]})
        member.remove(force=True)
        database = f"{name.upper().replace('-', '_')}_DB"
        fqn = f"{database}.PUBLIC.READINGS"
        # Imported here: the stack file imports this module in the CLI's process.
        from sfduck.warehouse import Warehouse

        by_hand = Warehouse(warehouse)
        by_hand.drop_table((database, "PUBLIC", "READINGS"))
        by_hand.close()
        done = run_cli("plan", "--json", stack_file=stack_file, state_dir=state_dir)
        changes = {c["address"]: c["action"] for c in json.loads(done["out"])["changes"]}
        assert changes == {f"service.{database}.PUBLIC.WEB": "update", f"table.{fqn}": "create"}, changes
        assert api.apply(stack, target="local", state_dir=sd).ok
        assert not api.plan(stack, target="local", state_dir=sd).has_changes
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok
