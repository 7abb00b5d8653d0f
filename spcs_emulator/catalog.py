"""In-memory account catalog: objects, grants, role hierarchy. JSON dump/load for ``--state``.

Keys: account objects ``(NAME,)``; schemas ``(DB, SCHEMA)``; schema objects ``(DB, SCHEMA, NAME)``;
functions ``(DB, SCHEMA, NAME, "ARGTYPE,ARGTYPE")``. Name parts are stored resolved (unquoted
identifiers upper-cased, quoted identifiers exact).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import does_not_exist

ACCOUNT_KINDS = ("ROLE", "WAREHOUSE", "DATABASE", "INTEGRATION", "COMPUTE POOL")
SCHEMA_KINDS = ("STAGE", "SECRET", "NETWORK RULE", "IMAGE REPOSITORY", "SERVICE", "FUNCTION", "TABLE")
LABELS = {
    "ROLE": "Role",
    "WAREHOUSE": "Warehouse",
    "DATABASE": "Database",
    "SCHEMA": "Schema",
    "INTEGRATION": "Integration",
    "COMPUTE POOL": "Compute pool",
    "STAGE": "Stage",
    "SECRET": "Secret",
    "NETWORK RULE": "Network rule",
    "IMAGE REPOSITORY": "Image repository",
    "SERVICE": "Service",
    "FUNCTION": "Function",
    "TABLE": "Table",
}
BUILTIN_ROLES = {
    "ACCOUNTADMIN": "Account administrator can manage all aspects of the account.",
    "SECURITYADMIN": "Security administrator can manage security aspects of the account.",
    "USERADMIN": "User administrator can create and manage users and roles",
    "SYSADMIN": "System administrator can create and manage databases and warehouses.",
    "PUBLIC": "Public role is automatically available to every user in the account.",
}
# (child, parent): the system role hierarchy of a new Snowflake account.
BUILTIN_ROLE_GRANTS = [("SYSADMIN", "ACCOUNTADMIN"), ("SECURITYADMIN", "ACCOUNTADMIN"), ("USERADMIN", "SECURITYADMIN")]
_PLAIN = re.compile(r"^[A-Z_][A-Z0-9_$]*$")


def fmt_ident(part: str) -> str:
    """Identifier as Snowflake prints it inside a qualified name: plain if possible, else quoted."""
    if _PLAIN.match(part):
        return part
    return '"' + part.replace('"', '""') + '"'


def fmt_key(key: tuple[str, ...]) -> str:
    return ".".join(fmt_ident(p) for p in key)


def fmt_obj_name(kind: str, key: tuple[str, ...]) -> str:
    if kind == "SERVICE ROLE":
        return fmt_key(key[:3]) + "!" + fmt_ident(key[3])
    if kind == "FUNCTION":
        return fmt_key(key[:3]) + "(" + key[3] + ")"
    return fmt_key(key)


@dataclass
class Obj:
    kind: str
    key: tuple[str, ...]
    owner: str
    created_on: float
    updated_on: float
    comment: str | None = None
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.key[2] if self.kind in SCHEMA_KINDS else self.key[-1]


@dataclass
class Grant:
    privilege: str
    on_kind: str
    on_key: tuple[str, ...]
    grantee: str
    grant_option: bool
    granted_by: str
    created_on: float


class Catalog:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, tuple[str, ...]], Obj] = {}
        self.grants: list[Grant] = []
        self.user_grants: dict[str, list[str]] = {}  # GRANT ROLE r TO USER u: user -> roles

    # -- objects --------------------------------------------------------------------------------
    def get(self, kind: str, key: tuple[str, ...]) -> Obj | None:
        return self.objects.get((kind, tuple(key)))

    def require(self, kind: str, key: tuple[str, ...]) -> Obj:
        obj = self.get(kind, key)
        if obj is None:
            raise does_not_exist(LABELS.get(kind, "Object"), fmt_obj_name(kind, key))
        return obj

    def add(self, obj: Obj) -> Obj:
        self.objects[(obj.kind, tuple(obj.key))] = obj
        return obj

    def list(self, kind: str) -> list[Obj]:
        return sorted((o for (k, _), o in self.objects.items() if k == kind), key=lambda o: o.key)

    def remove(self, kind: str, key: tuple[str, ...]) -> None:
        key = tuple(key)
        doomed = [(kind, key)]
        if kind == "DATABASE":
            doomed += [ck for ck in self.objects if ck[0] != "DATABASE" and ck[0] not in ACCOUNT_KINDS
                       and ck[1][:1] == key]
        elif kind == "SCHEMA":
            doomed += [ck for ck in self.objects if ck[0] in SCHEMA_KINDS and ck[1][:2] == key]
        for ck in doomed:
            self.objects.pop(ck, None)
        gone = set(doomed)
        services = {k for kind_, k in doomed if kind_ == "SERVICE"}
        self.grants = [g for g in self.grants if (g.on_kind, g.on_key) not in gone
                       and not (g.on_kind == "SERVICE ROLE" and g.on_key[:3] in services)]
        if kind == "ROLE":
            self.grants = [g for g in self.grants if g.grantee != key[0]]

    # -- roles and grants -----------------------------------------------------------------------
    def granted_roles(self, role: str) -> list[str]:
        return [g.on_key[0] for g in self.grants if g.on_kind == "ROLE" and g.grantee == role]

    def closure(self, role: str) -> set[str]:
        """The role itself, every role granted to it (transitively), and PUBLIC."""
        seen = {role, "PUBLIC"}
        todo = [role]
        while todo:
            for child in self.granted_roles(todo.pop()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    def find_grant(self, privilege: str, kind: str, key: tuple[str, ...], grantee: str) -> Grant | None:
        for g in self.grants:
            if g.privilege == privilege and g.on_kind == kind and g.on_key == tuple(key) and g.grantee == grantee:
                return g
        return None

    def has_privilege(self, role: str, privilege: str, kind: str, key: tuple[str, ...]) -> bool:
        roles = self.closure(role)
        return any(
            g.grantee in roles and g.on_kind == kind and g.on_key == tuple(key) and g.privilege == privilege
            for g in self.grants
        )

    # -- persistence ----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "version": 1,
            "objects": [asdict(o) for o in self.objects.values()],
            "grants": [asdict(g) for g in self.grants],
            "user_grants": self.user_grants,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Catalog:
        cat = cls()
        for raw in data.get("objects", []):
            raw = dict(raw)
            raw["key"] = tuple(raw["key"])
            cat.add(Obj(**raw))
        for raw in data.get("grants", []):
            raw = dict(raw)
            raw["on_key"] = tuple(raw["on_key"])
            cat.grants.append(Grant(**raw))
        cat.user_grants = {u: list(rs) for u, rs in data.get("user_grants", {}).items()}
        return cat

    @classmethod
    def fresh(cls, now: float) -> Catalog:
        cat = cls()
        for role, comment in BUILTIN_ROLES.items():
            cat.add(Obj("ROLE", (role,), "", now, now, comment))
        for child, parent in BUILTIN_ROLE_GRANTS:
            cat.grants.append(Grant("USAGE", "ROLE", (child,), parent, False, "", now))
        cat.add(Obj("DATABASE", ("SNOWFLAKE",), "", now, now, None, {"kind": "APPLICATION", "system": True}))
        for schema in ("ACCOUNT_USAGE", "INFORMATION_SCHEMA"):
            cat.add(Obj("SCHEMA", ("SNOWFLAKE", schema), "", now, now, None, {"system": True}))
        return cat
