"""Services, job services and service functions (reference §11-§13)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource, SchemaScoped, fingerprint, object_or_name
from spcs_iac.model.fields import Fmt, Prop, Unset, Update
from spcs_iac.model.kinds.account import Comment, parse_bool
from spcs_iac.model.spec import Container, NamesObject, ServiceSpec

FORBIDDEN_SERVICE_OWNERS = ("ACCOUNTADMIN", "SECURITYADMIN", "ORGADMIN")  # reference §3.1, §17.1
SPEC_FILE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\.ya?ml$")


def _spec(v: Any) -> Any:
    if isinstance(v, ServiceSpec):
        return v
    if isinstance(v, str):
        return ServiceSpec.from_yaml(v)
    if isinstance(v, dict):
        return ServiceSpec.model_validate(v)
    raise ValueError(f"spec must be a ServiceSpec, a dict of the spec YAML's shape, or YAML text; got {type(v).__name__}")


def image_for_spec(container: Container, outputs: Outputs | None) -> str:
    """The image a spec should run: the reference, pinned by digest when the digest is known."""
    image = container.image
    if isinstance(image, str):
        return image
    ref = image.spec_reference()
    digest = (outputs or {}).get(image.address, {}).get("digest")
    return f"{ref}@{digest}" if digest else ref


class _ContainerService(SchemaScoped):
    """What services and job services share: pool, spec, egress, warehouse."""

    allow_quoted_name: ClassVar[bool] = False
    owner_change: ClassVar[Update] = Update.REPLACE  # service ownership cannot be transferred (§3.1)

    compute_pool: Annotated[
        Any, Prop(sql="IN COMPUTE POOL", fmt=Fmt.IDENT, ref="compute_pool", update=Update.REPLACE, follow_replace=True)
    ]
    spec: Annotated[
        Any, Prop(sql="FROM SPECIFICATION", fmt=Fmt.SPECIAL, from_outputs=True,
                  doc="changed with ALTER SERVICE ... FROM SPECIFICATION")
    ]
    external_access_integrations: Annotated[
        list[Any] | None,
        Prop(sql="EXTERNAL_ACCESS_INTEGRATIONS", fmt=Fmt.IDENT_LIST, ref="external_access_integration",
             unordered=True, default=[]),
    ] = None
    query_warehouse: Annotated[Any, Prop(sql="QUERY_WAREHOUSE", fmt=Fmt.IDENT, ref="warehouse")] = None
    comment: Comment = None
    # Inline $$spec$$ by default; with spec_stage the spec is uploaded to that stage first and the
    # service is created FROM @stage SPECIFICATION_FILE (as the quickstart does with @specs).
    spec_stage: Annotated[
        Any, Prop(fmt=Fmt.IDENT, ref="stage", readable=False, unset=Unset.IGNORE,
                  doc="upload the spec to this stage and create the service from the file")
    ] = None
    spec_file: Annotated[
        str | None, Prop(fmt=Fmt.STRING, readable=False, unset=Unset.IGNORE, doc="the spec's file name on spec_stage")
    ] = None

    @field_validator("spec_file")
    @classmethod
    def _spec_file(cls, v: str | None) -> str | None:
        if v is not None and not SPEC_FILE.match(v):
            raise ValueError(f"spec_file {v!r}: a relative path of letters, digits, '.', '_', '-' ending in .yaml or .yml")
        return v

    @model_validator(mode="after")
    def _spec_location(self) -> _ContainerService:
        if self.spec_file and self.spec_stage is None:
            raise ValueError("spec_file needs spec_stage= (the stage the spec is uploaded to)")
        if self.spec_stage is not None and not self.spec_file:
            self.spec_file = f"{self.name.lower()}.yaml"
        return self

    @field_validator("spec", mode="before")
    @classmethod
    def _spec(cls, v: Any) -> Any:
        return _spec(v)

    @field_validator("name")
    @classmethod
    def _dns(cls, v: str) -> str:
        v = ids.normalize(v, allow_quoted=False, what=f"{cls.__name__} name")
        if "$" in v or len(v) > 63:
            raise ValueError(f"{cls.__name__} name {v!r} must be a DNS label: no '$', at most 63 characters")
        return v

    @field_validator("external_access_integrations")
    @classmethod
    def _eais(cls, v: list[Any] | None) -> list[Any] | None:
        if v is not None and len(v) > 10:
            raise ValueError(f"{len(v)} external access integrations: at most 10 allowed per service")
        return v

    @field_validator("owner")
    @classmethod
    def _owner(cls, v: Any) -> Any:
        name = v.name if isinstance(v, Resource) else v
        if name in FORBIDDEN_SERVICE_OWNERS:
            raise ValueError(
                f"owner {name} cannot own a service (Snowflake forbids {', '.join(FORBIDDEN_SERVICE_OWNERS)}); "
                "use a dedicated role"
            )
        return v

    @property
    def typed_spec(self) -> ServiceSpec:
        return self.spec

    def spec_document(self, outputs: Outputs | None = None) -> dict[str, Any]:
        return self.typed_spec.to_document(lambda c: image_for_spec(c, outputs))

    def spec_fingerprint(self, outputs: Outputs | None = None) -> str:
        """Hash of the normalised spec plus resolved image digests: stamped on the object, compared by plans."""
        return fingerprint(self.spec_document(outputs))

    def desired(self, outputs: Outputs | None = None) -> dict[str, Any]:
        values = super().desired(outputs)
        values["spec"] = self.spec_fingerprint(outputs)
        return values

    def recorded(self, outputs: Outputs | None = None) -> dict[str, Any]:
        return {"spec_document": self.spec_document(outputs)}

    def outputs_needed(self) -> list[str]:
        return [c.image.address for c in self.typed_spec.containers if isinstance(c.image, Resource)]

    def extra_references(self) -> Iterator[tuple[str, str, Resource | str]]:
        yield from super().extra_references()
        for kind, part, name in self.spec_references():
            yield "spec", kind, (part.declared or name) if isinstance(part, NamesObject) else part.image

    def spec_references(self) -> Iterator[tuple[str, Container | NamesObject, str]]:
        """(kind, the part of the spec naming it, the name qualified) of each image, secret and stage the
        spec names; a declared object given is the part's ``declared`` (an image: the container's image)."""
        spec = self.typed_spec
        for c in spec.containers:
            yield "image", c, c.image_ref()
            for s in c.secrets or []:
                yield "secret", s, self.qualify(s.secret_name)
        for vol in spec.volumes or []:
            loc = vol.stage_location
            if loc:
                yield "stage", vol, self.qualify(loc.lstrip("@").split("/", 1)[0])

    def link_spec(self, kind: str, name: str, obj: Resource) -> None:
        """Link the secrets and stages the spec names ``name`` to the declared ``obj`` (Stack.resources)."""
        for k, part, n in self.spec_references():
            if k == kind and n == name and isinstance(part, NamesObject):
                part.link(obj)


class Service(_ContainerService):
    """A long-running service (reference §11)."""

    kind: ClassVar[str] = "service"
    sql_type: ClassVar[str] = "SERVICE"

    min_instances: Annotated[int | None, Prop(sql="MIN_INSTANCES", fmt=Fmt.INT, default=1)] = None
    max_instances: Annotated[int | None, Prop(sql="MAX_INSTANCES", fmt=Fmt.INT)] = None
    min_ready_instances: Annotated[int | None, Prop(sql="MIN_READY_INSTANCES", fmt=Fmt.INT)] = None
    auto_resume: Annotated[bool | None, Prop(sql="AUTO_RESUME", fmt=Fmt.BOOL, default=True)] = None
    auto_suspend_secs: Annotated[int | None, Prop(sql="AUTO_SUSPEND_SECS", fmt=Fmt.INT, default=0)] = None
    # A declared service runs: found suspended (by hand, or by its pool's suspension) it is resumed,
    # unless it suspends itself when idle (auto_suspend_secs) or is declared suspended.
    suspended: Annotated[bool | None, Prop(fmt=Fmt.SPECIAL, default=False,
                                           doc="False: kept running (resumed when found suspended); "
                                               "True: kept suspended")] = None

    @field_validator("auto_resume", mode="before")
    @classmethod
    def _bool(cls, v: Any) -> Any:
        return parse_bool(v)

    @model_validator(mode="after")
    def _instances(self) -> Service:
        lo = self.min_instances or 1
        hi = self.max_instances or lo
        ready = self.min_ready_instances or lo
        if not (1 <= lo <= hi):
            raise ValueError(f"need 1 <= min_instances ({lo}) <= max_instances ({hi})")
        if not 1 <= ready <= lo:
            raise ValueError(f"need 1 <= min_ready_instances ({ready}) <= min_instances ({lo})")
        if self.auto_suspend_secs and self.auto_suspend_secs < 300:
            raise ValueError(f"auto_suspend_secs must be 0 (never) or >= 300, got {self.auto_suspend_secs}")
        if self.auto_suspend_secs and any(e.public for e in self.typed_spec.endpoints or []):
            raise ValueError("auto_suspend_secs is not supported for services with public endpoints")
        return self

    def desired(self, outputs: Outputs | None = None) -> dict[str, Any]:
        values = super().desired(outputs)
        lo = values["min_instances"]
        values["max_instances"] = values["max_instances"] or lo
        values["min_ready_instances"] = values["min_ready_instances"] or lo
        if self.suspended is None and self.auto_suspend_secs:
            values["suspended"] = None  # it suspends itself when idle: either state is fine
        return values


class JobService(_ContainerService):
    """A job service (reference §12): run to completion. Any change re-runs it (replace)."""

    kind: ClassVar[str] = "job_service"
    sql_type: ClassVar[str] = "SERVICE"

    spec: Annotated[Any, Prop(sql="FROM SPECIFICATION", fmt=Fmt.SPECIAL, update=Update.REPLACE, from_outputs=True)]
    compute_pool: Annotated[
        Any, Prop(sql="IN COMPUTE POOL", fmt=Fmt.IDENT, ref="compute_pool", update=Update.REPLACE, follow_replace=True)
    ]
    external_access_integrations: Annotated[
        list[Any] | None,
        Prop(sql="EXTERNAL_ACCESS_INTEGRATIONS", fmt=Fmt.IDENT_LIST, ref="external_access_integration",
             unordered=True, default=[], update=Update.REPLACE),
    ] = None
    query_warehouse: Annotated[
        Any, Prop(sql="QUERY_WAREHOUSE", fmt=Fmt.IDENT, ref="warehouse", update=Update.REPLACE)
    ] = None
    # SHOW (JOB) SERVICES has no replicas column: compared with what was applied.
    replicas: Annotated[int, Prop(sql="REPLICAS", fmt=Fmt.INT, update=Update.REPLACE, default=1, shown=False)] = 1
    run_async: Annotated[
        bool, Prop(sql="ASYNC", fmt=Fmt.BOOL, update=Update.CREATE_ONLY, readable=False, unset=Unset.IGNORE)
    ] = False
    # A job that ended FAILED or CANCELLED is run again by the next apply.
    outcome: Annotated[str, Prop(update=Update.REPLACE, default="DONE", doc="DONE; FAILED/CANCELLED re-run")] = "DONE"
    comment: Annotated[str | None, Prop(sql="COMMENT", fmt=Fmt.STRING, update=Update.REPLACE)] = None
    # A job cannot be altered: where its spec is read from changes by running it again, like the rest.
    spec_stage: Annotated[
        Any, Prop(fmt=Fmt.IDENT, ref="stage", readable=False, unset=Unset.IGNORE, update=Update.REPLACE,
                  doc="upload the spec to this stage and run the job from the file")
    ] = None
    spec_file: Annotated[
        str | None, Prop(fmt=Fmt.STRING, readable=False, unset=Unset.IGNORE, update=Update.REPLACE,
                         doc="the spec's file name on spec_stage")
    ] = None

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"replicas must be >= 1, got {v}")
        return v


class FunctionArgument(BaseModel):
    """An argument of a service function, e.g. ``FunctionArgument(name="input", datatype="REAL")``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    datatype: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return ids.normalize(v, allow_quoted=False, what="argument name")

    @field_validator("datatype")
    @classmethod
    def _type(cls, v: str) -> str:
        v = " ".join(v.upper().split())
        if not DATATYPE.match(v):
            raise ValueError(f"datatype {v!r} is not a SQL type like REAL, VARCHAR, NUMBER(10,2), ARRAY")
        return v


