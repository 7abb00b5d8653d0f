"""Register a whole Stack in a Pulumi program, as native spcs-iac resources (resources.py).

    # __main__.py of a Pulumi project
    from spcs_iac.pulumi import deploy
    deploy("../../stacks/quickstart.py")

One stack file then drives the CLI, CI and Pulumi. The program loads the stack; the provider never
does: each object's declaration (and, as Pulumi secrets, the secret values it needs) travels in its
resource's inputs. Labels and records use the stack's name, as with the CLI. Provider configuration
(``pulumi config set``): ``spcs-iac:target`` (local | snowflake; default: the stack's default target),
``spcs-iac:stateDir``, ``spcs-iac:connection``, ``spcs-iac:snowflake`` (connection options) and
``spcs-iac:password`` (``--secret``), ``spcs-iac:destroyAdopted`` (``true``: a delete may drop a database, schema
or stage holding what the stack does not manage).
"""

from __future__ import annotations

from typing import Any

import pulumi

from spcs_iac.drivers.pulumi.resources import CLASSES, Provider, SpcsResource
from spcs_iac.graph.build import build_graph, object_predecessors, resources_in_order
from spcs_iac.model.base import Resource
from spcs_iac.model.declaration import set_fields
from spcs_iac.model.stack import Stack


def register_stack(stack: Stack, stack_ref: str | None = None, *, target: str | None = None,
                   connection: str | None = None, state_dir: str | None = None, export: bool = True,
                   provider: pulumi.ProviderResource | None = None) -> dict[str, SpcsResource]:
    """Declare every object of ``stack`` as a Pulumi resource; returns them by address."""
    stack.validate()
    graph = build_graph(stack)
    if provider is None:
        config = pulumi.Config("spcs-iac")
        provider = Provider(
            f"{stack.name}-provider", target=target or config.get("target") or stack.default_target,
            state_dir=state_dir or config.get("stateDir"), stack=stack.name,
            connection=connection or config.get("connection"), password=config.get_secret("password"),
            snowflake=config.get_object("snowflake"), destroy_adopted=config.get_bool("destroyAdopted"))
    index = stack.resources()
    created: dict[str, SpcsResource] = {}
    for r in resources_in_order(graph):
        depends = [created[a] for a in object_predecessors(graph, r.address) if a in created]
        args = _arguments(r, created, index)
        opts = pulumi.ResourceOptions(provider=provider, depends_on=depends)
        created[r.address] = CLASSES[r.kind](_pulumi_name(r), opts, **args)
    if export:
        _export(index, created)
    return created


def deploy(stack_ref: str, **options: Any) -> dict[str, SpcsResource]:
    """Load a stack file (or module:attribute) and register it."""
    from spcs_iac.model.loader import load_stack

    return register_stack(load_stack(stack_ref), stack_ref, **options)


def _arguments(r: Resource, created: dict[str, SpcsResource], index: dict[str, Resource]) -> dict[str, Any]:
    """The object's fields as resource arguments: managed objects as their resources, secrets as values."""
    out: dict[str, Any] = {}
    for key, name, value, sensitive in set_fields(r):
        if sensitive:
            out[key] = value  # the resource class makes it a Pulumi secret
        elif name == "spec":
            out[key] = _spec(r, created, index)
        else:
            out[key] = _swap(value, created)
    return out


def _swap(value: Any, created: dict[str, SpcsResource]) -> Any:
    if isinstance(value, Resource):
        return created.get(value.address, value)
    if isinstance(value, list | tuple):
        return [_swap(v, created) for v in value]
    return value


def _spec(r: Resource, created: dict[str, SpcsResource], index: dict[str, Resource]) -> Any:
    """The spec as data, with declared images and secrets as their resources (digests, secret values)."""
    from spcs_iac.drivers.pulumi.resources import _convert

    doc = _convert(r.spec, "spec", [])  # type: ignore[attr-defined]
    for plain, container in zip(doc.get("containers") or [], r.spec.containers, strict=False):  # type: ignore[attr-defined]
        if isinstance(container.image, Resource) and container.image.address in created:
            plain["image"] = created[container.image.address]
        for item in plain.get("secrets") or []:
            name = item.get("snowflakeSecret")
            if isinstance(name, dict):
                name = name.get("objectName")
            hit = created.get(f"secret.{r.qualify(name)}") if isinstance(name, str) else None  # type: ignore[attr-defined]
            if hit is not None and f"secret.{r.qualify(name)}" in index:  # type: ignore[attr-defined]
                if isinstance(item.get("snowflakeSecret"), dict):
                    item["snowflakeSecret"] = {**item["snowflakeSecret"], "objectName": hit}
                else:
                    item["snowflakeSecret"] = hit
    return doc


def _pulumi_name(r: Resource) -> str:
    return r.address.replace("::", ":")


def _export(index: dict[str, Resource], created: dict[str, SpcsResource]) -> None:
    """Useful values as stack outputs: endpoint URLs, repository URLs, image digests."""
    for address, res in created.items():
        kind = index[address].kind
        if kind == "service":
            pulumi.export(f"{address}.endpoints", res.endpoints)
        elif kind == "image_repository":
            pulumi.export(f"{address}.repository_url", res.repository_url)
        elif kind == "image":
            pulumi.export(f"{address}.digest", res.digest)
