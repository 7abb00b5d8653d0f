"""The seed's data step on the local target (real Docker, the real convert service, DuckDB):
INSERT, ``UPDATE WEATHER SET TEMP_F = convert_udf(TEMP_C)`` and SELECT through ``spcs-iac sql`` and the
Python API; batches of at most MAX_BATCH_ROWS in the gateway log; failures as Snowflake errors that
change nothing; column changes of the declared table in place with the rows kept."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from spcs_iac import (
    ComputePool,
    Database,
    FunctionArgument,
    Image,
    ImageRepository,
    Service,
    ServiceFunction,
    ServiceSpec,
    Stack,
    Table,
    TableColumn,
)
from spcs_iac.drivers import api
from spcs_iac.drivers.cli.main import app
from spcs_iac.errors import SpcsIacError
from spcs_iac.plan.model import Action
from spcs_iac.targets.local.provider import LocalProvider
from spcs_iac.targets.local.sql import gateway_log_path
from tests.local.conftest import BASE_IMAGE, ROOT, unique
from tests.support.seed import SEED_INSERT

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# The seed's table: TEMP_F is NUMBER, so the update stores rounded values; the function answers 53.6 for 12.
SEED_F = {"London": 59, "Manchester": 68, "Liverpool": 63, "Cambridge": 66, "Oxford": 55, "Birmingham": 52,
          "Newcastle": 70, "Bristol": 61, "Leeds": 64, "Southampton": 54}
SEED_COLUMNS = [("DATE", "DATE"), ("LOCATION", "VARCHAR"), ("TEMP_C", "NUMBER"), ("TEMP_F", "NUMBER")]


def convert_stack(name: str, columns: list[TableColumn] | None = None) -> Stack:
    stack = Stack(name)
    db = stack.add(Database(name="CONTAINER_HOL_DB"))
    pool = stack.add(ComputePool(name="SQL_POOL", instance_family="CPU_X64_XS"))
    repo = stack.add(ImageRepository(name="IMAGE_REPO", database=db))
    examples = ROOT / "examples" / "convert-api"
    stack.add(Image(name="convert-api", tag="dev", repository=repo, context=str(examples),
                    build_args={"BASE_IMAGE": BASE_IMAGE}))
    svc = stack.add(Service(name="CONVERT_API", database=db, compute_pool=pool,
                            spec=ServiceSpec.from_file(str(ROOT / "examples" / "specs" / "convert-api.yaml"))))
    stack.add(ServiceFunction(name="CONVERT_UDF", database=db, arguments=[FunctionArgument(name="input", datatype="REAL")],
                              returns="REAL", service=svc, endpoint="convert-api", path="/convert", max_batch_rows=5))
    stack.add(Table(name="WEATHER", database=db,
                    columns=columns or [TableColumn(name=n, datatype=t) for n, t in SEED_COLUMNS]))
    return stack


@pytest.fixture(scope="module")
def applied(state_dir: Path, docker_client: Any) -> Any:
    stack = convert_stack(unique("sqlseed"))
    result = api.apply(stack, target="local", state_dir=str(state_dir))
    assert result.ok, (result.failed, result.skipped)
    yield stack
    api.destroy(stack, target="local", state_dir=str(state_dir))


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_seed_data_step_through_the_cli(applied: Stack, state_dir: Path) -> None:
    sd = str(state_dir)
    log = gateway_log_path(state_dir / "local", applied.name)
    log.unlink(missing_ok=True)
    base = ["sql", "--stack", applied.name, "--state-dir", sd]
    done = cli(*base, "DELETE FROM WEATHER")
    assert done.exit_code == 0, done.output
    done = cli(*base, SEED_INSERT)
    assert done.exit_code == 0, done.output
    assert "number of rows inserted" in done.output and "10 row(s) affected." in done.output
    done = cli(*base, "UPDATE WEATHER SET TEMP_F = convert_udf(TEMP_C);")
    assert done.exit_code == 0, done.output
    assert "10 row(s) affected." in done.output
    done = cli(*base, "--json", "SELECT * FROM WEATHER;")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["columns"] == ["DATE", "LOCATION", "TEMP_C", "TEMP_F"]
    assert {r[1]: r[3] for r in result["rows"]} == SEED_F
    done = cli(*base, "--csv", "SELECT LOCATION, CONVERT_UDF(TEMP_C) FROM WEATHER WHERE TEMP_C = 12")
    assert done.output.splitlines() == ["LOCATION,CONVERT_UDF(TEMP_C)", "Southampton,53.6"]
    # The gateway sent the update's 10 rows and the select's 1 in batches of at most MAX_BATCH_ROWS (5).
    sizes = [int(m) for m in re.findall(r"batch of (\d+) row", log.read_text())]
    assert sorted(sizes) == [1, 5, 5]


def test_seed_data_step_through_the_api(applied: Stack, state_dir: Path) -> None:
    sd = str(state_dir)
    api.sql("DELETE FROM WEATHER", stack=applied, state_dir=sd)
    [inserted] = api.sql(SEED_INSERT, stack=applied, state_dir=sd)
    assert inserted["rowcount"] == 10
    results = api.sql("UPDATE WEATHER SET TEMP_F = convert_udf(TEMP_C); "
                      "SELECT LOCATION, TEMP_F, CONVERT_UDF(TEMP_C) AS F FROM WEATHER ORDER BY LOCATION",
                      stack=applied, state_dir=sd)
    assert results[0]["rowcount"] == 10
    rows = {r[0]: (int(r[1]), r[2]) for r in results[1]["rows"]}
    assert rows["Southampton"] == (54, 53.6)
    assert {k: v[0] for k, v in rows.items()} == SEED_F


def test_failing_statements_say_what_and_change_nothing(applied: Stack, state_dir: Path, docker_client: Any) -> None:
    sd = str(state_dir)
    api.sql(f"DELETE FROM WEATHER; {SEED_INSERT}", stack=applied, state_dir=sd)
    base = ["sql", "--stack", applied.name, "--state-dir", sd]
    missing = cli(*base, "SELECT * FROM WEATHERS")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert "002003" in missing.output and "Object 'CONTAINER_HOL_DB.PUBLIC.WEATHERS' does not exist" in missing.output
    mismatch = cli(*base, "INSERT INTO WEATHER (LOCATION, TEMP_C) VALUES ('Paris', 'warm')")
    assert mismatch.exit_code == 1 and "100038" in mismatch.output and "Numeric value 'warm'" in mismatch.output
    # The convert service goes down: the function's error names it, and the update changes nothing.
    provider = LocalProvider(stack_name=applied.name, state_dir=sd)
    for c in docker_client.containers.list(filters={"label": "spcs-iac.object=service.CONTAINER_HOL_DB.PUBLIC.CONVERT_API"}):
        c.stop(timeout=1)
    down = cli(*base, "UPDATE WEATHER SET TEMP_F = convert_udf(TEMP_C)")
    assert down.exit_code == 1 and "Traceback" not in down.output
    assert "100351" in down.output and "CONTAINER_HOL_DB.PUBLIC.CONVERT_UDF" in down.output
    [after] = api.sql("SELECT COUNT(*), COUNT(TEMP_F) FROM WEATHER", stack=applied, state_dir=sd)
    assert after["rows"] == [[10, 0]]
    with pytest.raises(SpcsIacError, match="100038"):
        api.sql("UPDATE WEATHER SET TEMP_C = 'x'", stack=applied, state_dir=sd)
    provider.close()
    assert api.apply(applied, target="local", state_dir=sd).ok  # the service comes back


def test_declared_table_changes_in_place_and_keeps_rows(applied: Stack, state_dir: Path) -> None:
    sd = str(state_dir)
    assert not api.plan(applied, target="local", state_dir=sd).has_changes
    api.sql(f"DELETE FROM WEATHER; {SEED_INSERT}", stack=applied, state_dir=sd)
    columns = [TableColumn(name=n, datatype=t) for n, t in SEED_COLUMNS] + [
        TableColumn(name="SOURCE", datatype="VARCHAR", default="seed")]
    changed = convert_stack(applied.name, columns)
    p = api.plan(changed, target="local", state_dir=sd)
    [change] = p.actionable
    assert change.action is Action.UPDATE and change.fields[0].detail == ["column SOURCE: added (VARCHAR(16777216))"]
    assert api.apply(changed, target="local", state_dir=sd).ok
    assert not api.plan(changed, target="local", state_dir=sd).has_changes
    [rows] = api.sql("SELECT COUNT(*), MIN(SOURCE) FROM WEATHER", stack=applied, state_dir=sd)
    assert rows["rows"] == [[10, "seed"]]
    dropped = api.plan(applied, target="local", state_dir=sd)
    [change] = dropped.actionable
    assert change.fields[0].detail == ["WARNING column SOURCE: dropped, and the data in it with it"]
    assert api.apply(applied, target="local", state_dir=sd).ok


def test_no_docker_needed_to_find_the_warehouse(tmp_path: Path) -> None:
    """Without any stack applied, sql says what to do instead of failing obscurely."""
    done = cli("sql", "--state-dir", str(tmp_path), "SELECT 1")
    assert done.exit_code == 1 and "no stack has been applied on the local target" in done.output
    shutil.rmtree(tmp_path, ignore_errors=True)
