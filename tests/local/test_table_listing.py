"""Plans read the warehouse's tables from the listing kept beside it while the DuckDB file is unchanged, and
from DuckDB as soon as anything wrote to it (no Docker needed: the warehouse is a file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sfduck.warehouse import Column, Warehouse
from spcs_iac.targets.local import tables

ROOT = Path(__file__).resolve().parents[2]
WEATHER = ("DB", "PUBLIC", "WEATHER")
CITIES = ("DB", "PUBLIC", "CITIES")


def make_warehouse(path: Path, *keys: tuple[str, str, str]) -> None:
    w = Warehouse(path)
    try:
        for key in keys:
            w.create_table(key, [Column("NAME", "VARCHAR"), Column("TEMP", "NUMBER(38,0)")])
    finally:
        w.close()


@pytest.fixture
def not_racy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan comes seconds after the last write; these tests wait a few timestamp ticks (``settle``)."""
    monkeypatch.setattr(tables, "RACY_NS", 30_000_000)


def settle() -> None:
    time.sleep(0.05)


def test_an_unchanged_warehouse_is_listed_without_loading_duckdb(tmp_path: Path, not_racy: None) -> None:
    path = tmp_path / "warehouse-s.duckdb"
    make_warehouse(path, WEATHER)
    settle()
    first = tables.read_tables(path)
    assert list(first) == [WEATHER] and tables.listing_path(path).exists()
    probe = ("import json, sys\nfrom pathlib import Path\nfrom spcs_iac.targets.local.tables import read_tables\n"
             f"listed = read_tables(Path({str(path)!r}))\n"
             "print(json.dumps([[list(k), v] for k, v in listed.items()]), 'duckdb' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    listed, loaded = done.stdout.rsplit(" ", 1)
    assert json.loads(listed) == [[list(WEATHER), [list(c) for c in first[WEATHER]]]]
    assert loaded.strip() == "False"


def test_a_table_dropped_or_added_by_hand_is_seen_at_once(tmp_path: Path, not_racy: None) -> None:
    path = tmp_path / "warehouse-s.duckdb"
    make_warehouse(path, WEATHER, CITIES)
    settle()
    assert set(tables.read_tables(path)) == {WEATHER, CITIES}
    assert tables.listing_path(path).exists()
    w = Warehouse(path)
    w.drop_table(CITIES)
    w.close()
    assert set(tables.read_tables(path)) == {WEATHER}
    make_warehouse(path, CITIES)
    assert set(tables.read_tables(path)) == {WEATHER, CITIES}


def test_writes_a_session_has_not_checkpointed_yet_are_seen(tmp_path: Path, not_racy: None) -> None:
    """DDL of an open session sits in the WAL beside the file; the file itself has not changed yet."""
    path = tmp_path / "warehouse-s.duckdb"
    make_warehouse(path, WEATHER)
    settle()
    assert set(tables.read_tables(path)) == {WEATHER}
    assert tables.listing_path(path).exists()
    session = Warehouse(path)
    try:
        session.drop_table(WEATHER)
        assert path.with_name(f"{path.name}.wal").exists()
        assert tables.read_tables(path) == {}
    finally:
        session.close()


def test_a_listing_read_just_after_a_write_is_not_kept(tmp_path: Path) -> None:
    """A write within the same timestamp tick as the one before would leave the file's times unchanged."""
    path = tmp_path / "warehouse-s.duckdb"
    make_warehouse(path, WEATHER)
    assert set(tables.read_tables(path)) == {WEATHER}
    assert not tables.listing_path(path).exists()


def test_a_damaged_listing_is_read_again_from_duckdb(tmp_path: Path, not_racy: None) -> None:
    path = tmp_path / "warehouse-s.duckdb"
    make_warehouse(path, WEATHER)
    settle()
    tables.read_tables(path)
    tables.listing_path(path).write_text("{not json", encoding="utf-8")
    assert set(tables.read_tables(path)) == {WEATHER}
    assert json.loads(tables.listing_path(path).read_text(encoding="utf-8"))["tables"][0][0] == list(WEATHER)
