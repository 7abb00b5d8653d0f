"""What Snowflake makes irregular per kind, in one registry: ``ADAPTERS[kind]``.

Everything regular is derived from the kind declarations (``kind_props``): a field is read from the SHOW
column of the same name and normalised by its ``Fmt``; it is created with ``CREATE <TYPE> name KEY = value``,
changed with ``ALTER <TYPE> name SET / UNSET``, moved with ``GRANT OWNERSHIP ON <TYPE>`` and removed with
``DROP <TYPE> IF EXISTS``. An adapter lists only where Snowflake departs from that: how the kind is read,
columns named differently, Snowflake's own spellings, outputs, statement shapes and ALTER rules.
``tests/snowflake/test_adapters.py`` checks every kind has one and that they name only declared fields
and documented columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource
from spcs_iac.model.fields import FieldDecl, kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.model import Change
from spcs_iac.plan.target import Observed, ReadRequest
from spcs_iac.targets.snowflake import grants as gr
from spcs_iac.targets.snowflake import sql_special as sp
from spcs_iac.targets.snowflake import tables as tb
from spcs_iac.targets.snowflake import values as v
from spcs_iac.targets.snowflake.sql import Step, function_parts, function_ref, ident
from spcs_iac.targets.snowflake.sql_special import AlterRule

Key = tuple[str, ...]
CreateShape = Callable[[Resource, Outputs], list[Step]]
# (change, changed fields without owner, owner role, outputs, ALTER rule) -> steps; None = the generic ALTER.
UpdateShape = Callable[[Change, list[FieldDecl], str | None, Outputs, AlterRule], list[Step] | None]
DeleteShape = Callable[[Change, str | None], list[Step]]  # (change, role to run as) -> steps
Converter = Callable[[Any], Any]


class Read(StrEnum):
    """How the objects of a kind are read back."""

    SHOW = "show"  # one SHOW for every object of the kind; DESCRIBE per object for what SHOW lacks
    ROLE_GRANTS = "role_grants"  # SHOW GRANTS TO / OF ROLE, once the roles are known to exist
    REGISTRY = "registry"  # not SQL: the image's digest in the repository's registry (images.py)


@dataclass(frozen=True)
class SnowflakeAdapter:
    kind: str
    # ---- reading ------------------------------------------------------------------------------------
    read: Read = Read.SHOW
    show: str | None = None  # Read.SHOW: the one statement that reads every object of the kind
    key: tuple[str, ...] = ("name",)  # columns holding the stored name parts
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> column, where they differ
    converters: Mapping[str, Converter] = field(default_factory=dict)  # field -> Snowflake's own spelling
    outputs: Mapping[str, str] = field(default_factory=dict)  # output -> column of the same rows
    describe: str | None = None  # DESCRIBE <this> per existing object, for fields SHOW lacks
    qualify: tuple[str, ...] = ()  # name fields shown without the object's database and schema
    # SHOW GRANTS ON <this> <name> per existing object: its OWNERSHIP row is the owner SHOW lacks.
    owner_on: str | None = None
    reads_with: tuple[str, ...] = ()  # kinds whose SHOW rows reading this kind needs
    # ROLE_GRANTS: name -> (the role, or key of a reads_with object, that must exist; its SHOW GRANTS)
    grants_of: Callable[[str], tuple[str | tuple[str, ...], str]] | None = None
    observe: Callable[[ReadRequest, list[dict[str, Any]]], Observed | None] | None = None  # ROLE_GRANTS rows
    # Identified by name and argument types (functions): keys, DESCRIBE and ALTER / DROP names carry them.
    signature: bool = False
    # A second SHOW (issued with the first, once per run) whose rows, grouped by their ``rows_key`` columns
    # (the object's name parts), are the value of ``rows_field``: a table's columns from SHOW COLUMNS.
    rows_show: str | None = None
    rows_key: tuple[str, ...] = ()
    rows_field: str | None = None
    # ---- applying -----------------------------------------------------------------------------------
    sql: bool = True  # False: built and pushed with Docker (images.py), never deleted one by one (§10.1)
    create: CreateShape | None = None  # instead of CREATE <TYPE> name KEY = value ...
    update: UpdateShape | None = None  # tried before the generic ALTER
    delete: DeleteShape | None = None  # instead of DROP <TYPE> IF EXISTS name
    drop_suffix: str | None = None  # DROP ... <this>
    alter: AlterRule = AlterRule()
    owned: bool = True  # has an OWNERSHIP of its own that GRANT OWNERSHIP moves (grants have none)
    ownership_type: str | None = None  # GRANT OWNERSHIP ON <this>, where it differs from the SQL type
    after_apply: str | None = None  # SHOW <this> LIKE the object after applying: outputs Snowflake assigned
    public_endpoints: bool = False  # after applying, also the ingress URLs of public endpoints
    suspendable: bool = False  # ALTER <TYPE> name SUSPEND / RESUME (the CLI's suspend and resume)

    @property
    def cls(self) -> type[Resource]:
        return KINDS[self.kind]

    @property
    def show_sql(self) -> str:
        if self.show is None:
            raise ProviderError(f"{self.kind} is not read with SHOW")
        return self.show

    def column(self, name: str) -> str:
        return self.columns.get(name, name)

    @property
    def not_shown(self) -> frozenset[str]:
        """Readable fields Snowflake shows no column for (declared once, ``Prop(shown=False)``): compared with
        the recorded state instead, so a hand change is not detected (docs/kinds.md says so)."""
        return frozenset(d.name for d in self.read_fields() if not d.prop.shown)

    def read_fields(self) -> list[FieldDecl]:
        """The declared fields read back: readable, not part of the identity."""
        return [d for d in kind_props(self.cls) if d.prop.readable and not d.prop.identity]

    def request_key(self, name: str) -> Key:
        """The key a recorded or declared name has among the rows read (:func:`.readback.row_key`)."""
        if self.signature:
            parts, types = function_parts(name)
            return (*parts, *types)
        return tuple(ids.split_qualified(name))

    def describe_sql(self, key: Key) -> str:
        assert self.describe is not None
        return f"DESC {self.describe} {self._key_name(key)}"

    def owner_sql(self, key: Key) -> str:
        assert self.owner_on is not None
        return f"SHOW GRANTS ON {self.owner_on} {self._key_name(key)}"

    def _key_name(self, key: Key) -> str:
        n = len(self.key)
        types = f"({', '.join(key[n:])})" if self.signature else ""
        return f"{ids.qualified(*key[:n])}{types}"

    def sql_name(self, name: str) -> str:
        """How ALTER / DROP / GRANT name an object from its recorded name."""
        return function_ref(name) if self.signature else ident(name)


THREE = ("database_name", "schema_name", "name")
STAMPED = {"spec": v.stamped_spec, "comment": v.stamped_comment}  # the comment carries the spec stamp

ADAPTERS: dict[str, SnowflakeAdapter] = {a.kind: a for a in (
    SnowflakeAdapter("role", show="SHOW ROLES", alter=AlterRule(one_per_statement=True)),
    SnowflakeAdapter("role_grant", read=Read.ROLE_GRANTS, reads_with=("role",), grants_of=gr.grants_of_role,
                     observe=gr.observe_role_grant, owned=False, create=gr.create_role_grant,
                     update=gr.update_role_grant, delete=gr.delete_role_grant),
    SnowflakeAdapter("grant", read=Read.ROLE_GRANTS, reads_with=("role",), grants_of=gr.grants_to_role,
                     observe=gr.observe_grant, owned=False, create=gr.create_grant, update=gr.update_grant,
                     delete=gr.delete_grant),
    SnowflakeAdapter("service_role_grant", read=Read.ROLE_GRANTS, reads_with=("service",),
                     grants_of=gr.grants_of_service_role, observe=gr.observe_service_role_grant, owned=False,
                     create=gr.create_service_role_grant, update=gr.update_role_grant,
                     delete=gr.delete_service_role_grant),
    SnowflakeAdapter("warehouse", show="SHOW WAREHOUSES",
                     columns={"warehouse_type": "type", "warehouse_size": "size"},
                     converters={"warehouse_size": v.warehouse_size}, update=sp.update_warehouse,
                     suspendable=True),
    SnowflakeAdapter("database", show="SHOW DATABASES"),
    SnowflakeAdapter("schema", show="SHOW SCHEMAS IN ACCOUNT", key=("database_name", "name"),
                     create=sp.create_schema),
    # §8: DIRECTORY = (ENABLE = ...) is its own ALTER STAGE form.
    SnowflakeAdapter("stage", show="SHOW STAGES IN ACCOUNT", key=THREE,
                     columns={"encryption": "type", "directory_table": "directory_enabled"},
                     converters={"encryption": v.stage_type, "directory_table": v.to_bool},
                     alter=AlterRule(separate=frozenset({"DIRECTORY"}))),
    # §7: USERNAME and PASSWORD are set together; TF clears the comment with SET COMMENT = NULL.
    SnowflakeAdapter("secret", show="SHOW SECRETS IN ACCOUNT", key=THREE, columns={"type": "secret_type"},
                     alter=AlterRule(pairs=(("USERNAME", "PASSWORD"),), unset_as_null=frozenset({"COMMENT"}))),
    SnowflakeAdapter("network_rule", show="SHOW NETWORK RULES IN ACCOUNT", key=THREE, describe="NETWORK RULE"),
    SnowflakeAdapter("external_access_integration", show="SHOW EXTERNAL ACCESS INTEGRATIONS",
                     describe="EXTERNAL ACCESS INTEGRATION", owner_on="INTEGRATION", ownership_type="INTEGRATION"),
    SnowflakeAdapter("compute_pool", show="SHOW COMPUTE POOLS", update=sp.update_pool, delete=sp.delete_pool,
                     columns={"suspended": "state"}, converters={"suspended": v.is_suspended},
                     create=sp.create_pool, suspendable=True),
    SnowflakeAdapter("image_repository", show="SHOW IMAGE REPOSITORIES IN ACCOUNT", key=THREE,
                     outputs={"repository_url": "repository_url"}, after_apply="IMAGE REPOSITORIES"),
    SnowflakeAdapter("image", read=Read.REGISTRY, reads_with=("image_repository",), sql=False, owned=False),
    SnowflakeAdapter("service", show="SHOW SERVICES EXCLUDE JOBS IN ACCOUNT", key=THREE,
                     columns={"spec": "comment", "suspended": "status"},
                     converters={**STAMPED, "suspended": v.is_suspended}, outputs={"dns_name": "dns_name"},
                     create=sp.create_service, update=sp.update_service, drop_suffix="FORCE",
                     after_apply="SERVICES", public_endpoints=True, suspendable=True),
    SnowflakeAdapter("job_service", show="SHOW JOB SERVICES IN ACCOUNT", key=THREE,
                     columns={"spec": "comment", "outcome": "status"},
                     converters={**STAMPED, "outcome": v.job_outcome}, outputs={"status": "status"},
                     create=sp.create_job, drop_suffix="FORCE"),
    # §13.1: ALTER FUNCTION SET takes one property; SERVICE and ENDPOINT go together and the docs quote
    # both as strings (UNCONFIRMED whether bare names are equivalent; strings are safe for '-').
    SnowflakeAdapter("service_function", show="SHOW USER FUNCTIONS IN ACCOUNT",
                     key=("catalog_name", "schema_name", "name"), describe="FUNCTION", signature=True,
                     columns={"comment": "description", "arguments": "signature", "path": "body",
                              "endpoint": "service_endpoint"},
                     converters={"arguments": v.signature_args, "returns": v.datatype}, qualify=("service",),
                     owner_on="FUNCTION", create=sp.create_function,
                     alter=AlterRule(one_per_statement=True, pairs=(("SERVICE", "ENDPOINT"),),
                                     string_names=frozenset({"SERVICE"}))),
    # Columns come from one SHOW COLUMNS IN ACCOUNT for every table of the run (tables.py).
    SnowflakeAdapter("table", show="SHOW TABLES IN ACCOUNT", key=THREE,
                     columns={"data_retention_time_in_days": "retention_time"},
                     converters={"cluster_by": tb.cluster_columns, "change_tracking": tb.change_tracking,
                                 "columns": tb.columns_of},
                     rows_show="SHOW COLUMNS IN ACCOUNT", rows_key=tb.COLUMN_KEY, rows_field="columns",
                     create=tb.create_table, update=tb.update_table),
)}
