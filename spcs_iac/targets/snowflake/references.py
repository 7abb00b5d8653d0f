"""Named, undeclared objects on the Snowflake target: do they exist in the account?

A stack may name a secret, stage, integration or network rule it does not declare (a spec's
``snowflakeSecret: API_KEY``, a volume ``@DATA``, ``external_access_integrations=["EAI"]``). On an
account such objects can exist outside the stack; planning asks the account once per kind named and
reports the ones it does not find, naming the object and field that named them.

``missing_in_account(resources, query)`` is the whole check: ``query(sql)`` runs one statement and
returns its rows as dicts (``SnowflakeProvider._query`` does). Not yet wired into the provider's plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from spcs_iac.errors import Issue
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.validate import named_references, reference_issues

# kind -> (SHOW statement, name columns): one statement per kind named, whatever the number of names.
SHOW = {
    "secret": ("SHOW SECRETS IN ACCOUNT", ("database_name", "schema_name", "name")),
    "stage": ("SHOW STAGES IN ACCOUNT", ("database_name", "schema_name", "name")),
    "network_rule": ("SHOW NETWORK RULES IN ACCOUNT", ("database_name", "schema_name", "name")),
    "external_access_integration": ("SHOW EXTERNAL ACCESS INTEGRATIONS", ("name",)),
}
Query = Callable[[str], list[dict[str, Any]]]


def missing_in_account(resources: Iterable[Resource], query: Query) -> list[Issue]:
    """Issues for the objects the stack names without declaring them and the account does not have."""
    refs = named_references(resources)
    present: dict[str, set[str]] = {}
    for kind in sorted({r.kind for r in refs}):
        sql, columns = SHOW[kind]
        present[kind] = {ids.qualified(*(str(row.get(c) or "") for c in columns)) for row in query(sql)}
    return reference_issues(refs, lambda kind, name: name in present.get(kind, set()),
                            "the stack does not declare and the account",
                            hint=" (SHOW shows only what the planning role may see)")
