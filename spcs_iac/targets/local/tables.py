"""Tables on the local target: rows in the stack's DuckDB warehouse, declarations in the catalog record.

The warehouse is ``<state_dir>/local/warehouse-<stack>.duckdb``, laid out like Snowflake (schema
``"DB.SCHEMA"``, see :mod:`sfduck`). A table's record keeps the declared columns (Snowflake types,
defaults, comments); the warehouse says whether the table exists and which columns it really has, so a
table or column dropped by hand (``spcs-iac sql``) shows up in the next plan. Column changes follow the
same plan as on Snowflake (:func:`spcs_iac.model.columns.plan_columns`).

Plans read the warehouse's listing of tables from a copy kept beside it (``read_tables``) while the file
is unchanged, so a plan that touches no table does not load DuckDB (a fifth of a second to import).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfduck.errors import SnowflakeError
from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.columns import as_columns, plan_columns
from spcs_iac.plan.model import Action, Change
from spcs_iac.plan.target import ApplyContext, Observed, ReadRequest
from spcs_iac.state.files import write_json_atomic
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.records import Record

if TYPE_CHECKING:
    from sfduck.warehouse import Column, Warehouse
    from spcs_iac.targets.local.adapters import Listing
    from spcs_iac.targets.local.provider import LocalProvider

# DuckDB storage types -> the Snowflake type a column of unknown declaration is read back as.
FROM_DUCKDB = {"DOUBLE": "FLOAT", "FLOAT": "FLOAT", "VARCHAR": "VARCHAR(16777216)", "BOOLEAN": "BOOLEAN",
               "DATE": "DATE", "TIME": "TIME(9)", "TIMESTAMP": "TIMESTAMP_NTZ(9)", "BLOB": "BINARY(8388608)",
               "TIMESTAMP WITH TIME ZONE": "TIMESTAMP_LTZ(9)", "BIGINT": "NUMBER(38,0)", "INTEGER": "NUMBER(38,0)"}
Tables = dict[tuple[str, str, str], list[tuple[str, str, bool]]]  # (db, schema, table) -> (column, type, nullable)


def warehouse_path(root: Path, stack: str) -> Path:
    return root / f"warehouse-{naming.slug(stack)}.duckdb"


def open_warehouse(p: LocalProvider) -> Warehouse:
    from sfduck.warehouse import Warehouse  # duckdb loads only when a table is touched

    return Warehouse(warehouse_path(p.root, p.stack))


def key_of(name: str) -> tuple[str, str, str]:
    parts = ids.split_qualified(name)
    if len(parts) != 3:
        raise ProviderError(f"table name {name!r} is not DATABASE.SCHEMA.TABLE")
    return parts[0], parts[1], parts[2]


def _snowflake_type(duck: str) -> str:
    if duck.startswith("DECIMAL("):
        return "NUMBER(" + duck[len("DECIMAL("):].replace(" ", "")
    return FROM_DUCKDB.get(duck, "VARCHAR(16777216)")


def existing_tables(p: LocalProvider, seen: Listing) -> Tables:
    """Every table in the warehouse, read once per plan (the Listing is the run's)."""
    cached = getattr(p, "_tables_seen", None)
    if cached is not None and cached[0] is seen:
        return cached[1]
    path = warehouse_path(p.root, p.stack)
    tables = read_tables(path) if path.exists() else {}
    p._tables_seen = (seen, tables)  # type: ignore[attr-defined]
    return tables


# ---- the listing kept beside the warehouse ------------------------------------------------------------
LISTING_FORMAT = 1
# A file changed this shortly before a read may change again within the same timestamp tick, unseen
# (the racy case Git's index knows): such a listing is not kept.
RACY_NS = 2_000_000_000


def listing_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.tables.json")


def _stamp(path: Path) -> list[int] | None:
    """What any write to the warehouse changes: its inode, size and times. None while DuckDB has writes
    not yet checkpointed into the file (a session holds it open): only DuckDB knows its tables then."""
    if path.with_name(f"{path.name}.wal").exists():
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def read_tables(path: Path) -> Tables:
    """Every table of the warehouse at ``path``: the kept listing when the file has not changed since it
    was read, else DuckDB's own (kept in turn when nothing wrote to the file during the read)."""
    memo = listing_path(path)
    before = _stamp(path)
    if before is not None:
        try:
            kept = json.loads(memo.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            kept = None
        if isinstance(kept, dict) and kept.get("format") == LISTING_FORMAT and kept.get("stamp") == before:
            return {(k[0], k[1], k[2]): [(c[0], c[1], bool(c[2])) for c in cols] for k, cols in kept["tables"]}
    started = time.time_ns()
    from sfduck.warehouse import Warehouse

    w = Warehouse(path)
    try:
        tables = w.tables()
    finally:
        w.close()
    if before is not None and _stamp(path) == before and before[4] < started - RACY_NS:
        try:
            write_json_atomic(memo, {"format": LISTING_FORMAT, "stamp": before,
                                     "tables": [[list(k), [list(c) for c in cols]] for k, cols in tables.items()]})
        except OSError:
            pass  # a read-only state directory: plans just read DuckDB every time
    return tables


def observe_table(p: LocalProvider, req: ReadRequest, rec: Record | None, seen: Listing) -> Observed | None:
    real = existing_tables(p, seen).get(key_of(req.name))
    if real is None:
        return None  # never created, or dropped by hand: the plan creates it
    props = dict((rec or {}).get("props") or {})
    declared = {c["name"]: c for c in as_columns(props.get("columns")) or []}
    columns = []
    for name, duck, nullable in real:
        col = dict(declared.get(name) or {"name": name, "type": _snowflake_type(duck), "default": None,
                                           "comment": None})
        col["nullable"] = nullable
        col.pop("renamed_from", None)
        columns.append(col)
    props["columns"] = columns
    return Observed(props)


def put_table(p: LocalProvider, r: Resource, rec: Record, change: Change, ctx: ApplyContext,
              creating: bool) -> dict[str, Any]:
    key = key_of(r.fqn)
    want = rec["props"]["columns"]
    w = open_warehouse(p)
    try:
        if creating or change.action is Action.REPLACE:
            w.create_table(key, [_column(c) for c in want], replace=True)
        else:
            before = next((f.before for f in change.fields if f.name == "columns"), None)
            if as_columns(before) is not None:
                apply_columns(w, key, as_columns(before) or [], want)
    except SnowflakeError as exc:
        raise ProviderError(f"{r.describe()}: {exc.message}") from None
    finally:
        w.close()
    p.catalog.put(r.address, rec)
    return {}


def apply_columns(w: Warehouse, key: tuple[str, str, str], before: list[Any], after: list[Any]) -> None:
    plan = plan_columns(before, after)
    if plan.replace:
        raise ProviderError(f"table {'.'.join(key)}: {'; '.join(plan.replace)} (the plan should replace it)")
    for old, new in plan.renames:
        w.alter(key, "rename", old, new)
    for name in plan.drops:
        w.alter(key, "drop", name)
    for col in plan.adds:
        w.alter(key, "add", str(col["name"]), _column(col))
    for name, _old, new in plan.retypes:
        w.alter(key, "type", name, new)
    for name, nullable in plan.nullability:
        w.alter(key, "nullable", name, nullable)
    for name in plan.drop_defaults:
        w.alter(key, "drop_default", name)


def remove_table(p: LocalProvider, change: Change, rec: Record | None) -> None:
    if not warehouse_path(p.root, p.stack).exists():
        return
    w = open_warehouse(p)
    try:
        w.drop_table(key_of(change.name))
    finally:
        w.close()


def _column(c: Any) -> Column:
    from sfduck.warehouse import Column

    return Column(str(c["name"]), str(c["type"]), bool(c.get("nullable", True)), c.get("default"), c.get("comment"))


def table_lines(change: Change, r: Resource, stack: str, registry_host: str) -> list[str]:
    where = f"warehouse-{naming.slug(stack)}.duckdb"
    if change.action in (Action.CREATE, Action.REPLACE):
        cols = r.desired()["columns"]
        return [f"duckdb: CREATE TABLE {r.fqn} ({len(cols)} columns) in {where}"]
    field = next((f for f in change.fields if f.name == "columns"), None)
    lines = [f"duckdb: ALTER TABLE {r.fqn}: {line}" for line in (field.detail if field else [])]
    return lines or [f"record table {r.fqn} in catalog-{stack}.json"]


def table_drop_line(change: Change, stack: str) -> str:
    return f"duckdb: DROP TABLE {change.name} (warehouse-{naming.slug(stack)}.duckdb): its rows are deleted"
