"""Local SQL with a service function: ``UPDATE t SET x = fn(y)`` over 10,000 rows.

Brings up the convert service (examples/convert-api) with a table on the local target, fills the table,
then times the update through the local SQL engine (sqlglot + DuckDB, the function vectorised, the
gateway batching rows by MAX_BATCH_ROWS). Prints rows/s and how the time splits between the SQL engine
and waiting for the service; never asserts.

Run: PYTHONPATH=. SPCS_IAC_BASE_IMAGE=spcs-iac/base:bookworm-py3 python bench/bench_sql.py [--rows 10000]
     [--batch 5 --batch 100]
Needs Docker and the local registry (scripts/setup-system.sh).
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

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
from spcs_iac.targets.local.provider import LocalProvider
from spcs_iac.targets.local.sql import LocalSql

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "convert-api"


def stack(name: str, batch: int) -> Stack:
    s = Stack(name)
    db = s.add(Database(name="CONTAINER_HOL_DB"))  # the names the example spec's image path uses
    pool = s.add(ComputePool(name="BENCH_POOL", instance_family="CPU_X64_XS"))
    repo = s.add(ImageRepository(name="IMAGE_REPO", database=db))
    args = {"BASE_IMAGE": os.environ["SPCS_IAC_BASE_IMAGE"]} if os.environ.get("SPCS_IAC_BASE_IMAGE") else {}
    s.add(Image(name="convert-api", tag="dev", repository=repo, context=str(EXAMPLE), build_args=args))
    svc = s.add(Service(name="CONVERT_API", database=db, compute_pool=pool,
                        spec=ServiceSpec.from_file(str(ROOT / "examples" / "specs" / "convert-api.yaml"))))
    s.add(ServiceFunction(name="CONVERT_UDF", database=db, service=svc, endpoint="convert-api", path="/convert",
                          arguments=[FunctionArgument(name="input", datatype="REAL")], returns="REAL",
                          max_batch_rows=batch))
    s.add(Table(name="READINGS", database=db, columns=[TableColumn(name="ID", datatype="NUMBER"),
                                                        TableColumn(name="TEMP_C", datatype="FLOAT"),
                                                        TableColumn(name="TEMP_F", datatype="FLOAT")]))
    return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--batch", type=int, action="append", help="MAX_BATCH_ROWS to try (default 5 and 100)")
    args = ap.parse_args()
    name = f"bench-sql-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as state:
        for batch in args.batch or [5, 100]:
            s = stack(name, batch)  # a new MAX_BATCH_ROWS is an update in place
            started = time.perf_counter()
            result = api.apply(s, target="local", state_dir=state)
            if not result.ok:
                raise SystemExit(f"apply failed: {result.failed}")
            print(f"[batch {batch}] apply (service up) {time.perf_counter() - started:.1f}s")
            values = ", ".join(f"({i}, {i % 50 - 10}.5, NULL)" for i in range(args.rows))
            provider = LocalProvider(stack_name=s.name, state_dir=state)
            with LocalSql(provider) as session:
                session.run(f"DELETE FROM READINGS; INSERT INTO READINGS VALUES {values}")
                session.log_path.unlink(missing_ok=True)
                t0 = time.perf_counter()
                [res] = session.run("UPDATE READINGS SET TEMP_F = CONVERT_UDF(TEMP_C)")
                took = time.perf_counter() - t0
                service = session.service_seconds
                check = session.run("SELECT COUNT(*) FROM READINGS WHERE ABS(TEMP_F - (TEMP_C * 9 / 5 + 32)) < 1e-9")[0]["rows"]
                sizes = [int(n) for n in re.findall(r"batch of (\d+) row", session.log_path.read_text())]
            provider.close()
            print(f"[batch {batch}] UPDATE ... SET TEMP_F = CONVERT_UDF(TEMP_C) over {res['rowcount']:,} rows: "
                  f"{took:.2f}s = {res['rowcount'] / took:,.0f} rows/s")
            print(f"[batch {batch}]   service calls {service:.2f}s ({service / took:.0%}); SQL engine "
                  f"{took - service:.2f}s ({(took - service) / took:.0%}); {len(sizes)} batches, max {max(sizes)} "
                  f"rows, {service / len(sizes) * 1000:.2f} ms per batch; correct rows {check[0][0]:,}")
        api.destroy(s, target="local", state_dir=state)


if __name__ == "__main__":
    main()
