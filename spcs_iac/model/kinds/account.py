"""Account-level kinds: roles, role grants, privilege grants, warehouses, databases, schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import field_validator, model_validator

from spcs_iac.model import identifiers as ids
from spcs_iac.model import values
from spcs_iac.model.base import Resource, Scope, object_or_name
from spcs_iac.model.fields import FieldDecl, Fmt, Prop, Unset, Update

Comment = Annotated[str | None, Prop(sql="COMMENT", fmt=Fmt.STRING, doc="free text")]


class Role(Resource):
    """An account role (reference §2)."""

    kind: ClassVar[str] = "role"
    sql_type: ClassVar[str] = "ROLE"

    comment: Comment = None


def _role_ref(v: Any, what: str) -> Any:
    return object_or_name(v, "role", what, "a Role or a role name", lambda n: ids.normalize(n, what=what))


class RoleGrant(Resource):
    """``GRANT ROLE role TO ROLE to_role`` (reference §3.2)."""

    kind: ClassVar[str] = "role_grant"
    sql_type: ClassVar[str] = "ROLE"

    name: str = ""
    role: Annotated[Any, Prop(fmt=Fmt.IDENT, ref="role", identity=True, follow_replace=True)]
    to_role: Annotated[Any, Prop(fmt=Fmt.IDENT, ref="role", identity=True, follow_replace=True)]

    @field_validator("name")
    @classmethod
    def _normalise_name(cls, v: str) -> str:
        return v

    @field_validator("role", "to_role", mode="before")
    @classmethod
    def _roles(cls, v: Any, info: Any) -> Any:
        return _role_ref(v, info.field_name)

    @model_validator(mode="after")
    def _identity(self) -> RoleGrant:
        self.name = f"{_n(self.role)}->{_n(self.to_role)}"
        return self

    def name_parts(self) -> tuple[str, ...]:
        return (self.name,)

    def compute_fqn(self) -> str:
        return f"{ids.quote(_n(self.role))}->{ids.quote(_n(self.to_role))}"


def _n(v: Resource | str) -> str:
    return v.name if isinstance(v, Resource) else v


# Securable types a Grant may target, with the SQL keyword and the `granted_on` spelling of SHOW GRANTS.
GRANT_TARGETS: dict[str, str] = {
    "ACCOUNT": "ACCOUNT",
    "DATABASE": "DATABASE",
    "SCHEMA": "SCHEMA",
    "WAREHOUSE": "WAREHOUSE",
    "COMPUTE POOL": "COMPUTE_POOL",
    "INTEGRATION": "INTEGRATION",
    "STAGE": "STAGE",
    "IMAGE REPOSITORY": "IMAGE_REPOSITORY",
    "SECRET": "SECRET",
    "SERVICE": "SERVICE",
    "FUNCTION": "FUNCTION",
    "NETWORK RULE": "NETWORK_RULE",
    "TABLE": "TABLE",
    "ROLE": "ROLE",
}

# Privileges per securable (reference §3.1); used to reject typos before they reach an account.
PRIVILEGES: dict[str, frozenset[str]] = {
    "ACCOUNT": frozenset(
        """CREATE COMPUTE POOL|BIND SERVICE ENDPOINT|CREATE INTEGRATION|CREATE WAREHOUSE|CREATE DATABASE|
        CREATE ROLE|CREATE USER|MONITOR USAGE|MANAGE GRANTS|CREATE EXTERNAL ACCESS INTEGRATION|
        MANAGE SERVICE CALLER ACCESS|MANAGE CALLER GRANT|EXECUTE TASK|IMPORT SHARE|MONITOR EXECUTION|
        APPLY MASKING POLICY|APPLY TAG|CREATE SHARE|AUDIT""".replace("\n", "").replace("  ", "").split("|")
    ),
    "DATABASE": frozenset(
        ["USAGE", "MONITOR", "MODIFY", "CREATE SCHEMA", "CREATE DATABASE ROLE", "APPLYBUDGET",
         "IMPORTED PRIVILEGES"]
    ),
    "SCHEMA": frozenset(
        ["USAGE", "MONITOR", "MODIFY", "CREATE SERVICE", "CREATE IMAGE REPOSITORY", "CREATE STAGE",
         "CREATE FUNCTION", "CREATE NETWORK RULE", "CREATE SECRET", "CREATE SNAPSHOT", "CREATE TABLE",
         "CREATE VIEW", "CREATE PROCEDURE", "CREATE TASK"]
    ),
    "WAREHOUSE": frozenset(["USAGE", "OPERATE", "MONITOR", "MODIFY", "APPLYBUDGET"]),
    "COMPUTE POOL": frozenset(["USAGE", "MONITOR", "OPERATE", "MODIFY"]),
    "INTEGRATION": frozenset(["USAGE", "USE_ANY_ROLE"]),
    "STAGE": frozenset(["READ", "WRITE", "USAGE"]),
    "IMAGE REPOSITORY": frozenset(["READ", "WRITE", "SERVICE READ", "SERVICE WRITE"]),
    "SECRET": frozenset(["READ", "USAGE"]),
    # UNCONFIRMED (reference §17.2): USAGE on SERVICE is in the services guide but not the GRANT syntax;
    # we accept it, as the Terraform provider's grant resource does.
    "SERVICE": frozenset(["MONITOR", "OPERATE", "USAGE"]),
    "FUNCTION": frozenset(["USAGE"]),
    # UNCONFIRMED (reference §17.18): privileges on network rules are not listed; USAGE is what TF allows.
    "NETWORK RULE": frozenset(["USAGE"]),
    # docs.snowflake.com/en/sql-reference/sql/grant-privilege (table privileges)
    "TABLE": frozenset(["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "EVOLVE SCHEMA"]),
}


class Grant(Resource):
    """Privileges on one securable to one role (reference §3.1).

    One object per (role, securable); its ``privileges`` set is changed in place with GRANT / REVOKE,
    and compared as a set against ``SHOW GRANTS TO ROLE`` so that case, order and ALL never cause
    perpetual diffs. Only the declared privileges (and those the stack granted before) are compared,
    unless ``authoritative=True``. ``on`` is an object, the string ``"ACCOUNT"``, or a name together with ``on_type``.
    """

    kind: ClassVar[str] = "grant"
    sql_type: ClassVar[str] = "GRANT"

    name: str = ""
    to: Annotated[
        Any, Prop(fmt=Fmt.IDENT, ref="role", identity=True, follow_replace=True, doc="grantee role")
    ]
    privileges: Annotated[list[str], Prop(fmt=Fmt.SPECIAL, unordered=True, doc="privileges, GRANT/REVOKE")]
    # `on` refers to an object of the kind named by on_type; references() below resolves that.
    on: Annotated[Any, Prop(fmt=Fmt.IDENT, identity=True, follow_replace=True)] = "ACCOUNT"
    on_type: str | None = None
    grant_option: Annotated[bool, Prop(fmt=Fmt.BOOL, update=Update.REPLACE, default=False)] = False
    # By default a grant manages only the privileges it declares (and revokes only those it granted and no
    # longer declares): privileges granted to the role by hand or by another tool are left alone.
    authoritative: Annotated[bool, Prop(fmt=Fmt.SPECIAL, readable=False, default=False,
                                        doc="True: exactly these privileges (others the role holds on the "
                                            "securable are revoked)")] = False

    @field_validator("name")
    @classmethod
    def _normalise_name(cls, v: str) -> str:
        return v

    @field_validator("to", mode="before")
    @classmethod
    def _grantee(cls, v: Any) -> Any:
        return _role_ref(v, "to")

    @field_validator("privileges", mode="before")
    @classmethod
    def _privs(cls, v: Any) -> list[str]:
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list | tuple) or not v:
            raise ValueError("privileges must be a non-empty list of privilege names")
        out = []
        for p in v:
            if not isinstance(p, str):
                raise ValueError(f"privilege {p!r} is not a string")
            out.append(values.privilege_name(p))
        return sorted(set(out))

    @model_validator(mode="after")
    def _target(self) -> Grant:
        on = self.on
        if isinstance(on, Resource):
            self.on_type = on.sql_type
        elif isinstance(on, str) and on.upper() == "ACCOUNT" and self.on_type in (None, "ACCOUNT"):
            self.on, self.on_type = "ACCOUNT", "ACCOUNT"
        elif isinstance(on, str):
            if not self.on_type:
                raise ValueError(f"on={on!r} is a name: give on_type= as well (one of {', '.join(GRANT_TARGETS)})")
            if str(self.on_type).strip().upper() == "FUNCTION":
                self.on = _function_name(on)  # DB.S.FN(FLOAT): a function is named with its argument types
            else:
                self.on = ids.qualified(*ids.split_qualified(on))
        else:
            raise ValueError(f"on must be an object, 'ACCOUNT' or a name, got {on!r}")
        on_type = " ".join(str(self.on_type).replace("_", " ").upper().split())
        if on_type == "EXTERNAL ACCESS INTEGRATION":
            on_type = "INTEGRATION"
        if on_type not in PRIVILEGES:
            raise ValueError(f"on_type {self.on_type!r} is not supported; allowed: {', '.join(PRIVILEGES)}")
        self.on_type = on_type
        allowed = PRIVILEGES[on_type]
        bad = [p for p in self.privileges if p not in allowed and p not in ("ALL", "ALL PRIVILEGES")]
        if bad:
            target = on_type if on_type == "ACCOUNT" else f"{on_type} {self.on_name}"
            raise ValueError(
                f"privileges {bad} cannot be granted on {target} (to {_n(self.to)}); "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        self.name = self.fqn
        return self

    @property
    def on_name(self) -> str:
        if isinstance(self.on, Resource):
            return self.on.grant_name() if hasattr(self.on, "grant_name") else self.on.fqn
        return self.on

    def name_parts(self) -> tuple[str, ...]:
        return (self.name,)

    def compute_fqn(self) -> str:
        target = "ACCOUNT" if self.on_type == "ACCOUNT" else f"{self.on_type}:{self.on_name}"
        return f"{ids.quote(_n(self.to))}:{target}"

    def extra_references(self) -> Iterator[tuple[str, str, Resource | str]]:
        if isinstance(self.on, Resource):
            yield "on", self.on.kind, self.on
        elif self.on_type != "ACCOUNT":
            yield "on", GRANT_KIND_OF_TYPE.get(self.on_type or "", ""), self.on


def _function_name(text: str) -> str:
    """``db.s.fn(float, Number(10,2))`` -> ``DB.S.FN(FLOAT, NUMBER)``: the form functions are recorded in."""
    from spcs_iac.model.kinds.services import DATATYPE, canonical_type  # services imports this module

    text = text.strip()
    start = text.find("(")
    if start <= 0 or not text.endswith(")"):
        raise ValueError(f"on={text!r}: a function is named with its argument types, e.g. DB.SCHEMA.FN(FLOAT)")
    types, depth, buf = [], 0, ""
    for ch in text[start + 1:-1] + ",":
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            if buf.strip():
                words = " ".join(buf.upper().split())
                if not DATATYPE.match(words):
                    raise ValueError(f"on={text!r}: {buf.strip()!r} is not a SQL type")
                types.append(canonical_type(words))
            buf = ""
        else:
            buf += ch
    return f"{ids.qualified(*ids.split_qualified(text[:start]))}({', '.join(types)})"


GRANT_KIND_OF_TYPE = {
    "DATABASE": "database", "SCHEMA": "schema", "WAREHOUSE": "warehouse", "COMPUTE POOL": "compute_pool",
    "INTEGRATION": "external_access_integration", "STAGE": "stage", "IMAGE REPOSITORY": "image_repository",
    "SECRET": "secret", "SERVICE": "service", "FUNCTION": "service_function", "NETWORK RULE": "network_rule",
    "TABLE": "table",
}


WarehouseSize = Literal[
    "XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE", "XXLARGE", "XXXLARGE", "X4LARGE", "X5LARGE", "X6LARGE"
]
WAREHOUSE_SIZE_SYNONYMS = {
    "X-SMALL": "XSMALL", "X-LARGE": "XLARGE", "X2LARGE": "XXLARGE", "2X-LARGE": "XXLARGE",
    "X3LARGE": "XXXLARGE", "3X-LARGE": "XXXLARGE", "4X-LARGE": "X4LARGE", "5X-LARGE": "X5LARGE",
    "6X-LARGE": "X6LARGE",
}


class Warehouse(Resource):
    """A virtual warehouse (reference §4)."""

    kind: ClassVar[str] = "warehouse"
    sql_type: ClassVar[str] = "WAREHOUSE"

    warehouse_type: Annotated[
        Literal["STANDARD", "SNOWPARK-OPTIMIZED"] | None, Prop(sql="WAREHOUSE_TYPE", fmt=Fmt.STRING, default="STANDARD")
    ] = None
    warehouse_size: Annotated[WarehouseSize | None, Prop(sql="WAREHOUSE_SIZE", default="XSMALL")] = None
    max_cluster_count: Annotated[int | None, Prop(sql="MAX_CLUSTER_COUNT", fmt=Fmt.INT, default=1)] = None
    min_cluster_count: Annotated[int | None, Prop(sql="MIN_CLUSTER_COUNT", fmt=Fmt.INT, default=1)] = None
    scaling_policy: Annotated[
        Literal["STANDARD", "ECONOMY"] | None, Prop(sql="SCALING_POLICY", default="STANDARD")
    ] = None
    auto_suspend: Annotated[int | None, Prop(sql="AUTO_SUSPEND", fmt=Fmt.INT, default=600)] = None
    auto_resume: Annotated[bool | None, Prop(sql="AUTO_RESUME", fmt=Fmt.BOOL, default=True)] = None
    initially_suspended: Annotated[
        bool | None, Prop(sql="INITIALLY_SUSPENDED", fmt=Fmt.BOOL, update=Update.CREATE_ONLY, readable=False,
                          unset=Unset.IGNORE)
    ] = None
    comment: Comment = None

    def default_of(self, decl: FieldDecl) -> Any:
        # A Snowpark-optimized warehouse's default memory (16x) has no size below MEDIUM, which is its
        # default size (https://docs.snowflake.com/en/user-guide/warehouses-snowpark-optimized; reference §4).
        if decl.name == "warehouse_size" and self.warehouse_type == "SNOWPARK-OPTIMIZED":
            return "MEDIUM"
        return super().default_of(decl)

    @field_validator("warehouse_size", "warehouse_type", "scaling_policy", mode="before")
    @classmethod
    def _upper(cls, v: Any, info: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().upper()
            if info.field_name == "warehouse_size":
                v = WAREHOUSE_SIZE_SYNONYMS.get(v, v)
        return v

    @field_validator("auto_resume", mode="before")
    @classmethod
    def _bool_text(cls, v: Any) -> Any:
        return parse_bool(v)

    @field_validator("auto_suspend")
    @classmethod
    def _suspend(cls, v: int | None) -> int | None:
        if v is not None and v < 0:
            raise ValueError(f"auto_suspend must be >= 0 seconds (0 = never), got {v}")
        return v

    @model_validator(mode="after")
    def _clusters(self) -> Warehouse:
        lo, hi = self.min_cluster_count or 1, self.max_cluster_count or 1
        if not 1 <= lo <= hi <= 300:
            raise ValueError(f"need 1 <= min_cluster_count ({lo}) <= max_cluster_count ({hi}) <= 300")
        return self


def parse_bool(v: Any) -> Any:
    """The seed's Python API passes booleans as text ("true"); accept that form too."""
    if isinstance(v, str):
        parsed = values.parse_bool(v)
        return v if parsed is None else parsed
    return v


