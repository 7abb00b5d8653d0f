"""The batched read (reference §16): every object of a run is read with a bounded number of queries.

Phase 1 issues one ``SHOW <kinds> [IN ACCOUNT]`` per kind present (in parallel); rows are matched to
the requested objects in Python by exact stored name. Phase 2 issues what depends on phase 1: one
``SHOW GRANTS TO ROLE`` per grantee and one ``SHOW GRANTS OF ROLE`` per granted role (existing roles
only), and ``DESCRIBE`` for existing objects whose compared fields SHOW does not return.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.kinds.account import GRANT_TARGETS, PRIVILEGES
from spcs_iac.model.kinds.services import canonical_type
from spcs_iac.plan.target import Observed, ReadRequest
from spcs_iac.targets.snowflake import readback as rb
from spcs_iac.targets.snowflake.sql import function_parts, grant_parts, role_grant_parts
from spcs_iac.targets.snowflake.sql_special import ALL, privilege

if TYPE_CHECKING:
    from spcs_iac.targets.snowflake.connection import Db
    from spcs_iac.targets.snowflake.images import SnowflakeImages

Key = tuple[str, ...]
ROLE_KINDS = ("role", "grant", "role_grant")
SHOW_LIMIT = 10_000  # SHOW returns at most this many rows
# Privileges GRANT ALL does not include (granted only explicitly or only on shared databases).
NOT_IN_ALL = frozenset({"USE_ANY_ROLE", "SERVICE READ", "SERVICE WRITE", "IMPORTED PRIVILEGES"})
MULTIWORD_TYPES = frozenset({"DOUBLE PRECISION", "CHARACTER VARYING", "TIMESTAMP WITH TIME ZONE",
                             "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH LOCAL TIME ZONE"})


def missing_object(exc: ProviderError) -> bool:
    """An error that only says the object (or role) is gone: treat it as absent."""
    return "does not exist" in str(exc).lower()


def request_key(kind: str, name: str) -> Key:
    if kind == "service_function":
        parts, types = function_parts(name)
        return (*parts, *types)
    return tuple(ids.split_qualified(name))


class Reader:
    def __init__(self, db: Db, images: SnowflakeImages | None = None) -> None:
        self.db = db
        self.images = images
        self.repositories: dict[Key, dict[str, Any]] = {}  # last read: image repository rows by key

    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        by_kind: dict[str, list[ReadRequest]] = defaultdict(list)
        for req in requests:
            by_kind[req.kind].append(req)
        kinds = [k for k in rb.SHOWS if k in by_kind
                 or (k == "role" and any(x in by_kind for x in ROLE_KINDS))
                 or (k == "image_repository" and "image" in by_kind)]
        results = self.db.queries([rb.SHOWS[k].sql for k in kinds])
        rows: dict[str, dict[Key, dict[str, Any]]] = {}
        for kind, result in zip(kinds, results, strict=True):
            assert not isinstance(result, ProviderError)
            if len(result) >= SHOW_LIMIT and " IN ACCOUNT" in rb.SHOWS[kind].sql:
                result = self._per_database(kind, by_kind.get(kind, []))
            rows[kind] = {key: row for row in result if (key := rb.row_key(kind, row)) is not None}
        self.repositories = rows.get("image_repository", {})

        found: dict[str, tuple[str, Key]] = {}  # address -> (kind, key) of objects that exist
        for kind in rb.SHOWS:
            for req in by_kind.get(kind, []):
                key = request_key(kind, req.name)
                if key in rows.get(kind, {}):
                    found[req.address] = (kind, key)

        roles = set(rows.get("role", {}))
        phase2, consumers = self._phase2(by_kind, rows, found, roles)
        answers = dict(zip(phase2, self.db.queries(phase2, tolerate=missing_object), strict=True))

        out: dict[str, Observed] = {}
        for address, (kind, key) in found.items():
            row = dict(rows[kind][key])
            describe = rb.SHOWS[kind].describe
            if describe is not None:
                result = answers.get(_describe_sql(describe, kind, key))
                if isinstance(result, ProviderError) or result is None:
                    continue  # vanished between SHOW and DESCRIBE
                row.update(rb.describe_row(result))
            out[address] = Observed(rb.props_of(kind, row, key[:2]), rb.outputs_of(kind, row))
        out.update(self._grants(by_kind.get("grant", []), consumers, answers))
        out.update(self._role_grants(by_kind.get("role_grant", []), answers))
        if by_kind.get("image") and self.images is not None:
            out.update(self.images.read(by_kind["image"], self.repositories))
        return out

    def _per_database(self, kind: str, requests: list[ReadRequest]) -> list[dict[str, Any]]:
        """SHOW returns at most 10,000 rows (§1.4): past that, read the databases in play one by one."""
        databases = sorted({request_key(kind, r.name)[0] for r in requests})
        sql = rb.SHOWS[kind].sql
        sqls = [sql.replace(" IN ACCOUNT", f" IN DATABASE {ids.quote(db)}") for db in databases]
        out: list[dict[str, Any]] = []
        for result in self.db.queries(sqls, tolerate=missing_object):
            if isinstance(result, list):
                out.extend(result)
        return out

    def _phase2(self, by_kind: dict[str, list[ReadRequest]], rows: dict[str, dict[Key, dict[str, Any]]],
                found: dict[str, tuple[str, Key]], roles: set[Key]) -> tuple[list[str], dict[str, str]]:
        sqls: list[str] = []
        for kind, key in found.values():
            describe = rb.SHOWS[kind].describe
            if describe is not None:
                sqls.append(_describe_sql(describe, kind, key))
        consumers: dict[str, str] = {}
        for req in by_kind.get("grant", []):
            grantee = grant_parts(req.name)[0]
            if (grantee,) in roles:
                consumers[req.address] = f"SHOW GRANTS TO ROLE {ids.quote(grantee)}"
        for req in by_kind.get("role_grant", []):
            granted = role_grant_parts(req.name)[0]
            if (granted,) in roles:
                consumers[req.address] = f"SHOW GRANTS OF ROLE {ids.quote(granted)}"
        sqls.extend(dict.fromkeys(consumers.values()))
        return list(dict.fromkeys(sqls)), consumers

    def _grants(self, requests: list[ReadRequest], consumers: dict[str, str],
                answers: dict[str, Any]) -> dict[str, Observed]:
        out: dict[str, Observed] = {}
        for req in requests:
            result = answers.get(consumers.get(req.address, ""))
            if not isinstance(result, list):
                continue
            _, on_type, on_name = grant_parts(req.name)
            want = target_key(on_type, on_name)
            matching = [r for r in result if str(r.get("privilege", "")).upper() != "OWNERSHIP"
                        and row_target_key(r) == want]
            if not matching:
                continue
            privs = sorted({privilege(str(r["privilege"])) for r in matching})
            declared = (req.resource.privileges if req.resource is not None  # type: ignore[attr-defined]
                        else (req.prior.props.get("privileges") if req.prior else None)) or []
            if any(privilege(p) == ALL for p in declared) and covers_all(on_type, privs):
                privs = list(declared)
            option = all(rb.to_bool(r.get("grant_option")) for r in matching)
            out[req.address] = Observed({"privileges": privs, "grant_option": option})
        return out

    def _role_grants(self, requests: list[ReadRequest], answers: dict[str, Any]) -> dict[str, Observed]:
        out: dict[str, Observed] = {}
        for req in requests:
            granted, to_role = role_grant_parts(req.name)
            result = answers.get(f"SHOW GRANTS OF ROLE {ids.quote(granted)}")
            if not isinstance(result, list):
                continue
            if any(str(r.get("granted_to", "")).upper() == "ROLE" and str(r.get("grantee_name")) == to_role
                   for r in result):
                out[req.address] = Observed({})
        return out


def _describe_sql(describe: str, kind: str, key: Key) -> str:
    if kind == "service_function":
        return f"DESC FUNCTION {ids.qualified(*key[:3])}({', '.join(key[3:])})"
    return f"DESC {describe} {ids.qualified(*key)}"


def covers_all(on_type: str, privs: list[str]) -> bool:
    """Whether the privileges read back amount to what ``GRANT ALL`` gives on this securable type."""
    core = {p for p in PRIVILEGES.get(on_type, frozenset()) if p not in NOT_IN_ALL}
    return bool(privs) and core <= set(privs)


def target_key(on_type: str, on_name: str) -> Key:
    """Comparable identity of a securable, from the SQL name a Grant uses."""
    if on_type == "ACCOUNT":
        return ("ACCOUNT",)
    if on_type == "FUNCTION":
        parts, types = function_parts(on_name)
        return ("FUNCTION", *parts, "()", *types)
    return (on_type, *ids.split_qualified(on_name))


_FN = re.compile(r"^(?P<name>.*)\((?P<args>.*)\)(?::.*)?$", re.S)


def row_target_key(row: dict[str, Any]) -> Key | None:
    """Comparable identity of the securable of a SHOW GRANTS row (``granted_on`` + ``name``)."""
    on = str(row.get("granted_on") or "").upper().replace("_", " ")
    if on == "ACCOUNT":
        return ("ACCOUNT",)
    if on not in GRANT_TARGETS:
        return None
    parts = rb.raw_parts(str(row.get("name") or ""))
    if on == "FUNCTION":
        last = parts[-1]
        if len(last) > 1 and last[0] == last[-1] == '"':
            last = last[1:-1].replace('""', '"')
        m = _FN.match(last)
        if m is None:
            return None
        types = []
        for arg in rb._split_commas(m.group("args")):
            words = arg.split()
            if len(words) >= 2 and " ".join(words).upper() not in MULTIWORD_TYPES:
                words = words[1:]  # "NAME TYPE" (how Snowflake shows arguments) -> TYPE
            if words:
                types.append(canonical_type(" ".join(words).upper()))
        return ("FUNCTION", *(_stored(p) for p in parts[:-1]), m.group("name"), "()", *types)
    return (on, *(_stored(p) for p in parts))


def _stored(part: str) -> str:
    return ids.normalize(part) if part.startswith('"') else part
