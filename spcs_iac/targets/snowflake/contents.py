"""What dropping a database, schema or stage would take with it that the stack does not manage.

``DROP DATABASE`` and ``DROP SCHEMA`` drop every object inside, and ``DROP STAGE`` the files on it
(https://docs.snowflake.com/en/sql-reference/sql/drop-database). A plan that deletes or replaces such
a container lists what else is in it, and the apply is refused unless the user agrees (consent.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.targets.snowflake.connection import Db

# Schema-scoped kinds read inside a container: (kind, SHOW ... IN <scope>). Functions are named by
# signature and left out; what holds data (tables, stages) and services matter most.
INSIDE = (
    ("stage", "SHOW STAGES"), ("table", "SHOW TABLES"), ("secret", "SHOW SECRETS"),
    ("network_rule", "SHOW NETWORK RULES"), ("image_repository", "SHOW IMAGE REPOSITORIES"),
    ("service", "SHOW SERVICES EXCLUDE JOBS"), ("job_service", "SHOW JOB SERVICES"),
)
NOT_OBJECTS = ("INFORMATION_SCHEMA",)


def unmanaged_contents(db: Db, kind: str, name: str, managed: Mapping[str, Resource | None]) -> list[str]:
    if kind == "stage":
        return _stage_files(db, name, managed)
    parts = ids.split_qualified(name)
    # One SHOW per kind and database, whatever the number of its schemas a plan drops: a schema's
    # contents are the database's rows in that schema (SHOW results are cached for the run).
    scope = f"DATABASE {ids.quote(parts[0])}"
    out: list[str] = []
    if kind == "database":
        for row in _show(db, f"SHOW SCHEMAS IN {scope}"):
            schema = str(row["name"])
            address = f"schema.{ids.qualified(parts[0], schema)}"
            # A database's PUBLIC schema is made with it: only what it holds counts, as for any schema.
            if schema not in NOT_OBJECTS and schema != "PUBLIC" and address not in managed:
                out.append(f"schema {ids.qualified(parts[0], schema)}")
    for inner, show in INSIDE:
        for row in _show(db, f"{show} IN {scope}"):
            if kind == "schema" and str(row["schema_name"]) != parts[1]:
                continue
            fqn = ids.qualified(str(row["database_name"]), str(row["schema_name"]), str(row["name"]))
            if f"{inner}.{fqn}" not in managed:
                out.append(f"{inner.replace('_', ' ')} {fqn}")
    return out


def _stage_files(db: Db, name: str, managed: Mapping[str, Resource | None]) -> list[str]:
    ours = _uploaded_specs(name, managed)
    files = []
    for row in _show(db, f"LIST @{ids.qualified(*ids.split_qualified(name))}"):
        path = str(row.get("name", "")).split("/", 1)[-1]
        if path not in ours:
            files.append(f"file {path} on stage {name} ({row.get('size')} bytes)")
    return files


def _uploaded_specs(stage: str, managed: Mapping[str, Resource | None]) -> set[str]:
    """Spec files the stack itself uploads to ``stage`` (services created FROM @stage)."""
    out = set()
    for r in managed.values():
        where = getattr(r, "spec_stage", None)
        named = where.fqn if isinstance(where, Resource) else where
        if named and ids.name_matches(str(named), stage) and getattr(r, "spec_file", None):
            out.add(str(r.spec_file))  # type: ignore[union-attr]
    return out


def _show(db: Db, sql: str) -> list[dict[str, Any]]:
    try:
        return db.query(sql)
    except ProviderError as exc:
        if "does not exist" in str(exc):
            return []
        raise
