"""Tables: the data the quickstart's service function works on (seed: ``CREATE TABLE WEATHER ...``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sfduck import types as sftypes
from spcs_iac.errors import DeclarationError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, SchemaScoped
from spcs_iac.model.columns import compare_columns, default_sql
from spcs_iac.model.fields import Fmt, Prop, Unset
from spcs_iac.model.kinds.account import Comment, parse_bool


class TableColumn(BaseModel):
    """A column: ``TableColumn(name="TEMP_C", datatype="NUMBER")`` (``type=`` works too).

    ``default`` is a value (text, number, boolean), or one of the expressions CURRENT_TIMESTAMP(),
    CURRENT_DATE(), CURRENT_TIME(), SYSDATE(), CURRENT_USER(), CURRENT_ROLE(), UUID_STRING().
    ``renamed_from`` names the column this one was called before: the table keeps its data and the
    column is renamed in place instead of dropped and added.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    datatype: str = Field(alias="type")
    nullable: bool = True
    default: bool | int | float | str | None = None
    comment: str | None = None
    renamed_from: str | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise DeclarationError.from_pydantic("TableColumn", data, exc) from None

    @field_validator("name", "renamed_from")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else ids.normalize(v, what="column name")

    @field_validator("datatype")
    @classmethod
    def _type(cls, v: str) -> str:
        try:
            return sftypes.canonical(v)
        except sftypes.TypeSpellingError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("nullable", mode="before")
    @classmethod
    def _bool(cls, v: Any) -> Any:
        return parse_bool(v)

    @field_validator("default")
    @classmethod
    def _default(cls, v: Any) -> Any:
        default_sql(v)  # rejects what cannot be written (NaN, infinities)
        return v

    def normal(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.datatype, "nullable": self.nullable,
                               "default": default_sql(self.default), "comment": self.comment}
        if self.renamed_from:
            out["renamed_from"] = self.renamed_from
        return out


class Table(SchemaScoped):
    """A permanent table. Column changes Snowflake can ALTER happen in place; others replace the table,
    and the plan says its rows are lost."""

    kind: ClassVar[str] = "table"
    sql_type: ClassVar[str] = "TABLE"
    # Said by plans whenever a table is dropped (replaced, removed from the stack, destroyed).
    drops_data: ClassVar[str] = "dropping the table deletes its rows"

    columns: Annotated[
        list[TableColumn],
        Prop(fmt=Fmt.SPECIAL, compare=compare_columns,
             doc="add / drop / rename, nullability, comment, longer VARCHAR, NUMBER precision: in place; "
                 "another type or a new default: **replace**"),
    ]
    cluster_by: Annotated[
        list[str] | None, Prop(sql="CLUSTER BY", fmt=Fmt.SPECIAL, default=[], doc="clustering key columns")
    ] = None
    change_tracking: Annotated[bool | None, Prop(sql="CHANGE_TRACKING", fmt=Fmt.BOOL, default=False)] = None
    data_retention_time_in_days: Annotated[
        int | None, Prop(sql="DATA_RETENTION_TIME_IN_DAYS", fmt=Fmt.INT, unset=Unset.IGNORE,
                         doc="Time Travel days; unset = inherited from the schema")
    ] = None
    comment: Comment = None

    @field_validator("columns", mode="before")
    @classmethod
    def _columns(cls, v: Any) -> Any:
        if not isinstance(v, list | tuple) or not v:
            raise ValueError("columns must be a non-empty list of TableColumn (or dicts of their fields)")
        return [c if isinstance(c, TableColumn) else _column(c) for c in v]

    @field_validator("change_tracking", mode="before")
    @classmethod
    def _bool(cls, v: Any) -> Any:
        return parse_bool(v) if v is not None else None

    @field_validator("data_retention_time_in_days")
    @classmethod
    def _retention(cls, v: int | None) -> int | None:
        if v is not None and not 0 <= v <= 90:
            raise ValueError(f"data_retention_time_in_days must be 0..90, got {v}")
        return v

    @field_validator("cluster_by", mode="before")
    @classmethod
    def _cluster(cls, v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, str):
            v = [v]
        return [ids.normalize(c, what="cluster_by column") for c in v]

    @model_validator(mode="after")
    def _consistent(self) -> Table:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"columns {dupes} are declared more than once")
        unknown = [c for c in self.cluster_by or [] if c not in names]
        if unknown:
            raise ValueError(f"cluster_by names {unknown}, which are not columns; columns: {names}")
        for c in self.columns:
            if c.renamed_from and c.renamed_from in names:
                raise ValueError(f"column {c.name}: renamed_from {c.renamed_from!r} is still a declared column")
        return self

    def desired(self, outputs: Outputs | None = None) -> dict[str, Any]:
        values = super().desired(outputs)
        values["columns"] = [c.normal() for c in self.columns]
        return values


def _column(value: Any) -> TableColumn:
    if isinstance(value, dict):
        return TableColumn(**value)
    raise ValueError(f"a column must be a TableColumn or a dict of its fields, got {value!r}")
