"""What ``spcs-iac export`` reads: every object of a Snowflake account that a kind declares.

The objects are found with the Snowflake target's own reads: one ``SHOW`` per kind (the adapters' statements),
``SHOW GRANTS TO ROLE`` per role for grants and role grants, ``SHOW ROLES IN SERVICE`` and ``SHOW GRANTS OF
SERVICE ROLE`` for service role grants, and ``DESCRIBE SERVICE`` for specifications. Their fields are then read
by the target's :class:`~spcs_iac.targets.snowflake.read.Reader`, exactly as a plan reads them, so the
declarations made of them (:mod:`.export_decl`) compare equal to what the account shows.

What Snowflake makes itself is left out: the system roles, the SNOWFLAKE and shared databases, every
database's INFORMATION_SCHEMA and PUBLIC schema (unless changed), the system roles' own grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spcs_iac.errors import ProviderError, SpcsIacError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Scope
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.kinds.account import GRANT_KIND_OF_TYPE, PRIVILEGES
from spcs_iac.model.spec import ServiceSpec
from spcs_iac.model.validate import SYSTEM_DATABASES, SYSTEM_ROLES, SYSTEM_SCHEMAS, image_repository_path
from spcs_iac.plan.target import ReadRequest
from spcs_iac.targets.snowflake import grants as gr
from spcs_iac.targets.snowflake import readback as rb
from spcs_iac.targets.snowflake.adapters import ADAPTERS, Read
from spcs_iac.targets.snowflake.read import SHOW_LIMIT, missing_object
from spcs_iac.targets.snowflake.sql import Stmt, service_role_ref, stamp_fields
from spcs_iac.targets.snowflake.values import is_null, stored_part

Key = tuple[str, ...]
SPEC_KINDS = ("service", "job_service")
# SHOW TABLES flags of tables the Table kind does not declare (docs: show-tables): left out.
OTHER_TABLES = ("is_external", "is_dynamic", "is_iceberg", "is_hybrid", "is_event")


@dataclass
class Found:
    """One object of the account, as a plan would read it."""

    kind: str
    key: Key  # stored name parts (a function's argument types follow its name)
    name: str  # the name its declaration has (its fqn)
    row: dict[str, Any] = field(default_factory=dict)  # the SHOW row it was found in
    props: dict[str, Any] = field(default_factory=dict)  # the Reader's observed fields
    identity: dict[str, Any] = field(default_factory=dict)  # grants: what the grant is of, to whom, by whom
    spec: dict[str, Any] | None = None  # services: the specification document

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.name}"

    @property
    def database(self) -> str | None:
        """The database the object lives in (a database: itself); None for account objects."""
        if self.kind == "database" or KINDS[self.kind].scope is not Scope.ACCOUNT:
            return self.key[0]
        return None

    def repository_paths(self) -> set[str]:
        """``db/schema/repo`` of each repository the spec's image paths are in (full registry URLs: none)."""
        containers = (self.spec or {}).get("spec", {}).get("containers", [])
        return {p for c in containers if (p := image_repository_path(str(c.get("image", "")))) is not None}

    def references(self) -> set[str]:
        """Addresses of the objects this one names (which may or may not be in the account)."""
        out: set[str] = set()
        for d in kind_props(KINDS[self.kind]):
            value = self.identity.get(d.name, self.props.get(d.name))
            if d.prop.ref is None or value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                out.add(address_of(d.prop.ref, str(item)))
        if self.identity.get("on_address"):
            out.add(self.identity["on_address"])
        if self.identity.get("by"):
            out.add(address_of("role", self.identity["by"]))
        if self.database is not None and self.kind != "database":
            out.add(address_of("database", ids.quote(self.key[0])))
            if self.kind != "schema":
                out.add(address_of("schema", ids.qualified(*self.key[:2])))
        return out


@dataclass
class Inventory:
    found: dict[str, Found]  # address -> object, everything exportable that was seen
    notes: list[str] = field(default_factory=list)  # what was seen but cannot be declared, and why