class Database(Resource):
    """A database (PUBLIC schema comes with it)."""

    kind: ClassVar[str] = "database"
    sql_type: ClassVar[str] = "DATABASE"

    comment: Comment = None


class Schema(Resource):
    """A schema in a database. ``Schema(name="PUBLIC", database=db)`` adopts the implicit PUBLIC schema."""

    kind: ClassVar[str] = "schema"
    sql_type: ClassVar[str] = "SCHEMA"
    scope: ClassVar[Scope] = Scope.DATABASE

    database: Annotated[Any, Prop(fmt=Fmt.IDENT, ref="database", identity=True, follow_replace=True)]
    comment: Comment = None

    @field_validator("database", mode="before")
    @classmethod
    def _db(cls, v: Any) -> Any:
        return object_or_name(v, "database", "database", "a Database or a name",
                              lambda n: ids.normalize(n, what="database name"))

    @property
    def database_name(self) -> str:
        return _n(self.database)

    def name_parts(self) -> tuple[str, ...]:
        return (self.database_name, self.name)

    def made_with(self) -> str | None:
        # CREATE DATABASE also creates its PUBLIC schema (docs: CREATE DATABASE, "Usage notes").
        return f"database.{ids.quote(self.database_name)}" if self.name == "PUBLIC" else None
