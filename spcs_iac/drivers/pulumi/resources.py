"""Native Pulumi resources: one class per kind, generated from the kind declarations.

    import pulumi
    import spcs_iac.pulumi as spcs

    db = spcs.Database("db", name="APP_DB")
    pool = spcs.ComputePool("pool", name="APP_POOL", instance_family="CPU_X64_XS")
    key = spcs.Secret("key", name="API_KEY", database=db, type="GENERIC_STRING", secret_string=some_output)
    svc = spcs.Service("api", name="API", database=db, compute_pool=pool, spec={
        "containers": [{"name": "api", "image": image, "secrets": [
            {"snowflakeSecret": key, "secretKeyRef": "secret_string", "envVarName": "API_KEY"}]}],
        "endpoints": [{"name": "http", "port": 8080, "public": True}]})
    pulumi.export("url", svc.endpoints)

Arguments are the kind's fields (``spcs-iac docs`` lists them) and accept ``pulumi.Input``: plain values,
Outputs of any Pulumi resource, and other spcs-iac resources, which become the names they denote (an
image in a spec: its digest-pinned path, so a rebuilt image updates the services running it) and the
dependencies. Sensitive fields are always Pulumi secrets. A service also carries, as secrets, the values
of the spcs-iac Secrets its containers use: the local target needs them to start the containers, and
the provider has nothing but the resource's inputs.
"""

from __future__ import annotations

import inspect
import sys
from enum import Enum
from typing import Any

import pulumi
from pydantic import BaseModel

from spcs_iac import __version__
from spcs_iac.drivers.pulumi.bridge import IDENTITY, SECRETS, TARGET_OUTPUTS
from spcs_iac.model.base import Resource
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS

PACKAGE = "spcs-iac"
VERSION = __version__  # the provider plugin's version: the package's
CONTAINER_FIELDS = ("database", "schema")  # refer to their object by its own name, not a qualified one
SECRET_KEYS = ("snowflakeSecret", "snowflake_secret", "objectName", "object_name")  # where a spec names a secret


class Provider(pulumi.ProviderResource):
    """An explicit spcs-iac provider (each runs in a process of its own). Without one, resources use the
    default provider, configured with ``pulumi config set spcs-iac:target local`` and so on."""

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, *,
                 target: pulumi.Input[str] | None = None, state_dir: pulumi.Input[str] | None = None,
                 stack: pulumi.Input[str] | None = None, connection: pulumi.Input[str] | None = None,
                 password: pulumi.Input[str] | None = None,
                 snowflake: pulumi.Input[dict[str, Any]] | None = None,
                 destroy_adopted: pulumi.Input[bool] | None = None) -> None:
        """``target``: local (default) or snowflake; ``state_dir``: where the local target keeps its data
        (default .spcs-iac); ``stack``: the name labels and records use (default: the Pulumi stack's);
        ``connection``: a connections.toml entry; ``password`` (kept a secret) and ``snowflake`` (account,
        user, host, port, protocol, role, ...) complete or replace it; ``destroy_adopted``: let a delete
        drop a database, schema or stage that holds what the program does not manage (as the CLI's
        ``--destroy-adopted``)."""
        props = {"target": target, "stateDir": state_dir, "stack": stack, "connection": connection,
                 "password": pulumi.Output.secret(password) if password is not None else None,
                 "snowflake": pulumi.Output.from_input(snowflake).apply(_json) if snowflake is not None else None,
                 "destroyAdopted": destroy_adopted}
        super().__init__(PACKAGE, resource_name, props, _versioned(opts))


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