DATATYPE = re.compile(r"^[A-Z_][A-Z0-9_ ]*(\(\s*\d+(\s*,\s*\d+)?\s*\))?$")
# Types Snowflake reports under another name (SHOW/DESC FUNCTION); compared in canonical form.
TYPE_SYNONYMS = {
    "REAL": "FLOAT", "DOUBLE": "FLOAT", "DOUBLE PRECISION": "FLOAT", "FLOAT4": "FLOAT", "FLOAT8": "FLOAT",
    "INT": "NUMBER", "INTEGER": "NUMBER", "BIGINT": "NUMBER", "SMALLINT": "NUMBER", "TINYINT": "NUMBER",
    "BYTEINT": "NUMBER", "DECIMAL": "NUMBER", "NUMERIC": "NUMBER", "STRING": "VARCHAR", "TEXT": "VARCHAR",
    "CHAR": "VARCHAR", "CHARACTER": "VARCHAR", "DATETIME": "TIMESTAMP_NTZ",
}


def canonical_type(datatype: str) -> str:
    base = re.sub(r"\(.*\)$", "", datatype).strip()
    return TYPE_SYNONYMS.get(base, base)


class ServiceFunction(SchemaScoped):
    """A service function (reference §13): SQL calls an HTTP endpoint of a service in batches."""

    kind: ClassVar[str] = "service_function"
    sql_type: ClassVar[str] = "FUNCTION"

    arguments: Annotated[list[FunctionArgument], Prop(fmt=Fmt.SPECIAL, update=Update.REPLACE)] = []
    returns: Annotated[str, Prop(sql="RETURNS", fmt=Fmt.SPECIAL, update=Update.REPLACE)]
    service: Annotated[Any, Prop(sql="SERVICE", fmt=Fmt.IDENT, ref="service")]
    endpoint: Annotated[str, Prop(sql="ENDPOINT", fmt=Fmt.STRING)]
    path: Annotated[str, Prop(sql="AS", fmt=Fmt.STRING, update=Update.REPLACE)]
    max_batch_rows: Annotated[int | None, Prop(sql="MAX_BATCH_ROWS", fmt=Fmt.INT)] = None
    comment: Annotated[str | None, Prop(sql="COMMENT", fmt=Fmt.STRING, default="user-defined function")] = None

    @field_validator("returns")
    @classmethod
    def _returns(cls, v: str) -> str:
        return FunctionArgument._type(v)

    @field_validator("endpoint", mode="before")
    @classmethod
    def _endpoint(cls, v: Any) -> Any:
        # The seed passes endpoint="'convert-api'" (already quoted); accept and strip the quotes.
        if isinstance(v, str) and len(v) > 1 and v[0] == v[-1] == "'":
            v = v[1:-1]
        return v

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or any(c.isspace() for c in v):
            raise ValueError(f"path {v!r} must be an HTTP path starting with '/', without spaces")
        return v

    @field_validator("max_batch_rows")
    @classmethod
    def _batch(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(f"max_batch_rows must be >= 1, got {v}")
        return v

    @property
    def signature(self) -> str:
        return ", ".join(canonical_type(a.datatype) for a in self.arguments)

    def compute_fqn(self) -> str:
        return f"{ids.qualified(*self.name_parts())}({self.signature})"

    def grant_name(self) -> str:
        return self.fqn

    def desired(self, outputs: Outputs | None = None) -> dict[str, Any]:
        values = super().desired(outputs)
        values["arguments"] = [[a.name, canonical_type(a.datatype)] for a in self.arguments]
        values["returns"] = canonical_type(self.returns)
        if isinstance(self.service, str):
            values["service"] = self.qualify(self.service)
        return values


class ServiceRoleGrant(Resource):
    """``GRANT SERVICE ROLE <service>!<service role> TO ROLE <to_role>`` (reference §3.3).

    A service role is declared in the service's spec (``serviceRoles``) or is the predefined
    ALL_ENDPOINTS_USAGE; granting it lets ``to_role`` reach the endpoints it names. Only the service's
    owner may grant it, so the statement runs as that role (``owner`` defaults to the service's owner).
    """

    kind: ClassVar[str] = "service_role_grant"
    sql_type: ClassVar[str] = "SERVICE ROLE"

    name: str = ""
    service: Annotated[Any, Prop(fmt=Fmt.IDENT, ref="service", identity=True, follow_replace=True)]
    service_role: Annotated[str, Prop(identity=True, doc="a serviceRoles name of the spec, or ALL_ENDPOINTS_USAGE")]
    to_role: Annotated[Any, Prop(fmt=Fmt.IDENT, ref="role", identity=True, follow_replace=True)]

    @field_validator("name")
    @classmethod
    def _normalise_name(cls, v: str) -> str:
        return v

    @field_validator("service", mode="before")
    @classmethod
    def _service(cls, v: Any) -> Any:
        def name(text: str) -> str:
            parts = ids.split_qualified(text)
            if len(parts) != 3:
                raise ValueError(f"service must be a Service or a name DB.SCHEMA.SERVICE, got {text!r}")
            return ids.qualified(*parts)

        return object_or_name(v, "service", "service", "a Service or a name DB.SCHEMA.SERVICE", name)

    @field_validator("service_role")
    @classmethod
    def _role_name(cls, v: str) -> str:
        return ids.normalize(v, allow_quoted=False, what="service role name")

    @field_validator("to_role", mode="before")
    @classmethod
    def _to_role(cls, v: Any) -> Any:
        return object_or_name(v, "role", "to_role", "a Role or a role name", lambda n: ids.normalize(n, what="to_role"))

    @model_validator(mode="after")
    def _identity(self) -> ServiceRoleGrant:
        if self.owner is None and isinstance(self.service, Resource):
            self.owner = self.service.owner  # only the service's owner can grant its roles
        self.name = self.fqn
        return self

    @property
    def service_name(self) -> str:
        return self.service.fqn if isinstance(self.service, Resource) else self.service

    @property
    def grantee(self) -> str:
        return self.to_role.name if isinstance(self.to_role, Resource) else self.to_role

    @property
    def service_role_ref(self) -> str:
        """``DB.S.SVC!ROLE`` as GRANT / REVOKE / SHOW GRANTS OF SERVICE ROLE name it."""
        return f"{self.service_name}!{ids.quote(self.service_role)}"

    def name_parts(self) -> tuple[str, ...]:
        return (self.name,)

    def compute_fqn(self) -> str:
        return f"{self.service_role_ref}->{ids.quote(self.grantee)}"
