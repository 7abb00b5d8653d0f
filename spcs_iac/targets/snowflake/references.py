"""Named, undeclared objects on the Snowflake target: do they exist in the account?

A stack may name a secret, stage, integration or network rule it does not declare (a spec's
``snowflakeSecret: API_KEY``, a volume ``@DATA``, ``external_access_integrations=["EAI"]``). On an
account such objects can exist outside the stack; planning asks the account once per kind named (the SHOWs
join the plan's first read batch: no round trip of their own) and reports the ones it does not find, naming
the object and field that named them. The plan then fails before anything runs, instead of the apply
stopping half-way at the first statement that names one.

Databases, pools, roles and the like named by string are not checked here: SHOW lists only what the
planning role has privileges on, and an owner role may well use a pool its deployer cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from spcs_iac.errors import Issue
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.kinds.services import FORBIDDEN_SERVICE_OWNERS, JobService, Service
from spcs_iac.model.validate import NamedReference, named_references, unresolved_by_object
from spcs_iac.targets.snowflake.adapters import ADAPTERS

# kind -> the columns naming its objects; the statement is the kind's own SHOW (the one the plan reads
# declared objects with, so a stack declaring some and naming others costs one statement per kind).
NAME_COLUMNS = {
    "secret": ("database_name", "schema_name", "name"),
    "stage": ("database_name", "schema_name", "name"),
    "network_rule": ("database_name", "schema_name", "name"),
    "external_access_integration": ("name",),
}
Query = Callable[[str], list[dict[str, Any]]]


def shows_for(refs: Iterable[NamedReference]) -> list[str]:
    """The SHOW statements answering ``refs``: one per kind named."""
    return [ADAPTERS[kind].show_sql for kind in sorted({r.kind for r in refs})]


def missing_in_account(resources: Iterable[Resource], query: Query) -> list[Issue]:
    """Issues for the objects the stack names without declaring them and the account does not have."""
    return [issue for issues in missing(named_references(resources), query).values() for issue in issues]


def missing(refs: list[NamedReference], query: Query) -> dict[str, list[Issue]]:
    """Issues for the named objects ``refs`` that the account does not have (``query`` runs one SHOW), by the
    address of the object naming them."""
    present: dict[str, set[str]] = {}
    for kind in sorted({r.kind for r in refs}):
        rows = query(ADAPTERS[kind].show_sql)
        present[kind] = {ids.qualified(*(str(row.get(c) or "") for c in NAME_COLUMNS[kind])) for row in rows}
    return unresolved_by_object(refs, lambda kind, name: name in present.get(kind, set()),
                                "the stack does not declare and the account",
                                hint=" (SHOW shows only what the planning role may see)")


def default_owner_issues(resources: Iterable[Resource], role: str | None) -> dict[str, list[Issue]]:
    """Services and job services without ``owner`` are created by the connection's role; when that role
    is one Snowflake does not let own a service, CREATE SERVICE fails after the objects before it were made.
    (A declared owner of that kind is refused by the kind itself, without an account.)"""
    if role not in FORBIDDEN_SERVICE_OWNERS:
        return {}
    return {r.address: [Issue(r.describe(), "owner", f"not given, so the connection's role {role} would own it, "
                              f"and Snowflake does not let {', '.join(FORBIDDEN_SERVICE_OWNERS)} own services; "
                              "give owner= a role of its own with the privileges the service needs")]
            for r in resources if isinstance(r, Service | JobService) and r.owner is None}
