"""YAML that cannot hurt: the loader for specs and configuration files users hand to spcs-iac.

PyYAML's safe loader still expands aliases without bound (a few hundred bytes can expand to gigabytes),
follows recursive anchors into endless structures, keeps the last of two equal keys without a word, and
accepts explicit tags such as ``!!binary``. This loader refuses each of those with the file and line.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_NODES = 20_000  # nodes after alias expansion; real specs have a few hundred
ALLOWED_TAGS = frozenset({
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map",
})


class UnsafeYaml(ValueError):
    """A YAML document spcs-iac refuses; the message names where."""


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self.source = source
        self._open: set[str] = set()  # anchors whose node is still being composed
        self._sizes: dict[int, int] = {}
        self._total = 0

    def _where(self, node_or_mark: Any) -> str:
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        return f"{self.source} line {mark.line + 1}" if mark is not None else self.source

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self._open:
                raise UnsafeYaml(f"{self._where(event.start_mark)}: the alias *{event.anchor} refers to its own "
                                 "anchor (a recursive structure)")
            node = super().compose_node(parent, index)
            self._count(self._size(node), node)
            return node
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            if anchor:
                self._open.discard(anchor)
        if node is not None:
            self._count(1, node)
        return node

    def _size(self, node: Node) -> int:
        cached = self._sizes.get(id(node))
        if cached is not None:
            return cached
        if isinstance(node, ScalarNode):
            size = 1
        elif isinstance(node, SequenceNode):
            size = 1 + sum(self._size(n) for n in node.value)
        else:
            size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        self._sizes[id(node)] = size
        return size

    def _count(self, n: int, node: Node) -> None:
        self._total += n
        if self._total > MAX_NODES:
            raise UnsafeYaml(f"{self._where(node)}: the document expands to more than {MAX_NODES} values "
                             "(aliases repeating large parts are refused)")

    def construct_object(self, node: Node, deep: bool = False) -> Any:  # type: ignore[override]
        if node.tag not in ALLOWED_TAGS:
            raise UnsafeYaml(f"{self._where(node)}: the tag {node.tag!r} is not allowed; use plain strings, "
                             "numbers, booleans, lists and mappings")
        return super().construct_object(node, deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise UnsafeYaml(f"{self._where(key_node)}: the key {key!r} appears twice in one mapping "
                                 f"(first at line {seen[key].start_mark.line + 1})")
            seen[key] = key_node
        return super().construct_mapping(node, deep)


def _no_timestamps() -> dict[str, list[Any]]:
    """Implicit resolvers without the timestamp one: an unquoted date stays the text it is."""
    out: dict[str, list[Any]] = {}
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
        out[first] = [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    return out


_Loader.yaml_implicit_resolvers = _no_timestamps()


def load(text: str, source: str = "YAML") -> Any:
    """Parse one document; ``source`` (a file name) is named in every error."""
    loader = _Loader(text, source)
    try:
        return loader.get_single_data()
    except UnsafeYaml:
        raise
    except yaml.YAMLError as exc:
        raise UnsafeYaml(f"{source}: does not parse: {exc}") from None
    except RecursionError:
        raise UnsafeYaml(f"{source}: nested too deeply") from None
    finally:
        loader.dispose()
