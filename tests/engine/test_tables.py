"""The Table kind: declarations, clear errors, and what each column change costs (in place or replace)."""

from __future__ import annotations

from typing import Any

import pytest

from sfduck import types as sftypes
from spcs_iac import Database, Table, TableColumn
from spcs_iac.errors import DeclarationError
from spcs_iac.model.columns import compare_columns, default_sql, normal_default, plan_columns
from spcs_iac.model.docs import kinds_markdown
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.diff import field_changes


def col(name: str, datatype: str = "NUMBER", **kw: Any) -> dict[str, Any]:
    return TableColumn(name=name, datatype=datatype, **kw).normal()


def test_the_seed_table_declares_like_the_seed() -> None:
    t = Table(name="WEATHER", database=Database(name="CONTAINER_HOL_DB"), columns=[
        TableColumn(name="DATE", datatype="DATE"), TableColumn(name="LOCATION", datatype="VARCHAR"),
        TableColumn(name="TEMP_C", datatype="NUMBER"), TableColumn(name="TEMP_F", datatype="NUMBER")])
    assert t.address == "table.CONTAINER_HOL_DB.PUBLIC.WEATHER"
    assert [c["type"] for c in t.desired()["columns"]] == ["DATE", "VARCHAR(16777216)", "NUMBER(38,0)", "NUMBER(38,0)"]
    assert KINDS["table"] is Table


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"columns": []}, "columns must be a non-empty list"),
    ({"columns": [{"name": "A", "datatype": "NUMBR"}]}, "'NUMBR' is not a data type"),
    ({"columns": [{"name": "A", "datatype": "NUMBER(40,0)"}]}, "NUMBER needs 1 <= precision <= 38"),
    ({"columns": [{"name": "A", "datatype": "INT"}, {"name": "a", "datatype": "INT"}]}, "declared more than once"),
    ({"columns": [{"name": "A", "datatype": "INT"}], "cluster_by": ["B"]}, "cluster_by names ['B']"),
    ({"columns": [{"name": "A", "datatype": "INT"}], "data_retention_time_in_days": 91}, "must be 0..90"),
    ({"columns": [{"name": "A", "datatype": "FLOAT", "default": float("nan")}]}, "only finite numbers"),
    ({"columns": [{"name": "A", "datatype": "INT", "colour": "red"}]}, "unknown field"),
])
def test_bad_declarations_name_object_field_and_what_is_allowed(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(DeclarationError) as info:
        Table(name="T", database="DB", **kwargs)
    text = str(info.value)
    assert message in text and "Table 'T'" in text, text


def test_defaults_are_escaped_literals_or_known_expressions() -> None:
    assert default_sql("it's") == "'it''s'"
    assert default_sql("current_timestamp()") == "CURRENT_TIMESTAMP()"
    assert default_sql("CURRENT_TIMESTAMP(); DROP TABLE T") == "'CURRENT_TIMESTAMP(); DROP TABLE T'"
    assert default_sql(True) == "TRUE" and default_sql(3) == "3" and default_sql(1.5) == "1.5"
    assert normal_default("current_timestamp") == "CURRENT_TIMESTAMP()"
    assert normal_default("") is None


@pytest.mark.parametrize(("before", "after", "replace", "lines"), [
    ([col("A")], [col("A")], None, None),
    ([col("A"), col("B")], [col("B"), col("A")], None, None),  # order is not compared
    ([col("A")], [col("A"), col("B", "VARCHAR")], False, ["column B: added (VARCHAR(16777216))"]),
    ([col("A"), col("B")], [col("A")], False, ["WARNING column B: dropped, and the data in it with it"]),
    ([col("A")], [col("C", renamed_from="A")], False, ["column C: renamed from A"]),
    ([col("A", "VARCHAR(10)")], [col("A", "VARCHAR(20)")], False,
     ["column A: type VARCHAR(10) -> VARCHAR(20) (in place)"]),
    ([col("A", "NUMBER(10,2)")], [col("A", "NUMBER(20,2)")], False,
     ["column A: type NUMBER(10,2) -> NUMBER(20,2) (in place)"]),
    ([col("A")], [col("A", nullable=False)], False, ["column A: NOT NULL"]),
    ([col("A", comment="x")], [col("A")], False, ["column A: comment removed"]),
    ([col("A", default=1)], [col("A")], False, ["column A: default dropped"]),
    ([col("A", "VARCHAR(20)")], [col("A", "VARCHAR(10)")], True,
     ["WARNING column A: type VARCHAR(20) -> VARCHAR(10) cannot be altered: the table is replaced, and ALL ITS ROWS "
      "ARE LOST"]),
    ([col("A")], [col("A", "VARCHAR")], True, None),
    ([col("A", "NUMBER(10,2)")], [col("A", "NUMBER(10,4)")], True, None),
    ([col("A")], [col("A", default=0)], True, None),
])
def test_column_changes_cost_what_snowflake_charges(before: list[Any], after: list[Any], replace: bool | None,
                                                    lines: list[str] | None) -> None:
    verdict = compare_columns(before, after)
    if replace is None:
        assert verdict is None
        return
    assert verdict is not None and verdict[0] is replace
    if lines is not None:
        assert verdict[1] == lines


def test_the_planner_classifies_table_columns_through_the_declaration() -> None:
    t = Table(name="T", database="DB", columns=[{"name": "A", "datatype": "INT"}])
    observed = {"columns": [col("A"), col("OLD")], "cluster_by": [], "change_tracking": False, "comment": None}
    [change] = field_changes(Table, t.desired(), observed, None)
    assert change.name == "columns" and not change.forces_replace
    assert change.detail == ["WARNING column OLD: dropped, and the data in it with it"]


def test_rename_plan_keeps_the_column_and_renamed_from_is_not_compared() -> None:
    plan = plan_columns([col("A")], [col("B", renamed_from="A")])
    assert plan.renames == [("A", "B")] and not plan.adds and not plan.drops
    assert compare_columns([col("B")], [col("B", renamed_from="A")]) is None


def test_types_canonicalise_like_snowflake() -> None:
    assert [sftypes.canonical(t) for t in ("int", "decimal(10, 2)", "string", "char", "real", "timestamp",
                                           "timestamp_ltz(3)", "varbinary")] == [
        "NUMBER(38,0)", "NUMBER(10,2)", "VARCHAR(16777216)", "VARCHAR(1)", "FLOAT", "TIMESTAMP_NTZ(9)",
        "TIMESTAMP_LTZ(3)", "BINARY(8388608)"]
    assert sftypes.from_show_columns(sftypes.show_columns_type("NUMBER(10,2)", True)) == "NUMBER(10,2)"


def test_docs_list_the_table_kind() -> None:
    text = kinds_markdown()
    assert "## Table (`table`)" in text and "`columns`" in text


def test_expression_defaults_read_back_in_snowflakes_stored_form_are_the_ones_declared() -> None:
    # Snowflake keeps an expression default cast to the column's type, and SYSDATE() spelt out; read as
    # different, each plan would replace the table and lose its rows.
    declared = [{"name": "LOADED_AT", "type": "TIMESTAMP_NTZ", "nullable": True, "default": "CURRENT_TIMESTAMP()"},
                {"name": "SEEN_AT", "type": "TIMESTAMP_NTZ", "nullable": True, "default": "SYSDATE()"},
                {"name": "LABEL", "type": "VARCHAR(10)", "nullable": True, "default": "'Ab'"}]
    stored = [{"name": "LOADED_AT", "type": "TIMESTAMP_NTZ(9)", "nullable": True,
               "default": "CAST(CURRENT_TIMESTAMP() AS TIMESTAMP_NTZ(9))"},
              {"name": "SEEN_AT", "type": "TIMESTAMP_NTZ(9)", "nullable": True,
               "default": "CAST(CONVERT_TIMEZONE('UTC', CAST(CURRENT_TIMESTAMP() AS TIMESTAMP_TZ(9))) AS TIMESTAMP_NTZ(9))"},
              {"name": "LABEL", "type": "VARCHAR(10)", "nullable": True, "default": "CAST('Ab' AS VARCHAR(10))"}]
    assert compare_columns(stored, declared) is None
    assert normal_default("'it''s :: x'") == "'it''s :: x'"  # text that only looks like a cast stays text
    changed = [dict(declared[0], default="CURRENT_DATE()"), *declared[1:]]
    assert compare_columns(stored, changed) is not None
