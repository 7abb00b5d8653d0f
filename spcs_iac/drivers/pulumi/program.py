"""Register a whole Stack in a Pulumi program: one dynamic resource per object, edges from the graph.

    # __main__.py of a Pulumi project
    from spcs_iac.pulumi import deploy
    deploy("../../stacks/quickstart.py")

Configuration (``pulumi config set``): ``spcs-iac:target`` (local | snowflake), ``spcs-iac:connection``
(a connections.toml name), ``spcs-iac:stateDir`` (where the local target keeps its data), and
``spcs-iac:password`` (``pulumi config set --secret``: the Snowflake password, kept encrypted by Pulumi).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pulumi
from pulumi.dynamic import Resource as DynamicResource

from spcs_iac.drivers.pulumi.dynamic import PROVIDERS
from spcs_iac.graph.build import build_graph, object_predecessors, resources_in_order
from spcs_iac.model.base import Resource
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.stack import Stack


class SpcsResource(DynamicResource):
    """Base of the per-kind Pulumi resource classes (``spcs-iac:Service`` etc.)."""

    outputs: pulumi.Output[dict[str, Any]]
    address: pulumi.Output[str]


def _resource_classes() -> dict[str, type[SpcsResource]]:
    out: dict[str, type[SpcsResource]] = {}
    module = sys.modules[__name__]
    for kind, cls in KINDS.items():
        sub = type(f"{cls.__name__}Resource", (SpcsResource,), {"__module__": __name__},
                   module="spcs-iac", name=cls.__name__)
        setattr(module, sub.__name__, sub)
        out[kind] = sub
    return out


RESOURCES = _resource_classes()


def register_stack(stack: Stack, stack_ref: str, *, target: str | None = None, connection: str | None = None,
                   state_dir: str | None = None, export: bool = True) -> dict[str, SpcsResource]:
    """Declare every object of `stack` as a Pulumi resource; returns them by address."""
    config = pulumi.Config("spcs-iac")
    target = target or config.get("target") or stack.default_target
    connection = connection or config.get("connection")
    state_dir = state_dir or config.get("stateDir") or os.path.abspath(".spcs-iac")
    stack.validate()
    graph = build_graph(stack)

    created: dict[str, SpcsResource] = {}
    for r in resources_in_order(graph):
        depends = [a for a in object_predecessors(graph, r.address) if a in created]
        upstream = {a: created[a].outputs for a in r.outputs_needed() if a in created}
        props: dict[str, Any] = {
            "address": r.address, "kind": r.kind, "name": r.fqn, "stack": stack.name,
            "stack_ref": os.path.abspath(stack_ref) if os.path.exists(stack_ref) else stack_ref,
            "target": target, "connection": connection, "state_dir": state_dir,
            "props": r.desired(), "upstream": upstream, "depends": depends, "outputs": None,
        }
        if any(d.prop.sensitive for d in kind_props(type(r))):
            # Only salted hashes are in there, but Pulumi should still treat them as secrets.
            props["props"] = pulumi.Output.secret(props["props"])
        opts = pulumi.ResourceOptions(depends_on=[created[a] for a in depends], delete_before_replace=True,
                                      additional_secret_outputs=["props"] if r.kind == "secret" else None)
        created[r.address] = RESOURCES[r.kind](PROVIDERS[r.kind](), _pulumi_name(r), props, opts)
    if export:
        _export(stack, created)
    return created


def deploy(stack_ref: str, **options: Any) -> dict[str, SpcsResource]:
    """Load a stack file (or module:attribute) and register it."""
    from spcs_iac.model.loader import load_stack

    return register_stack(load_stack(stack_ref), stack_ref, **options)


def _pulumi_name(r: Resource) -> str:
    return r.address.replace("::", ":")


def _export(stack: Stack, created: dict[str, SpcsResource]) -> None:
    """Useful values as stack outputs: endpoint URLs, repository URLs, image digests."""
    for address, res in created.items():
        kind = stack.resources()[address].kind
        if kind == "service":
            pulumi.export(f"{address}.endpoints", res.outputs.apply(lambda o: (o or {}).get("endpoints")))
        elif kind == "image_repository":
            pulumi.export(f"{address}.repository_url", res.outputs.apply(lambda o: (o or {}).get("repository_url")))
        elif kind == "image":
            pulumi.export(f"{address}.digest", res.outputs.apply(lambda o: (o or {}).get("digest")))
