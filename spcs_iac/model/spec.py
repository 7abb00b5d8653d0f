"""The SPCS service specification (reference §14) as pydantic models.

Field names are snake_case in Python and camelCase in YAML (aliases). ``ServiceSpec`` is the flat
Python form; the YAML form nests containers/endpoints/volumes under ``spec:`` with ``capabilities``
and ``serviceRoles`` beside it. Unknown YAML fields are rejected: Snowflake's own behaviour is
unconfirmed (reference §17.7), and a typo should fail here rather than on an account.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from spcs_iac.model.amounts import memory_bytes, vcpus
from spcs_iac.model.base import Resource
from spcs_iac.model.spec_names import NamesObject, SpecModel, given

SPEC_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
SERVICE_ROLE_NAME = re.compile(r"^[A-Za-z]([A-Za-z0-9_]*[A-Za-z0-9])?$")
MEMORY = re.compile(r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)$")
CPU = re.compile(r"^\d+(\.\d+)?m?$")
MAX_CONTAINERS, MAX_ENDPOINTS, MAX_VOLUMES, MAX_SECRETS = 20, 100, 20, 50


def _spec_name(v: str, what: str) -> str:
    if not SPEC_NAME.match(v):
        raise ValueError(
            f"{what} name {v!r} is not allowed: at most 63 lower-case letters, digits or '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return v


class Probe(SpecModel):
    port: int = Field(ge=1, le=65535)
    path: str
    period_seconds: int | None = Field(default=None, ge=1)
    failure_threshold: int | None = Field(default=None, ge=1)

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError(f"probe path must start with '/', got {v!r}")
        return v


class VolumeMount(SpecModel):
    name: str
    mount_path: str

    @field_validator("mount_path")
    @classmethod
    def _absolute(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError(f"mountPath must be an absolute path, got {v!r}")
        return v


class ResourceAmounts(SpecModel):
    memory: str | None = None
    cpu: str | float | int | None = None
    nvidia_gpu: int | None = Field(default=None, alias="nvidia.com/gpu", ge=0)

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | None) -> str | None:
        if v is not None and not MEMORY.match(str(v)):
            raise ValueError(f"memory {v!r} needs a unit; allowed forms like 512Mi, 6Gi, 1G")
        return v

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, v: Any) -> Any:
        if v is not None and not CPU.match(str(v)):
            raise ValueError(f"cpu {v!r} is not a vCPU amount; allowed forms like 1, 0.5, 500m")
        return v


class Resources(SpecModel):
    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None

    @model_validator(mode="after")
    def _gpu_pairs(self) -> Resources:
        req = self.requests.nvidia_gpu if self.requests else None
        lim = self.limits.nvidia_gpu if self.limits else None
        if (req or lim) and req != lim:
            raise ValueError(
                f"nvidia.com/gpu must be requested and limited with the same count (requests={req}, limits={lim})"
            )
        return self

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> Resources:
        # A request is what the container is guaranteed, a limit the most it may use (containers.resources in
        # https://docs.snowflake.com/en/developer-guide/snowpark-container-services/specification-reference):
        # a limit below the request could never be honoured.
        for amount, parse in (("memory", memory_bytes), ("cpu", vcpus)):
            req = getattr(self.requests, amount) if self.requests else None
            lim = getattr(self.limits, amount) if self.limits else None
            if req is not None and lim is not None and parse(lim) < parse(req):
                raise ValueError(f"limits.{amount} {lim} is below requests.{amount} {req}: a container's limit "
                                 "must be at least its request")
        return self

    @property
    def gpus(self) -> int:
        return (self.limits.nvidia_gpu if self.limits else None) or 0


class SnowflakeSecretRef(SpecModel):
    object_name: str | None = None
    object_reference: str | None = None


class ContainerSecret(NamesObject):
    names_field: ClassVar[str] = "snowflake_secret"
    names_kind: ClassVar[str] = "secret"

    snowflake_secret: str | SnowflakeSecretRef
    env_var_name: str | None = None
    secret_key_ref: Literal["username", "password", "secret_string"] | None = None
    directory_path: str | None = None

    @field_validator("snowflake_secret", mode="before")
    @classmethod
    def _secret(cls, v: Any) -> Any:
        # One message for any other value, rather than one per member of the union.
        if isinstance(v, str | dict | SnowflakeSecretRef):
            return v
        raise ValueError(f"snowflakeSecret must be a Secret, a secret name or {{objectName: <name>}}, got {given(v)}")

    @model_validator(mode="after")
    def _one_target(self) -> ContainerSecret:
        if bool(self.env_var_name) == bool(self.directory_path):
            raise ValueError("a container secret needs exactly one of envVarName or directoryPath")
        if self.env_var_name and not self.secret_key_ref:
            raise ValueError("a secret passed as envVarName needs secretKeyRef (username, password or secret_string)")
        return self

    @property
    def secret_name(self) -> str:
        s = self.snowflake_secret
        return s if isinstance(s, str) else (s.object_name or s.object_reference or "")


class SessionTokenConfig(SpecModel):
    path: str | None = None
    permission: str | None = None
    mount_connection_config: bool | None = None


class Container(SpecModel):
    name: str
    # An Image object of the stack, or a reference string: /db/schema/repo/image:tag, or a full
    # registry URL; the stack links path references to declared images.
    image: Any
    command: list[str] | None = None
    args: list[str] | None = None
    env: dict[str, str] | None = None
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    volume_mounts: list[VolumeMount] | None = None
    resources: Resources | None = None
    secrets: list[ContainerSecret] | None = None
    mount_session_token: bool | None = None
    session_token_config: SessionTokenConfig | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _spec_name(v, "container")

    @field_validator("env", mode="before")
    @classmethod
    def _env_strings(cls, v: Any) -> Any:
        # Snowflake stores env values as strings; do the same so round trips compare equal.
        if isinstance(v, dict):
            return {str(k): ("true" if x is True else "false" if x is False else str(x)) for k, x in v.items()}
        return v

    @field_validator("image")
    @classmethod
    def _image(cls, v: Any) -> Any:
        from spcs_iac.model.base import object_or_name

        expected = "an Image object or a reference like /db/schema/repo/img:tag"

        def reference(text: str) -> str:
            if not text.strip() or any(c.isspace() for c in text):
                raise ValueError(f"image must be {expected}, got {text!r}")
            return text

        return object_or_name(v, "image", "image", expected, reference)

    @model_validator(mode="after")
    def _token(self) -> Container:
        if self.mount_session_token is False and self.session_token_config is not None:
            raise ValueError("sessionTokenConfig is not allowed when mountSessionToken is false")
        return self

    def image_ref(self) -> str:
        img = self.image
        return img if isinstance(img, str) else img.spec_reference()


class Endpoint(SpecModel):
    name: str
    port: int | None = Field(default=None, ge=1, le=65535)
    port_range: str | None = None
    public: bool | None = None
    protocol: Literal["HTTP", "HTTPS", "TCP"] | None = None
    cors_settings: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _spec_name(v, "endpoint")

    @field_validator("protocol", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _ports(self) -> Endpoint:
        if (self.port is None) == (self.port_range is None):
            raise ValueError(f"endpoint {self.name}: give exactly one of port or portRange")
        if self.port_range is not None:
            m = re.match(r"^(\d+)-(\d+)$", self.port_range)
            if not m or not 1 <= int(m.group(1)) <= int(m.group(2)) <= 65535:
                raise ValueError(f"endpoint {self.name}: portRange {self.port_range!r} must look like 8000-8010")
            if self.protocol != "TCP" or self.public:
                raise ValueError(f"endpoint {self.name}: portRange needs protocol: TCP and public: false")
        if self.public and self.protocol == "TCP":
            raise ValueError(f"endpoint {self.name}: public endpoints must use HTTP, not TCP")
        return self

    @property
    def is_http(self) -> bool:
        return (self.protocol or "HTTP") in ("HTTP", "HTTPS")


def _text(v: Any, field: str, allowed: str) -> Any:
    """A field that names a declared object is text once the object is resolved (NamesObject): anything
    else left here is refused, saying what the field takes."""
    if isinstance(v, str):
        return v
    raise ValueError(f"{field} must be {allowed}, got {given(v)}")


class StageConfig(NamesObject):
    names_field: ClassVar[str] = "name"
    names_kind: ClassVar[str] = "stage"
    names_prefix: ClassVar[str] = "@"

    name: str
    metadata_cache: str | None = None
    resources: Resources | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _stage(cls, v: Any) -> Any:
        return _text(v, "stageConfig.name", "a Stage or \"@<stage>[/path]\"")


class Volume(NamesObject):
    names_field: ClassVar[str] = "source"
    names_kind: ClassVar[str] = "stage"
    names_prefix: ClassVar[str] = "@"  # Stage Mount V1's source: "@stage"; V2 names it in stageConfig.name

    name: str
    source: str
    size: str | None = None
    uid: int | None = None
    gid: int | None = None
    block_config: dict[str, Any] | None = None
    stage_config: StageConfig | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _spec_name(v, "volume")

    @classmethod
    def _naming(cls, data: dict[str, Any], key: str, obj: Resource) -> dict[str, Any]:
        # A declared Stage as the source mounts it the current way (source: stage, stageConfig.name); the
        # "@stage" source is the deprecated stage mount (reference §14.4).
        if data.get("stage_config") or data.get("stageConfig"):
            return super()._naming(data, key, obj)
        return {**data, key: "stage", "stage_config": {"name": obj}}

    @field_validator("source", mode="before")
    @classmethod
    def _source_form(cls, v: Any) -> Any:
        return _text(v, "source", "a Stage, local, memory, block, stage or \"@<stage>\"")

    @model_validator(mode="after")
    def _source(self) -> Volume:
        src = self.source
        if src not in ("local", "memory", "block", "stage") and not src.startswith("@"):
            raise ValueError(
                f"volume {self.name}: source {src!r} is not allowed; allowed: local, memory, block, stage, \"@<stage>\""
            )
        if src in ("memory", "block") and not self.size:
            raise ValueError(f"volume {self.name}: source {src} needs size")
        if src == "block" and self.size and not re.match(r"^\d+Gi$", self.size):
            raise ValueError(f"volume {self.name}: block size must be an integer with Gi, got {self.size!r}")
        if src == "stage" and not self.stage_config:
            raise ValueError(f"volume {self.name}: source stage needs stageConfig.name")
        return self

    @property
    def stage_location(self) -> str | None:
        """``@stage/dir`` for stage-backed volumes, else None."""
        if self.source.startswith("@"):
            return self.source
        if self.source == "stage" and self.stage_config:
            return self.stage_config.name
        return None

    @property
    def declared(self) -> Resource | None:
        return self._declared or (self.stage_config.declared if self.stage_config else None)


class EventTableConfig(SpecModel):
    log_level: Literal["INFO", "ERROR", "NONE"] | None = None


class LogExporters(SpecModel):
    event_table_config: EventTableConfig | None = None


class MetricConfig(SpecModel):
    groups: list[Literal["system", "system_limits", "status", "network", "storage"]]


class PlatformMonitor(SpecModel):
    metric_config: MetricConfig | None = None


class SecurityContext(SpecModel):
    execute_as_caller: bool | None = None
    enable_custom_credentials: bool | None = None


class Capabilities(SpecModel):
    security_context: SecurityContext | None = None


class ServiceRole(SpecModel):
    name: str
    endpoints: list[str]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not SERVICE_ROLE_NAME.match(v):
            raise ValueError(f"service role name {v!r}: letters, digits and _, starting with a letter")
        return v


_NESTED = ("containers", "endpoints", "volumes", "logExporters", "platformMonitor", "resourceManagement")


class ServiceSpec(SpecModel):
    containers: list[Container]
    endpoints: list[Endpoint] | None = None
    volumes: list[Volume] | None = None
    log_exporters: LogExporters | None = None
    platform_monitor: PlatformMonitor | None = None
    resource_management: dict[str, Any] | None = None
    capabilities: Capabilities | None = None
    service_roles: list[ServiceRole] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and "spec" in data:
            inner = data["spec"]
            if not isinstance(inner, dict):
                raise ValueError("spec: must be a mapping")
            out = dict(inner)
            for key, value in data.items():
                if key != "spec":
                    out[key] = value
            return out
        return data

    @model_validator(mode="after")
    def _rules(self) -> ServiceSpec:
        if not self.containers:
            raise ValueError("a spec needs at least one container")
        for label, items, limit in (
            ("containers", self.containers, MAX_CONTAINERS),
            ("endpoints", self.endpoints or [], MAX_ENDPOINTS),
            ("volumes", self.volumes or [], MAX_VOLUMES),
        ):
            if len(items) > limit:
                raise ValueError(f"{len(items)} {label}: at most {limit} allowed per service")
            names = [i.name for i in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{label} names must be unique; repeated: {', '.join(dupes)}")
        volumes = {v.name for v in self.volumes or []}
        for c in self.containers:
            for m in c.volume_mounts or []:
                if m.name not in volumes:
                    raise ValueError(
                        f"container {c.name}: volumeMount {m.name!r} names no declared volume; "
                        f"declared: {', '.join(sorted(volumes)) or '(none)'}"
                    )
        secrets = sum(len(c.secrets or []) for c in self.containers)
        if secrets > MAX_SECRETS:
            raise ValueError(f"{secrets} secrets: at most {MAX_SECRETS} allowed per service")
        endpoints = {e.name for e in self.endpoints or []}
        for role in self.service_roles or []:
            missing = [e for e in role.endpoints if e not in endpoints]
            if missing:
                raise ValueError(f"service role {role.name}: unknown endpoints {missing}; declared: {sorted(endpoints)}")
        return self

    # ---- YAML -------------------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, text: str, source: str = "spec YAML") -> ServiceSpec:
        from spcs_iac.model import yamlsafe

        data = yamlsafe.load(text, source)  # refuses alias bombs, recursive anchors, duplicate keys, tags
        if not isinstance(data, dict):
            raise ValueError("spec YAML must be a mapping with a top-level 'spec:' key")
        if "spec" not in data:
            raise ValueError("spec YAML must have a top-level 'spec:' key")
        return cls.model_validate(data)

    @classmethod
    def from_file(cls, path: str) -> ServiceSpec:
        with open(path, encoding="utf-8") as fh:
            return cls.from_yaml(fh.read(), source=path)

    def to_document(self, resolve_image: Any = None) -> dict[str, Any]:
        """The YAML-shaped dict; ``resolve_image(container) -> str`` renders image references."""
        flat = self.model_dump(by_alias=True, exclude_none=True, mode="python")
        for i, c in enumerate(self.containers):
            flat["containers"][i]["image"] = resolve_image(c) if resolve_image else c.image_ref()
        flat = _jsonable(flat)
        doc: dict[str, Any] = {"spec": {k: flat[k] for k in _NESTED if k in flat}}
        if "capabilities" in flat:
            doc["capabilities"] = flat["capabilities"]
        if "serviceRoles" in flat:
            doc["serviceRoles"] = flat["serviceRoles"]
        return doc

    def to_yaml(self, resolve_image: Any = None) -> str:
        return yaml.safe_dump(self.to_document(resolve_image), sort_keys=False, default_flow_style=False)

    def images(self) -> list[Any]:
        return [c.image for c in self.containers]

    def endpoint(self, name: str) -> Endpoint | None:
        return next((e for e in self.endpoints or [] if e.name == name), None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    return value
