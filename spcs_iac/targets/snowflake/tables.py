"""Tables on Snowflake: CREATE TABLE with its column list, column changes as ALTER TABLE, and read-back.

Statement shapes follow docs.snowflake.com/en/sql-reference/sql/create-table (``col TYPE [COMMENT '...']
[DEFAULT expr] [NOT NULL]``, then ``CLUSTER BY (...)``, ``DATA_RETENTION_TIME_IN_DAYS``, ``CHANGE_TRACKING``,
``COMMENT``) and .../alter-table and .../alter-table-column (one column action per statement). What a
column change costs is decided once, by :func:`spcs_iac.model.columns.plan_columns`.

Read-back is one ``SHOW TABLES IN ACCOUNT`` plus one ``SHOW COLUMNS IN ACCOUNT`` for every table of the
run (docs: show-tables, show-columns): SHOW COLUMNS ``data_type`` is JSON (``{"type":"FIXED",...}``),
``null?`` says nullability, ``default`` the default's expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sfduck import types as sftypes
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource
from spcs_iac.model.columns import as_columns, normal_default, plan_columns
from spcs_iac.model.fields import FieldDecl
from spcs_iac.plan.model import Change
from spcs_iac.targets.snowflake.sql import Part, Step, owner_role, property_parts, stmt
from spcs_iac.targets.snowflake.sql_special import AlterRule, alter_statements
from spcs_iac.targets.snowflake.values import is_null, to_bool

COLUMN_KEY = ("database_name", "schema_name", "table_name")


def column_definition(c: Mapping[str, Any]) -> list[Part]:
    parts: list[Part] = [ids.quote(str(c["name"])), str(c["type"])]
    if c.get("comment"):
        parts += ["COMMENT", ids.string_literal(str(c["comment"]))]
    if c.get("default") is not None:
        parts += ["DEFAULT", str(c["default"])]  # rendered by default_sql: an escaped literal or a known expression
    if not c.get("nullable", True):
        parts.append("NOT NULL")
    return parts


def _cluster(columns: list[str]) -> str:
    return "(" + ", ".join(ids.quote(c) for c in columns) + ")"


def create_table(r: Resource, outputs: Outputs) -> list[Step]:
    cols = r.desired(outputs)["columns"]
    body = ", ".join(" ".join(column_definition(c)) for c in cols)
    cluster = r.cluster_by  # type: ignore[attr-defined]
    return [stmt("CREATE TABLE", r.fqn, f"({body})", ("CLUSTER BY", _cluster(cluster)) if cluster else None,
                 property_parts(r), role=owner_role(r))]


def update_table(change: Change, changed: list[FieldDecl], role: str | None, outputs: Outputs,
                 rule: AlterRule) -> list[Step] | None:
    r = change.resource
    assert r is not None
    head = ("ALTER TABLE", r.fqn)
    steps: list[Step] = []
    names = {d.name for d in changed}
    if "columns" in names:
        field = next(f for f in change.fields if f.name == "columns")
        steps += column_steps(head, as_columns(field.before) or [], r.desired(outputs)["columns"], role)
    if "cluster_by" in names:
        cluster = r.cluster_by  # type: ignore[attr-defined]
        steps.append(stmt(*head, "CLUSTER BY", _cluster(cluster), role=role) if cluster
                     else stmt(*head, "DROP CLUSTERING KEY", role=role))
    rest = [d for d in changed if d.name not in ("columns", "cluster_by")]
    if rest:
        steps += alter_statements(r, r.fqn, rest, role, rule)
    return steps


def column_steps(head: tuple[str, str], before: list[Mapping[str, Any]], after: list[Mapping[str, Any]],
                 role: str | None) -> list[Step]:
    """ALTER TABLE statements that turn ``before`` into ``after`` (a plan with replace reasons never gets
    here: the planner replaced the table)."""
    plan = plan_columns(before, after)
    out: list[Step] = []
    out += [stmt(*head, "RENAME COLUMN", ids.quote(a), "TO", ids.quote(b), role=role) for a, b in plan.renames]
    if plan.drops:
        out.append(stmt(*head, "DROP COLUMN", ", ".join(ids.quote(n) for n in plan.drops), role=role))
    out += [stmt(*head, "ADD COLUMN", column_definition(c), role=role) for c in plan.adds]

    def alter(name: str, *clause: Part) -> Step:
        return stmt(*head, "ALTER COLUMN", ids.quote(name), *clause, role=role)

    out += [alter(n, "SET DATA TYPE", new) for n, _, new in plan.retypes]
    out += [alter(n, "DROP NOT NULL" if ok else "SET NOT NULL") for n, ok in plan.nullability]
    out += [alter(n, "DROP DEFAULT") for n in plan.drop_defaults]
    out += [alter(n, "COMMENT", ids.string_literal(c)) if c is not None else alter(n, "UNSET COMMENT")
            for n, c in plan.comments]
    return out


# ---- read-back converters (named by the adapter) ---------------------------------------------------------
def cluster_columns(value: Any) -> list[str]:
    """SHOW TABLES ``cluster_by`` ``LINEAR(A, "b")`` -> ['A', 'b']."""
    if is_null(value):
        return []
    text = str(value).strip()
    if text.upper().startswith("LINEAR(") and text.endswith(")"):
        text = text[len("LINEAR("):-1]
    return [ids.normalize(p.strip()) for p in text.split(",") if p.strip()]


def change_tracking(value: Any) -> bool | None:
    if is_null(value):
        return None
    return str(value).strip().upper() in ("ON", "TRUE", "Y", "YES")


def columns_of(rows: Any) -> list[dict[str, Any]]:
    """SHOW COLUMNS rows of one table -> the declared form of its columns."""
    out = []
    for row in rows or []:
        try:
            datatype = sftypes.from_show_columns(str(row.get("data_type")))
        except (ValueError, sftypes.TypeSpellingError):
            datatype = str(row.get("data_type"))
        comment = row.get("comment")
        out.append({"name": str(row["column_name"]), "type": datatype,
                    "nullable": bool(to_bool(row.get("null?")) if not is_null(row.get("null?")) else True),
                    "default": normal_default(None if is_null(row.get("default")) else row.get("default")),
                    "comment": None if is_null(comment) else str(comment)})
    return out
