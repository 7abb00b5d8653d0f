"""``sfduck`` (Snowflake SQL on DuckDB) is shared by the local target and the emulator, so it imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sfduck_imports_neither_product() -> None:
    bad = []
    for path in sorted((ROOT / "sfduck").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("spcs_iac", "spcs_emulator")]
    assert bad == []
