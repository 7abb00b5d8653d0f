"""Build the networkx dependency graph: an edge A -> B means B needs A first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

from spcs_iac.errors import Issue, StackValidationError
from spcs_iac.model.base import Resource
from spcs_iac.model.fields import kind_props

if TYPE_CHECKING:
    from spcs_iac.model.stack import Stack

CONTAINER_FIELDS = ("database", "schema")  # objects inside a replaced database/schema go with it
BARRIER = "role-ready:"


def build_graph(stack: Stack) -> nx.DiGraph:
    index = stack.resources()
    g = nx.DiGraph()
    g.add_nodes_from((address, {"resource": r}) for address, r in index.items())
    # Reference edges are gathered first (in the order they are met) and added at once: several fields
    # referring to one object make one edge listing them.
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    follows_by_kind: dict[type, set[str]] = {}
    for address, r in index.items():
        follows = follows_by_kind.get(type(r))
        if follows is None:
            follows = follows_by_kind[type(r)] = {d.name for d in kind_props(type(r)) if d.prop.follow_replace}
        for field, _kind, target in r.references():
            if not isinstance(target, Resource):
                continue
            source = target.address
            if source == address or source not in index:
                continue
            follow = field in follows or field in CONTAINER_FIELDS
            data = edges.get((source, address))
            if data is None:
                edges[(source, address)] = {"fields": [field], "follow_replace": follow}
            else:
                data["fields"].append(field)
                data["follow_replace"] = data["follow_replace"] or follow
    g.add_edges_from((source, address, data) for (source, address), data in edges.items())
    _owner_barriers(g, index)
    _check_acyclic(g)
    return g


def _owner_barriers(g: nx.DiGraph, index: dict[str, Resource]) -> None:
    """Objects created by role R wait for every grant that gives R its privileges.

    A pseudo node per role keeps this O(grants + objects) instead of grants x objects. Grants whose
    securable is itself created by R (directly or through dependencies) are left out: they can only
    come after.
    """
    owned: dict[str, list[str]] = {}
    for address, r in index.items():
        owner = r.owner_name
        if owner and r.kind not in ("grant", "role_grant"):
            owned.setdefault(owner, []).append(address)
    if not owned:
        return
    # Where each object stands in its owner's list: edges are added in that order (it decides the order
    # of a topological sort), without walking every object the role owns for each grant.
    position = {role: {obj: i for i, obj in enumerate(objs)} for role, objs in owned.items()}
    for address, r in index.items():
        role = _empowered_role(r)
        if role is None or role not in owned:
            continue
        ancestors = nx.ancestors(g, address) | {address}
        if any(index[a].owner_name == role for a in ancestors if a in index and a != address):
            # It comes after objects R creates, but still before R's objects that use its securable
            # (a service needs USAGE on the integration it names before it is created).
            on = getattr(r, "on", None)
            users = g.successors(on.address) if isinstance(on, Resource) and on.address in g else ()
            mine = position[role]
            for obj in sorted((u for u in users if u in mine and u not in ancestors), key=mine.__getitem__):
                g.add_edge(address, obj, fields=["privileges"], follow_replace=False)
            continue
        barrier = BARRIER + role
        if barrier not in g:
            g.add_node(barrier, resource=None, pseudo=True)
            for obj in owned[role]:
                g.add_edge(barrier, obj, fields=["owner"], follow_replace=False)
        g.add_edge(address, barrier, fields=["privileges"], follow_replace=False)


def _empowered_role(r: Resource) -> str | None:
    """The role whose privileges this grant extends (grantee of a Grant, granted role of a RoleGrant)."""
    if r.kind == "grant":
        return r.to.name if isinstance(r.to, Resource) else r.to  # type: ignore[attr-defined]
    if r.kind == "role_grant":
        role = r.role  # type: ignore[attr-defined]
        return role.name if isinstance(role, Resource) else role
    return None


def _check_acyclic(g: nx.DiGraph) -> None:
    if nx.is_directed_acyclic_graph(g):
        return
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([u for u, _v in cycle] + [cycle[-1][1]])
    raise StackValidationError([Issue("stack", "dependencies", f"dependency cycle: {path}")])


def resources_in_order(g: nx.DiGraph) -> list[Resource]:
    return [g.nodes[n]["resource"] for n in nx.topological_sort(g) if g.nodes[n].get("resource") is not None]


def to_dot(g: nx.DiGraph) -> str:
    lines = ["digraph stack {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for n in g.nodes:
        if g.nodes[n].get("pseudo"):
            continue
        lines.append(f'  "{_esc(n)}";')
    for u, v in _collapsed_edges(g):
        lines.append(f'  "{_esc(u)}" -> "{_esc(v)}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(g: nx.DiGraph) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(g.nodes)}
    lines = ["graph LR"]
    for n in g.nodes:
        if not g.nodes[n].get("pseudo"):
            label = n.replace('"', "'")
            lines.append(f'  {ids[n]}["{label}"]')
    for u, v in _collapsed_edges(g):
        lines.append(f"  {ids[u]} --> {ids[v]}")
    return "\n".join(lines) + "\n"


def _collapsed_edges(g: nx.DiGraph) -> list[tuple[str, str]]:
    """Edges with role barriers folded into direct grant -> object edges for display."""
    out: list[tuple[str, str]] = []
    for u, v in g.edges:
        if g.nodes[u].get("pseudo"):
            continue
        if g.nodes[v].get("pseudo"):
            out.extend((u, w) for w in g.successors(v))
        else:
            out.append((u, v))
    return out


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def object_predecessors(graph: nx.DiGraph, address: str) -> list[str]:
    """Objects this one depends on directly, role barriers expanded (a barrier stands for the grants
    behind it)."""
    out: list[str] = []
    for p in graph.predecessors(address):
        if graph.nodes[p].get("pseudo"):
            out.extend(q for q in graph.predecessors(p) if not graph.nodes[q].get("pseudo"))
        else:
            out.append(p)
    return out
