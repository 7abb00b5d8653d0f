"""The Snowflake adapters cover every kind, name only declared fields, and read documented columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from spcs_iac.graph.build import build_graph
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.targets.snowflake.adapters import ADAPTERS, Read, SnowflakeAdapter
from spcs_iac.targets.snowflake.readback import describe_row, row_key
from spcs_iac.targets.snowflake.sql import Stmt
from spcs_iac.targets.snowflake.statements import create_steps, with_role_switches
from tests.snowflake.support import every_kind

SHOWN = [a for a in ADAPTERS.values() if a.read is Read.SHOW]


def test_every_kind_has_exactly_one_adapter() -> None:
    assert sorted(ADAPTERS) == sorted(KINDS), "a kind without a Snowflake adapter is never read or applied"
    for kind, adapter in ADAPTERS.items():
        assert adapter.kind == kind


@pytest.mark.parametrize("adapter", ADAPTERS.values(), ids=list(ADAPTERS))
def test_adapter_names_only_declared_fields(adapter: SnowflakeAdapter) -> None:
    read = {d.name for d in adapter.read_fields()}
    named = {"columns": set(adapter.columns), "converters": set(adapter.converters),
             "qualify": set(adapter.qualify), "not_shown": set(adapter.not_shown)}
    for what, fields in named.items():
        assert fields <= read, f"{adapter.kind}: {what} names {sorted(fields - read)}, not readable fields of the kind"
    sql_names = {d.prop.sql for d in kind_props(adapter.cls) if d.prop.sql}
    rule = adapter.alter
    ruled = {*(k for pair in rule.pairs for k in pair), *rule.separate, *rule.unset_as_null, *rule.string_names}
    assert ruled <= sql_names, f"{adapter.kind}: ALTER rule names {sorted(ruled - sql_names)}, not SQL properties"
    assert set(adapter.reads_with) <= set(ADAPTERS)
    # The docs mark what Snowflake does not show from the kinds' declarations: the same fields.
    assert set(adapter.not_shown) == {d.name for d in adapter.read_fields() if not d.prop.shown}


@pytest.mark.parametrize("adapter", ADAPTERS.values(), ids=list(ADAPTERS))
def test_adapter_is_complete_for_how_it_is_read(adapter: SnowflakeAdapter) -> None:
    if adapter.read is Read.SHOW:
        assert adapter.show and adapter.show.startswith("SHOW ")
    else:
        assert adapter.show is None and not adapter.columns and not adapter.outputs and adapter.describe is None
    assert (adapter.grants_of is not None and adapter.observe is not None) is (adapter.read is Read.ROLE_GRANTS)
    assert adapter.sql is (adapter.read is not Read.REGISTRY)  # only images are not SQL, and they read a registry


# ---- the columns the emulator returns (documented SHOW / DESCRIBE output) ------------------------------
@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[set[str], set[str]]]:
    """kind -> (SHOW columns, DESCRIBE columns of one existing object), from an emulated account holding
    one object of every kind, created with the adapters' own statements."""
    emulator_module = pytest.importorskip("spcs_emulator", reason="the account emulator is not available")
    emu = emulator_module.Emulator(ready_delay_s=0)
    session = emu.login("deployer", role="ACCOUNTADMIN")
    context = tmp_path_factory.mktemp("image-context")
    (context / "Dockerfile").write_text("FROM scratch\n")
    _create_every_kind(emu, session, context)
    emu.execute(session, "USE ROLE ACCOUNTADMIN")
    out: dict[str, tuple[set[str], set[str]]] = {}
    for adapter in SHOWN:
        result = emu.execute(session, adapter.show_sql)
        described: set[str] = set()
        if adapter.describe is not None:
            key = next(k for row in result.as_dicts() if (k := row_key(adapter.kind, row)) is not None)
            described = set(describe_row(emu.execute(session, adapter.describe_sql(key)).as_dicts()))
        shown = {name for name, _ in result.columns}
        if adapter.rows_show is not None:  # a second SHOW makes one field: its key columns must be there
            second = {name for name, _ in emu.execute(session, adapter.rows_show).columns}
            assert set(adapter.rows_key) <= second, f"{adapter.kind}: {adapter.rows_show} lacks {adapter.rows_key}"
            shown.add(adapter.column(adapter.rows_field or ""))
        out[adapter.kind] = (shown, described)
    return out


def _create_every_kind(emu: Any, session: Any, context: Path) -> None:
    graph = build_graph(every_kind(context))
    role: str | None = "ACCOUNTADMIN"
    for node in nx.topological_sort(graph):
        r = graph.nodes[node].get("resource")
        if r is None or r.kind not in ADAPTERS or not ADAPTERS[r.kind].sql:
            continue  # barriers; images (Docker); a kind without an adapter fails the test above
        steps, role = with_role_switches(create_steps(r, {}), role, "ACCOUNTADMIN")
        for step in steps:
            if isinstance(step, Stmt):  # waits have nothing to wait for: the emulator is ready at once
                emu.execute(session, step.render())


@pytest.mark.parametrize("adapter", SHOWN, ids=[a.kind for a in SHOWN])
def test_adapter_reads_documented_columns(adapter: SnowflakeAdapter,
                                          columns: dict[str, tuple[set[str], set[str]]]) -> None:
    shown, described = columns[adapter.kind]
    assert set(adapter.key) <= shown, f"{adapter.kind}: key columns {sorted(set(adapter.key) - shown)}"
    assert set(adapter.outputs.values()) <= shown, f"{adapter.kind}: output columns not in {adapter.show}"
    if adapter.signature:
        assert "arguments" in shown  # overloads are told apart by their argument types
    if adapter.describe is not None:
        assert described, f"{adapter.kind}: DESC {adapter.describe} returned nothing"
    available = shown | described | ({"owner"} if adapter.owner_on else set())  # OWNERSHIP of SHOW GRANTS ON
    for decl in adapter.read_fields():
        col = adapter.column(decl.name)
        if decl.name in adapter.not_shown:
            assert col not in available, f"{adapter.kind}.{decl.name} is shown as {col!r}: drop it from not_shown"
        else:
            assert col in available, (
                f"{adapter.kind}.{decl.name} would never be read back: no column {col!r} in {adapter.show}"
                + (f" or DESC {adapter.describe}" if adapter.describe else "")
                + "; map it in the adapter's columns, or list it in not_shown")
