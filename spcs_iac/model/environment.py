"""Environments: one stack file, several deployments (dev, prod), each with its own config and state.

``spcs-iac plan stacks/app.py --env dev`` (or ``SPCS_IAC_ENV=dev``) reads ``stacks/app.dev.yaml`` before the
stack file runs. Inside the stack file::

    from spcs_iac import environment

    env = environment()                   # .name is "dev"; no --env gives a default environment
    size = env.get("warehouse_size", str, default="XSMALL")
    cfg = env.config(AppConfig)           # the whole file, checked against a pydantic model
    db = Database(name=env.named("APP_DB"))   # "DEV_APP_DB" with `prefix: DEV_` in the file

Names: the config file's ``prefix`` and ``suffix`` keys are put around a name by ``env.named(...)`` — the
documented way to keep two environments of one stack apart in one account. The stack's name gets the
environment appended (``app.dev``), so each environment has its own state and its own local containers.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from spcs_iac.errors import SpcsIacError

ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
T = TypeVar("T")
_MISSING: Any = object()


@dataclass
class Environment:
    name: str | None = None  # None: no --env given
    values: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the config file read

    def get(self, key: str, kind: type[T] = object, default: Any = _MISSING) -> T:  # type: ignore[assignment]
        """The value of ``key``, checked to be a ``kind`` (str, int, float, bool, list, dict)."""
        if key not in self.values:
            if default is not _MISSING:
                return default  # type: ignore[no-any-return]
            raise SpcsIacError(f"{self._where()}: the key {key!r} is missing; the stack needs it"
                               + (f" as a {kind.__name__}" if kind is not object else ""))
        value = self.values[key]
        if kind is not object and not _is(value, kind):
            raise SpcsIacError(f"{self._where()}: {key}: expected a {kind.__name__}, given {value!r} "
                               f"({type(value).__name__})")
        return value  # type: ignore[no-any-return]

    def config(self, model: type[T]) -> T:
        """The whole file as an instance of a pydantic model: every missing key and wrong type named."""
        from pydantic import BaseModel, ValidationError

        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise SpcsIacError("environment().config(...) takes a pydantic model class")
        try:
            return model.model_validate(self.values)  # type: ignore[return-value]
        except ValidationError as exc:
            lines = []
            for err in exc.errors(include_url=False):
                key = ".".join(str(p) for p in err.get("loc", ())) or "(file)"
                given = "" if err.get("type") == "missing" else f", given {err.get('input')!r}"
                lines.append(f"{key}: {err.get('msg', 'invalid')}{given}")
            raise SpcsIacError(f"{self._where()}: " + "; ".join(lines)) from None

    def named(self, name: str) -> str:
        """``name`` with this environment's ``prefix`` and ``suffix`` from its config file."""
        return f"{self.get('prefix', str, '')}{name}{self.get('suffix', str, '')}"

    def _where(self) -> str:
        return f"environment {self.name} ({self.source})" if self.source else f"environment {self.name or '(none)'}"


_current: list[Environment] = [Environment()]


def environment() -> Environment:
    """The environment the stack is being loaded for (see the module's documentation)."""
    return _current[-1]


def config_path(stack_file: Path, env: str) -> Path:
    return stack_file.with_name(f"{stack_file.stem}.{env}.yaml")


def read_environment(stack_file: Path | None, env: str) -> Environment:
    """Read ``<stack>.<env>.yaml`` beside the stack file (a missing file is an error: a typo in --env
    must not deploy with no config)."""
    if not ENV_NAME.match(env):
        raise SpcsIacError(f"--env {env!r}: letters, digits, '_' or '-', at most 32, starting with a letter or digit")
    if stack_file is None:
        return Environment(env, {}, None)
    path = config_path(stack_file, env)
    if not path.is_file():
        others = sorted(p.name for p in stack_file.parent.glob(f"{stack_file.stem}.*.yaml"))
        raise SpcsIacError(f"environment {env}: no config file {path}"
                           + (f" (found: {', '.join(others)})" if others else ""))
    from spcs_iac.model import yamlsafe

    try:
        values = yamlsafe.load(path.read_text(encoding="utf-8"), str(path))
    except (OSError, ValueError) as exc:
        raise SpcsIacError(f"environment {env}: {exc}") from None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise SpcsIacError(f"environment {env} ({path}): expected a mapping of keys to values, given a "
                           f"{type(values).__name__}")
    return Environment(env, values, str(path))


@contextlib.contextmanager
def active(env: Environment) -> Iterator[Environment]:
    _current.append(env)
    try:
        yield env
    finally:
        _current.pop()


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