class SpcsResource(pulumi.CustomResource):
    """Base of the generated classes. Outputs: ``address``, ``fqn``, ``ref`` (what a reference to it
    means: the qualified name, or for an image the digest-pinned path), ``outputs`` (all the target
    reports) and, where the kind has them, ``repository_url``, ``digest``, ``endpoints``, ``dns_name``,
    ``status``."""

    kind: str = ""
    address: pulumi.Output[str]
    fqn: pulumi.Output[str]
    ref: pulumi.Output[str]
    outputs: pulumi.Output[dict[str, Any]]
    repository_url: pulumi.Output[str | None]
    digest: pulumi.Output[str | None]
    endpoints: pulumi.Output[dict[str, str] | None]
    dns_name: pulumi.Output[str | None]
    status: pulumi.Output[str | None]

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **args: Any) -> None:
        cls = KINDS[self.kind]
        on = args.get("on")
        if self.kind == "grant" and isinstance(on, SpcsResource) and args.get("on_type") is None:
            # What the model infers from an object (Grant._target: on.sql_type): the resource becomes a name.
            args["on_type"] = KINDS[on.kind].sql_type
        sensitive = {_key(cls, d.name) for d in kind_props(cls) if d.prop.sensitive}
        secrets: list[dict[str, Any]] = []
        props: dict[str, Any] = {}
        for key, value in args.items():
            if value is None:
                continue
            value = _convert(value, key, secrets)
            props[key] = pulumi.Output.secret(value) if key in sensitive else value
        for key in sensitive:
            props.setdefault(key, None)  # an output attribute for each, so services can pass the values on
        if secrets:
            props[SECRETS] = pulumi.Output.secret(secrets)
        for key in (*IDENTITY, "outputs", *TARGET_OUTPUTS):
            props.setdefault(key, None)
        super().__init__(f"{PACKAGE}:index:{cls.__name__}", resource_name, props, _versioned(opts))


def _versioned(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Ask the engine for this version of the plugin (``pulumi plugin install resource spcs-iac VERSION``)."""
    return pulumi.ResourceOptions.merge(pulumi.ResourceOptions(version=VERSION), opts)


def _key(cls: type[Resource], name: str) -> str:
    info = cls.model_fields[name]
    return info.alias or name


def _convert(value: Any, key: str, secrets: list[dict[str, Any]]) -> Any:
    """An argument as the provider wants it: references as names (Outputs keep the dependencies)."""
    if isinstance(value, SpcsResource):
        if key in SECRET_KEYS and value.kind == "secret":
            secrets.append({"name": value.ref, **{k: getattr(value, k) for k in _SECRET_FIELDS}})
        return value.name if key in CONTAINER_FIELDS else value.ref  # type: ignore[attr-defined]
    if isinstance(value, pulumi.Output):
        return value
    if isinstance(value, Resource):  # an object of the spcs_iac model: the name it denotes
        if key in CONTAINER_FIELDS:
            return value.name
        reference = getattr(value, "spec_reference", None)
        return reference() if callable(reference) else value.fqn
    if isinstance(value, BaseModel):
        return {(info.alias or name): _convert(getattr(value, name), info.alias or name, secrets)
                for name, info in type(value).model_fields.items()
                if getattr(value, name) is not None or name in value.model_fields_set}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _convert(v, str(k), secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_convert(v, key, secrets) for v in value]
    return value


_SECRET_FIELDS = tuple(d.name for d in kind_props(KINDS["secret"]) if d.prop.sensitive)


def _signature(cls: type[Resource]) -> inspect.Signature:
    """What help() and editors show: the kind's fields as keyword arguments taking pulumi.Input."""
    params = [inspect.Parameter("resource_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
              inspect.Parameter("opts", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                annotation="pulumi.ResourceOptions | None")]
    for name, info in cls.model_fields.items():
        if name == "kind":
            continue
        default = inspect.Parameter.empty if info.is_required() else None
        params.append(inspect.Parameter(info.alias or name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=f"pulumi.Input[{_type_name(info.annotation)}]"))
    return inspect.Signature(params)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _classes() -> dict[str, type[SpcsResource]]:
    out: dict[str, type[SpcsResource]] = {}
    module = sys.modules[__name__]
    for kind, model in KINDS.items():
        doc = f"{(model.__doc__ or '').strip()}\n\nA Pulumi resource; arguments are the fields of spcs_iac.{model.__name__}."

        def __init__(self: SpcsResource, resource_name: str, opts: pulumi.ResourceOptions | None = None,
                     **args: Any) -> None:
            SpcsResource.__init__(self, resource_name, opts, **args)

        __init__.__signature__ = _signature(model)  # type: ignore[attr-defined]
        sub = type(model.__name__, (SpcsResource,), {"kind": kind, "__doc__": doc, "__init__": __init__,
                                                     "__module__": __name__, "__qualname__": model.__name__})
        setattr(module, model.__name__, sub)
        out[kind] = sub
    return out


CLASSES = _classes()