def address_of(kind: str, name: str) -> str:
    """The address an object of ``kind`` named ``name`` (a name as SQL or as observed) has in a stack."""
    if kind == "service_function":
        return f"{kind}.{name}"
    return f"{kind}.{ids.qualified(*ids.split_qualified(name))}"


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# ---- reading ---------------------------------------------------------------------------------------------
def read_account(provider: Any, database: str | None = None) -> Inventory:
    """Every object of the account spcs-iac can declare (with ``database``: that database's objects and the
    account objects they use)."""
    db, reader = provider.db, provider.reader
    db.forget_reads()  # what this provider read before (an apply) is not what the account holds now
    notes: list[str] = []
    try:
        shows = _show_rows(db)
        found = _objects(shows, notes)
        roles = sorted(k[0] for k in shows.get("role", {}))
        _grants(db, roles, found, notes)
        _specs(db, found, notes)
        _service_role_grants(db, found)
        requests = [ReadRequest(f.address, f.kind, f.name, _grant_declared(f), None) for f in found.values()]
        observed = reader.read(requests)
    except ProviderError as exc:
        raise SpcsIacError(f"cannot read the account: {one_line(exc)}") from None
    for address in list(found):
        seen = observed.get(address)
        if seen is None:  # gone between the reads, or not one of ours (a function that calls no service)
            found.pop(address)
            continue
        found[address].props = dict(seen.props)
    for f in [f for f in found.values() if f.kind == "service_function" and not f.props.get("service")]:
        found.pop(f.address)  # a UDF of another language: not a service function
    inventory = Inventory(found, notes)
    if database is not None:
        _limit_to(inventory, ids.normalize(database))
    return inventory


def _show_rows(db: Any) -> dict[str, dict[Key, dict[str, Any]]]:
    """Every row of each kind's SHOW, by key (read per database past SHOW's row limit)."""
    kinds = [k for k, a in ADAPTERS.items() if a.read is Read.SHOW]
    results = db.queries([ADAPTERS[k].show_sql for k in kinds])
    out: dict[str, dict[Key, dict[str, Any]]] = {}
    for kind, rows in zip(kinds, results, strict=True):
        out[kind] = {key: row for row in rows if (key := rb.row_key(kind, row)) is not None}
    databases = sorted(k[0] for k in out.get("database", {}))
    for kind in kinds:
        sql = ADAPTERS[kind].show_sql
        if len(out[kind]) >= SHOW_LIMIT and " IN ACCOUNT" in sql:
            parts = db.queries([sql.replace(" IN ACCOUNT", f" IN DATABASE {ids.quote(d)}") for d in databases],
                               tolerate=missing_object)
            out[kind] = {key: row for rows in parts if isinstance(rows, list) for row in rows
                         if (key := rb.row_key(kind, row)) is not None}
    return out


def _objects(shows: Mapping[str, Mapping[Key, dict[str, Any]]], notes: list[str]) -> dict[str, Found]:
    skipped_dbs = {k[0] for k, row in shows.get("database", {}).items() if _system_database(k[0], row)}
    found: dict[str, Found] = {}
    for kind, rows in shows.items():
        adapter = ADAPTERS[kind]
        for key, row in rows.items():
            if _left_out(kind, key, row, skipped_dbs, shows, notes):
                continue
            n = len(adapter.key)
            name = ids.qualified(*key[:n]) + (f"({', '.join(key[n:])})" if adapter.signature else "")
            f = Found(kind, key, name, row=row)
            found[f.address] = f
    return found


def _system_database(name: str, row: Mapping[str, Any]) -> bool:
    """The SNOWFLAKE database, shared and application databases (``origin`` or another ``kind``)."""
    kind = None if is_null(row.get("kind")) else str(row["kind"]).upper()
    return name in SYSTEM_DATABASES or not is_null(row.get("origin")) or kind not in (None, "STANDARD")


def _left_out(kind: str, key: Key, row: Mapping[str, Any], skipped_dbs: set[str],
              shows: Mapping[str, Mapping[Key, dict[str, Any]]], notes: list[str]) -> bool:
    """Objects Snowflake makes itself (left out silently) and objects no kind declares (noted)."""
    if kind == "role":
        return key[0] in SYSTEM_ROLES
    if kind == "database":
        return key[0] in skipped_dbs
    if KINDS[kind].scope is Scope.ACCOUNT:  # made by an application (its pools, its services' objects)
        return not is_null(row.get("managing_object_name")) or not is_null(row.get("application"))
    if key[0] in skipped_dbs or key[1] in SYSTEM_SCHEMAS:
        return True
    if kind == "schema":
        return key[1] == "PUBLIC" and _public_as_made(key, row, shows)
    if not is_null(row.get("managing_object_name")):
        return True  # made by an application
    if kind == "table":
        other = [flag for flag in OTHER_TABLES if str(row.get(flag) or "N").upper() in ("Y", "TRUE")]
        table_kind = str(row.get("kind") or "TABLE").upper()
        if other or table_kind != "TABLE":
            what = other[0].removeprefix("is_") if other else table_kind.lower()
            notes.append(f"table {ids.qualified(*key)}: a {what} table, which the Table kind does not declare")
            return True
    return False


