"""Tables on the local target: rows in the stack's DuckDB warehouse, declarations in the catalog record.

The warehouse is ``<state_dir>/local/warehouse-<stack>.duckdb``, laid out like Snowflake (schema
``"DB.SCHEMA"``, see :mod:`sfduck`). A table's record keeps the declared columns (Snowflake types,
defaults, comments); the warehouse says whether the table exists and which columns it really has, so a
table or column dropped by hand (``spcs-iac sql``) shows up in the next plan. Column changes follow the
same plan as on Snowflake (:func:`spcs_iac.model.columns.plan_columns`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfduck.errors import SnowflakeError
from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.columns import as_columns, plan_columns
from spcs_iac.plan.model import Action, Change
from spcs_iac.plan.target import ApplyContext, Observed, ReadRequest
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


def existing_tables(p: LocalProvider, seen: Listing) -> dict[tuple[str, str, str], list[tuple[str, str, bool]]]:
    """Every table in the warehouse, read once per plan (the Listing is the run's)."""
    cached = getattr(p, "_tables_seen", None)
    if cached is not None and cached[0] is seen:
        return cached[1]
    path = warehouse_path(p.root, p.stack)
    tables: dict[tuple[str, str, str], list[tuple[str, str, bool]]] = {}
    if path.exists():
        from sfduck.warehouse import Warehouse

        w = Warehouse(path)
        try:
            tables = w.tables()
        finally:
            w.close()
    p._tables_seen = (seen, tables)  # type: ignore[attr-defined]
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
