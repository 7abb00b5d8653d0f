"""Supporting kinds: stages, secrets, network rules, external access integrations."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import field_validator, model_validator

from spcs_iac.model.base import Resource, SchemaScoped
from spcs_iac.model.fields import Fmt, Prop, Update
from spcs_iac.model.kinds.account import Comment, parse_bool

Encryption = Literal["SNOWFLAKE_FULL", "SNOWFLAKE_SSE"]


def _encryption(v: Any) -> Any:
    # The seed passes StageEncryption(type="SNOWFLAKE_SSE"); accept that shape as a dict or object too.
    if isinstance(v, dict):
        v = v.get("type")
    elif v is not None and not isinstance(v, str) and hasattr(v, "type"):
        v = v.type
    return v.upper() if isinstance(v, str) else v


class Stage(SchemaScoped):
    """An internal stage (reference §8): spec files and stage-backed volumes live here."""

    kind: ClassVar[str] = "stage"
    sql_type: ClassVar[str] = "STAGE"

    encryption: Annotated[
        Encryption | None, Prop(sql="ENCRYPTION", fmt=Fmt.SPECIAL, update=Update.REPLACE, default="SNOWFLAKE_FULL",
                                doc="cannot change without losing the stage's files")
    ] = None
    directory_table: Annotated[
        bool | None, Prop(sql="DIRECTORY", fmt=Fmt.SPECIAL, default=False, doc="DIRECTORY = (ENABLE = ...)")
    ] = None
    comment: Comment = None

    @field_validator("encryption", mode="before")
    @classmethod
    def _enc(cls, v: Any) -> Any:
        return _encryption(v)

    @field_validator("directory_table", mode="before")
    @classmethod
    def _dir(cls, v: Any) -> Any:
        if isinstance(v, dict):
            v = v.get("enable")
        elif v is not None and not isinstance(v, bool | str) and hasattr(v, "enable"):
            v = v.enable
        return parse_bool(v)


class Secret(SchemaScoped):
    """A secret (reference §7). Values are sensitive: never shown, logged or stored in plain text."""

    kind: ClassVar[str] = "secret"
    sql_type: ClassVar[str] = "SECRET"

    type: Annotated[Literal["GENERIC_STRING", "PASSWORD"], Prop(sql="TYPE", update=Update.REPLACE)]
    username: Annotated[str | None, Prop(sql="USERNAME", fmt=Fmt.STRING, readable=False, sensitive=True)] = None
    password: Annotated[str | None, Prop(sql="PASSWORD", fmt=Fmt.STRING, readable=False, sensitive=True)] = None
    secret_string: Annotated[
        str | None, Prop(sql="SECRET_STRING", fmt=Fmt.STRING, readable=False, sensitive=True)
    ] = None
    comment: Comment = None

    @field_validator("type", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _values(self) -> Secret:
        if self.type == "GENERIC_STRING":
            if self.secret_string is None or self.username or self.password:
                raise ValueError("type GENERIC_STRING takes secret_string (and not username/password)")
        elif self.password is None or self.username is None or self.secret_string is not None:
            raise ValueError("type PASSWORD takes username and password (and not secret_string)")
        return self


NETWORK_RULE_MODES = {
    "HOST_PORT": {"EGRESS"},
    "PRIVATE_HOST_PORT": {"EGRESS"},
    "IPV4": {"INGRESS", "INTERNAL_STAGE", "EGRESS"},
    "IPV6": {"INGRESS"},
    "AWSVPCEID": {"INGRESS", "INTERNAL_STAGE", "SNOWFLAKE_MANAGED_STORAGE_VOLUME"},
    "AZURELINKID": {"INGRESS", "INTERNAL_STAGE"},
    "GCPPSCID": {"INGRESS"},
    "COMPUTE_POOL": {"INGRESS"},
}
HOST_PORT_VALUE = re.compile(r"^[A-Za-z0-9.*-]+(:\d+(-\d+)?)?$")


class NetworkRule(SchemaScoped):
    """A network rule (reference §5); EGRESS HOST_PORT rules open outbound traffic through an EAI."""

    kind: ClassVar[str] = "network_rule"
    sql_type: ClassVar[str] = "NETWORK RULE"

    type: Annotated[
        Literal["IPV4", "IPV6", "AWSVPCEID", "AZURELINKID", "GCPPSCID", "HOST_PORT", "PRIVATE_HOST_PORT",
                "COMPUTE_POOL"],
        Prop(sql="TYPE", update=Update.REPLACE),
    ]
    value_list: Annotated[list[str], Prop(sql="VALUE_LIST", fmt=Fmt.STRING_LIST, unordered=True)]
    mode: Annotated[
        Literal["INGRESS", "INTERNAL_STAGE", "SNOWFLAKE_MANAGED_STORAGE_VOLUME", "EGRESS"],
        Prop(sql="MODE", update=Update.REPLACE, default="INGRESS"),
    ] = "INGRESS"
    comment: Comment = None

    @field_validator("type", "mode", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _pairing(self) -> NetworkRule:
        allowed = NETWORK_RULE_MODES[self.type]
        if self.mode not in allowed:
            raise ValueError(f"type {self.type} cannot be used with mode {self.mode}; allowed: {', '.join(sorted(allowed))}")
        if not self.value_list:
            raise ValueError("value_list must have at least one value")
        if self.type == "HOST_PORT":
            bad = [v for v in self.value_list if not HOST_PORT_VALUE.match(v)]
            if bad:
                raise ValueError(f"value_list {bad} are not host[:port] values, e.g. 'example.com:443', '0.0.0.0:80'")
            for v in self.value_list:
                if "*" in v:
                    # Reference §5/§17.5: the SPCS egress page says wildcards do not work for services.
                    raise ValueError(f"value_list entry {v!r}: wildcards are not supported for SPCS egress")
        return self


class ExternalAccessIntegration(Resource):
    """An external access integration (reference §6): the egress a service may use."""

    kind: ClassVar[str] = "external_access_integration"
    sql_type: ClassVar[str] = "EXTERNAL ACCESS INTEGRATION"

    allowed_network_rules: Annotated[
        list[Any], Prop(sql="ALLOWED_NETWORK_RULES", fmt=Fmt.IDENT_LIST, ref="network_rule", unordered=True)
    ]
    allowed_authentication_secrets: Annotated[
        list[Any] | None,
        Prop(sql="ALLOWED_AUTHENTICATION_SECRETS", fmt=Fmt.IDENT_LIST, ref="secret", unordered=True, default=[]),
    ] = None
    enabled: Annotated[bool, Prop(sql="ENABLED", fmt=Fmt.BOOL, default=True)] = True
    comment: Comment = None

    @field_validator("enabled", mode="before")
    @classmethod
    def _bool(cls, v: Any) -> Any:
        return parse_bool(v)

    @field_validator("allowed_network_rules")
    @classmethod
    def _rules(cls, v: list[Any]) -> list[Any]:
        if not v:
            raise ValueError("allowed_network_rules needs at least one network rule")
        for r in v:
            if isinstance(r, Resource) and r.kind != "network_rule":
                raise ValueError(f"allowed_network_rules takes NetworkRule objects or names, got {type(r).__name__}")
            if isinstance(r, NetworkRule) and r.mode != "EGRESS":
                raise ValueError(f"network rule {r.fqn} has mode {r.mode}; an integration needs EGRESS rules")
        return v