def _public_as_made(key: Key, row: Mapping[str, Any], shows: Mapping[str, Mapping[Key, dict[str, Any]]]) -> bool:
    """Whether a PUBLIC schema is as CREATE DATABASE made it (its database's owner, no comment): then the
    database declares it (``Schema.made_with``) and it is not written."""
    database = shows.get("database", {}).get((key[0],), {})
    comment = None if is_null(row.get("comment")) else stamp_fields(str(row["comment"]))[0]
    return comment is None and row.get("owner") == database.get("owner")


def _grants(db: Any, roles: list[str], found: dict[str, Found], notes: list[str]) -> None:
    """Grants and role grants, from ``SHOW GRANTS TO ROLE`` of every role (system roles too: what they were
    given on the account's own objects is exported, what Snowflake gave them is not)."""
    sqls = [f"SHOW GRANTS TO ROLE {ids.quote(r)}" for r in roles]
    grouped: dict[tuple[str, Key], list[dict[str, Any]]] = {}
    for role, rows in zip(roles, db.queries(sqls, tolerate=missing_object), strict=True):
        for row in rows if isinstance(rows, list) else []:
            privilege = str(row.get("privilege") or "").upper()
            granted_on = str(row.get("granted_on") or "").upper().replace("_", " ")
            if privilege == "OWNERSHIP" or str(row.get("granted_to") or "ROLE").upper() != "ROLE":
                continue
            if granted_on == "ROLE":
                _role_grant(row, role, found)
            elif (target := gr.row_target_key(row)) is not None and target[0] in PRIVILEGES:
                grouped.setdefault((role, target), []).append(row)
    for (role, target), rows in sorted(grouped.items()):
        _grant(role, target, rows, found, notes)


def _role_grant(row: Mapping[str, Any], grantee: str, found: dict[str, Found]) -> None:
    granted = stored_part(str(row.get("name") or ""))
    if granted in SYSTEM_ROLES and grantee in SYSTEM_ROLES:
        return  # the system hierarchy
    f = Found("role_grant", (granted, grantee), f"{ids.quote(granted)}->{ids.quote(grantee)}",
              identity={"role": ids.quote(granted), "to_role": ids.quote(grantee), "by": _granted_by([row])})
    found[f.address] = f


def _grant(role: str, target: Key, rows: list[dict[str, Any]], found: dict[str, Found], notes: list[str]) -> None:
    on_type = target[0]
    on_database = None
    if on_type == "ACCOUNT":
        on_name, on_address = "ACCOUNT", None
    elif on_type == "FUNCTION":
        types = target[target.index("()") + 1:]
        on_name = f"{ids.qualified(*target[1:target.index('()')])}({', '.join(types)})"
        on_address, on_database = f"service_function.{on_name}", target[1]
    else:
        on_name = ids.qualified(*target[1:])
        kind = GRANT_KIND_OF_TYPE[on_type]
        on_address = address_of(kind, on_name)
        if kind == "database" or KINDS[kind].scope is not Scope.ACCOUNT:
            on_database = target[1]
    if role in SYSTEM_ROLES and (on_address is None or on_address not in found):
        return  # what Snowflake gives its own roles (on the account, on its own objects)
    privileges = gr.privileges(str(r["privilege"]) for r in rows)
    unknown = [p for p in privileges if p not in PRIVILEGES[on_type] and p != gr.ALL]
    target_text = on_type if on_type == "ACCOUNT" else f"{on_type} {on_name}"
    if unknown:
        notes.append(f"grant of {', '.join(privileges)} on {target_text} to role {ids.quote(role)}: spcs-iac does not "
                     f"know {', '.join(unknown)} on a {on_type.lower()} (declaring the rest would revoke it)")
        return
    name = f"{ids.quote(role)}:" + ("ACCOUNT" if on_type == "ACCOUNT" else f"{on_type}:{on_name}")
    f = Found("grant", (role, *target), name,
              identity={"to": ids.quote(role), "on": on_name, "on_type": on_type, "on_address": on_address,
                        "on_database": on_database, "privileges": privileges, "by": _granted_by(rows)})
    found[f.address] = f


def _grant_declared(f: Found) -> Any:
    """A grant is read as what it declares (the privileges found): the target reads a grant's own privileges,
    not every privilege the role holds."""
    if f.kind != "grant":
        return None
    i = f.identity
    return KINDS["grant"](to=i["to"], on=i["on"], on_type=i["on_type"], privileges=i["privileges"])


def _granted_by(rows: Iterable[Mapping[str, Any]]) -> str | None:
    """The role that made the grant (it makes it again); None when Snowflake made it."""
    roles = sorted({str(r["granted_by"]) for r in rows if not is_null(r.get("granted_by"))})
    return ids.quote(roles[0]) if roles else None


