"""Declarations -> the text of a stack file: ordered so every variable is defined before it is used,
references written as variables, one call per line where it fits (110 columns, the project's width)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any

from spcs_iac.drivers.export_decl import Call, Declaration, Env, IfName, Ref

WIDTH = 110
INDENT = "    "


def order(decls: Iterable[Declaration]) -> list[Declaration]:
    """Kind order, then name; an object whose referenced objects come later waits for them. A cycle (two
    roles owning each other) is cut: the reference that closes it is written as a name."""
    by_address = {d.address: d for d in decls}
    waits = {a: {r.address for r in d.refs() if r.address in by_address and r.address != a}
             for a, d in by_address.items()}
    ready = [(d.sort_key(), a) for a, d in by_address.items() if not waits[a]]
    heapq.heapify(ready)
    done: list[Declaration] = []
    placed: set[str] = set()
    while len(done) < len(by_address):
        if not ready:  # a cycle: take the first object left, whatever it waits for
            a = min((a for a in by_address if a not in placed), key=lambda a: by_address[a].sort_key())
            waits[a] = set()
            heapq.heappush(ready, (by_address[a].sort_key(), a))
        _, a = heapq.heappop(ready)
        if a in placed:
            continue
        placed.add(a)
        done.append(by_address[a])
        for other, need in waits.items():
            if a in need:
                need.discard(a)
                if not need and other not in placed:
                    heapq.heappush(ready, (by_address[other].sort_key(), other))
    return done


def render(decls: list[Declaration], *, stack_name: str, header: list[str]) -> str:
    ordered = order(decls)
    defined: set[str] = set()
    used: set[str] = set()
    for d in ordered:  # a reference is a variable only to an object declared above it
        used.update(r.address for r in d.refs() if r.address in defined)
        defined.add(d.address)
    variables = {d.address: d.variable for d in ordered if d.address in used}
    writer = _Writer(variables)
    classes = sorted({d.cls_name for d in ordered} | writer.nested(ordered) | {"Stack"})
    lines = [f"# {line}".rstrip() for line in header]
    lines.append("")
    if any(_has_env(d.args) for d in ordered):
        lines += ["import os", ""]
    lines += _import_line(classes)
    lines += ["", f"stack = Stack({_str(stack_name)}, default_target=\"snowflake\")"]
    section = None
    for d in ordered:
        if d.kind != section:
            section = d.kind
            label = d.kind.replace("_", " ")
            title = f"# ---- {label[:-1] + 'ies' if label.endswith('y') else label + 's'} "
            lines += ["", title + "-" * max(3, WIDTH - len(title))]
        lines += [f"# {c}" for c in d.comments]
        target = f"{variables[d.address]} = " if d.address in variables else ""
        lines.append(f"{target}stack.add({writer.call(d.cls_name, d.args, len(target) + 10)})")
    return "\n".join(lines) + "\n"


def _import_line(classes: list[str]) -> list[str]:
    flat = f"from spcs_iac import {', '.join(classes)}"
    if len(flat) <= WIDTH:
        return [flat]
    return ["from spcs_iac import (", *[f"{INDENT}{c}," for c in classes], ")"]


def _has_env(value: Any) -> bool:
    if isinstance(value, Env):
        return True
    if isinstance(value, list | tuple):
        return any(_has_env(v) for v in value)
    if isinstance(value, IfName | Call):
        return _has_env(value.value if isinstance(value, IfName) else value.args)
    return False


class _Writer:
    """Python source of argument values: flat when the line has room, else one item per line."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self.variables = variables

    def nested(self, decls: Iterable[Declaration]) -> set[str]:
        out: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, Call):
                out.add(value.cls)
                walk(value.args)
            elif isinstance(value, list | tuple):
                for v in value:
                    walk(v)

        for d in decls:
            walk(d.args)
        return out

    def call(self, cls: str, args: Iterable[tuple[str, Any]], used: int, indent: int = 0) -> str:
        items = [(k, v) for k, v in args if not self._omitted(v, args)]
        flat = f"{cls}({', '.join(f'{k}={self.flat(self._value(v))}' for k, v in items)})"
        if used + len(flat) + 1 <= WIDTH:
            return flat
        inner = INDENT * (indent + 1)
        body = [f"{inner}{k}={self.value(self._value(v), len(inner) + len(k) + 1, indent + 1)}," for k, v in items]
        return f"{cls}(\n" + "\n".join(body) + f"\n{INDENT * indent})"

    def _omitted(self, value: Any, args: Iterable[tuple[str, Any]]) -> bool:
        """An IfName argument is left out when the reference it goes with is written as a variable."""
        if not isinstance(value, IfName):
            return False
        of = dict(args).get(value.of)
        return isinstance(of, Ref) and of.address in self.variables

    @staticmethod
    def _value(value: Any) -> Any:
        return value.value if isinstance(value, IfName) else value

    def value(self, value: Any, used: int, indent: int) -> str:
        flat = self.flat(value)
        if used + len(flat) + 1 <= WIDTH or not isinstance(value, list | dict | Call) or not value:
            return flat
        inner = INDENT * (indent + 1)
        if isinstance(value, Call):
            return self.call(value.cls, value.args, used, indent)
        if isinstance(value, dict):
            body = [f"{inner}{_str(k)}: {self.value(v, len(inner) + len(_str(k)) + 2, indent + 1)},"
                    for k, v in value.items()]
            return "{\n" + "\n".join(body) + f"\n{INDENT * indent}}}"
        body = [f"{inner}{self.value(v, len(inner), indent + 1)}," for v in value]
        return "[\n" + "\n".join(body) + f"\n{INDENT * indent}]"

    def flat(self, value: Any) -> str:
        if isinstance(value, Ref):
            return self.variables.get(value.address) or _str(value.name)
        if isinstance(value, Env):
            return f"os.environ[{_str(value.variable)}]"
        if isinstance(value, Call):
            return f"{value.cls}({', '.join(f'{k}={self.flat(v)}' for k, v in value.args)})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{_str(k)}: {self.flat(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list | tuple):
            return "[" + ", ".join(self.flat(v) for v in value) + "]"
        if isinstance(value, str):
            return _str(value)
        if value is None or isinstance(value, bool | int | float):
            return repr(value)
        raise TypeError(f"cannot write {type(value).__name__} in a stack file")


def _str(text: str) -> str:
    """A Python string literal, in double quotes unless the text holds one (Python's own escaping)."""
    literal = repr(str(text))
    if literal[0] == "'" and '"' not in text:
        return '"' + literal[1:-1] + '"'
    return literal
