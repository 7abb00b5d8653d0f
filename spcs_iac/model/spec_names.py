"""The base of the spec's models, and of the parts naming a secret or a stage (which take the object too)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator
from pydantic.alias_generators import to_camel

from spcs_iac.model.base import Resource


class SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, alias_generator=to_camel, arbitrary_types_allowed=True
    )

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def given(v: Any) -> str:
    """What a message says was given: a declared object by kind and name (never its fields)."""
    return f"a {type(v).__name__} {v.fqn}" if isinstance(v, Resource) else repr(v)


class NamesObject(SpecModel):
    """A part of the spec that names a secret or a stage. It takes the declared object too, as ``image``
    takes an Image: the spec then says the object's qualified name (what the user would have written), and
    the object, kept aside, is a dependency of the service. A name denoting a declared object is linked to
    it when the stack resolves (``link``)."""

    names_field: ClassVar[str]
    names_kind: ClassVar[str]
    names_prefix: ClassVar[str] = ""  # a stage location is written @<stage>
    _declared: Any = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _declared_object(cls, data: Any, handler: Any) -> Any:
        found = None
        if isinstance(data, dict):
            for key in {cls.names_field, to_camel(cls.names_field)}:
                value = data.get(key)
                if isinstance(value, Resource) and value.kind == cls.names_kind:
                    found, data = value, cls._naming(data, key, value)
        model = handler(data)
        if found is not None:  # an instance passed again comes through without data: keep what it has
            model._declared = found
        return model

    @classmethod
    def _naming(cls, data: dict[str, Any], key: str, obj: Resource) -> dict[str, Any]:
        """``data`` with the declared object ``obj`` given for ``key`` replaced by what the spec says."""
        return {**data, key: cls.names_prefix + obj.fqn}

    @property
    def declared(self) -> Resource | None:
        """The declared object this part names (given, or linked by name), else None."""
        return self._declared

    def link(self, obj: Resource) -> None:
        if self.declared is None:
            self._declared = obj