def _specs(db: Any, found: dict[str, Found], notes: list[str]) -> None:
    """Each service's specification (``DESCRIBE SERVICE``, docs: desc-service). Snowflake shows it to the
    owner's role only, so a service whose spec the reading role cannot see is described as its owner."""
    services = sorted((f for f in found.values() if f.kind in SPEC_KINDS), key=lambda f: f.address)
    sqls = [f"DESC SERVICE {f.name}" for f in services]
    for f, rows in zip(services, db.queries(sqls, tolerate=missing_object), strict=True):
        text = _spec_text(rows)
        owner = f.row.get("owner")
        if text is None and not is_null(owner):
            try:
                with db.session() as sess:
                    text = _spec_text(db.run(sess, Stmt((f"DESC SERVICE {f.name}",), role=ids.quote(str(owner)))))
            except ProviderError:
                text = None
        label = f"{f.kind.replace('_', ' ')} {f.name}"
        if text is None:
            notes.append(f"{label}: its specification is shown only to its owner role {owner}, which the reading "
                         "role cannot use (export with --role set to it)")
            found.pop(f.address)
            continue
        try:
            f.spec = ServiceSpec.from_yaml(text, source=f"the specification of {f.name}").to_document()
        except (ValueError, SpcsIacError) as exc:
            notes.append(f"{label}: its specification is not one spcs-iac can declare: {one_line(exc)}")
            found.pop(f.address)


def _spec_text(rows: Any) -> str | None:
    if not isinstance(rows, list) or not rows or is_null(rows[0].get("spec")):
        return None
    return str(rows[0]["spec"])


def _service_role_grants(db: Any, found: dict[str, Found]) -> None:
    """Who holds each service's roles: ``SHOW ROLES IN SERVICE`` (docs: show-roles-in-service), then
    ``SHOW GRANTS OF SERVICE ROLE`` for each (the query the target reads these grants with)."""
    services = sorted((f for f in found.values() if f.kind == "service"), key=lambda f: f.address)
    listed = db.queries([f"SHOW ROLES IN SERVICE {f.name}" for f in services], tolerate=missing_object)
    pairs = [(f, str(r["name"])) for f, rows in zip(services, listed, strict=True) if isinstance(rows, list)
             for r in rows if not is_null(r.get("name"))]
    sqls = [f"SHOW GRANTS OF SERVICE ROLE {service_role_ref(f.key, role)}" for f, role in pairs]
    for (f, role), rows in zip(pairs, db.queries(sqls, tolerate=missing_object), strict=True):
        for row in rows if isinstance(rows, list) else []:
            if str(row.get("granted_to") or "").upper() != "ROLE" or is_null(row.get("grantee_name")):
                continue
            to_role = str(row["grantee_name"])
            g = Found("service_role_grant", (*f.key, role, to_role),
                      f"{f.name}!{ids.quote(role)}->{ids.quote(to_role)}",
                      identity={"service": f.name, "service_role": role, "to_role": ids.quote(to_role),
                                "by": _granted_by([row])})
            found[g.address] = g


# ---- one database ----------------------------------------------------------------------------------------
def _limit_to(inventory: Inventory, database: str) -> None:
    """Keep the database, what lives in it, the account objects those use, and the grants on what is kept
    (with the account privileges of the roles kept)."""
    found = inventory.found
    if address_of("database", ids.quote(database)) not in found:
        known = ", ".join(sorted(ids.quote(f.key[0]) for f in found.values() if f.kind == "database")) or "(none)"
        raise SpcsIacError(f"--database {ids.quote(database)}: the account has no such database that spcs-iac can "
                           f"export (or the role cannot see it); databases: {known}")
    kept = {a for a, f in found.items() if f.database == database and f.kind != "grant"}
    repositories = repository_addresses(found)
    while True:
        more = {ref for a in kept for ref in found[a].references()
                if ref in found and KINDS[found[ref].kind].scope is Scope.ACCOUNT and found[ref].kind != "database"}
        more |= {repositories[p] for a in kept for p in found[a].repository_paths() if p in repositories}
        for a, f in found.items():
            if f.kind == "grant":
                on = f.identity["on_address"]
                to = address_of("role", f.identity["to"])
                if on in kept or f.identity["on_database"] == database or (on is None and to in kept):
                    more.add(a)
            elif f.kind == "role_grant" and address_of("role", f.identity["role"]) in kept:
                more.add(a)
            elif f.kind == "service_role_grant" and address_of("service", f.identity["service"]) in kept:
                more.add(a)
        if more <= kept:
            break
        kept |= more
    inventory.found = {a: f for a, f in found.items() if a in kept}


def repository_addresses(found: Mapping[str, Found]) -> dict[str, str]:
    """``db/schema/repo`` (as spec image paths name repositories) -> the repository's address."""
    return {"/".join(p.lower() for p in f.key): a for a, f in found.items() if f.kind == "image_repository"}
