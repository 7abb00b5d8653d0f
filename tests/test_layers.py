"""Layers point one way: model -> state -> graph -> plan -> apply -> targets -> drivers.

A module may import its own layer and the layers before it, never a later one — lazy imports inside
functions and imports for type checking count too. The two targets do not know each other, and the
emulator (a product of its own) imports nothing from spcs_iac; only the drivers may start it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["errors", "model", "state", "graph", "plan", "apply", "targets", "drivers"]
DRIVER_MODULES = {"spcs_iac", "spcs_iac.__main__", "spcs_iac.pulumi"}  # the package's entry points


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return out


def _layer(module: str) -> int | None:
    if module in DRIVER_MODULES:
        return LAYERS.index("drivers")
    parts = module.split(".")
    if parts[0] != "spcs_iac" or len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _violations() -> list[str]:
    out: list[str] = []
    for path in _sources("spcs_iac"):
        module = _module_name(path)
        mine = _layer(module)
        assert mine is not None, f"{module} is in no layer; add its package to LAYERS"
        for line, name in _imports(path):
            if name.startswith("spcs_emulator") and mine != LAYERS.index("drivers"):
                out.append(f"{path.relative_to(ROOT)}:{line} imports the emulator ({name})")
            theirs = _layer(name)
            if theirs is not None and theirs > mine:
                out.append(f"{path.relative_to(ROOT)}:{line} ({LAYERS[mine]}) imports {name} ({LAYERS[theirs]})")
            for a, b in (("snowflake", "local"), ("local", "snowflake")):
                if module.startswith(f"spcs_iac.targets.{a}") and name.startswith(f"spcs_iac.targets.{b}"):
                    out.append(f"{path.relative_to(ROOT)}:{line}: target {a} imports target {b}")
    for path in _sources("spcs_emulator"):
        for line, name in _imports(path):
            if name.startswith("spcs_iac"):
                out.append(f"{path.relative_to(ROOT)}:{line}: the emulator imports {name}")
    return out


def test_no_module_imports_a_later_layer() -> None:
    assert _violations() == []


def test_the_check_sees_upward_imports(tmp_path: Path) -> None:
    # The check itself: an upward import written in a model module is reported.
    probe = ROOT / "spcs_iac" / "model" / "_layer_probe.py"
    probe.write_text("def f():\n    from spcs_iac.drivers import api  # noqa: F401\n", encoding="utf-8")
    try:
        found = _violations()
    finally:
        probe.unlink()
    assert any("_layer_probe.py:2 (model) imports spcs_iac.drivers" in v for v in found), found
