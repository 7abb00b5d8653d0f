"""Load a stack from ``path/to/stack.py`` (module-level ``stack``) or ``module:attribute``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import runpy
import sys
import traceback
from importlib.machinery import ModuleSpec
from pathlib import Path

from pydantic import ValidationError

from spcs_iac.errors import DeclarationError, SpcsIacError
from spcs_iac.model.environment import Environment, active, read_environment
from spcs_iac.model.stack import Stack


def load_stack(ref: str, env: str | None = None) -> Stack:
    """The stack a file or module defines; with ``env`` (or ``SPCS_IAC_ENV``), loaded for that environment:
    its config file is read first, and the stack's name gets the environment (its own state)."""
    env = env or os.environ.get("SPCS_IAC_ENV") or None
    path = Path(ref)
    is_file = ref.endswith(".py") or path.is_file()
    if is_file and not path.is_file():
        raise SpcsIacError(f"stack file {ref} does not exist")
    module, _, attr = ref.partition(":")
    spec = None if is_file else _run(lambda: _find_module(module), ref)
    if not is_file and spec is None:  # neither: say what a stack reference is, not importlib's words
        what = "a directory" if path.is_dir() else "neither a file nor an importable module"
        raise SpcsIacError(f"stack {ref!r} is {what}; give path/to/stack.py or module:attribute")
    source = path if is_file else Path(spec.origin) if spec is not None and spec.origin else None
    environment = read_environment(source, env) if env else Environment()
    with active(environment):
        if is_file:
            sys.path.insert(0, str(path.resolve().parent))
            try:
                namespace = _run(lambda: runpy.run_path(str(path), run_name="__spcs_iac_stack__"), ref)
            finally:
                sys.path.pop(0)
            obj = namespace.get("stack")
            where = f"{ref} (module-level name 'stack')"
        else:
            attr = attr or "stack"
            if env:  # a module loaded before (another environment) must run again for this one
                sys.modules.pop(module, None)
            mod = _run(lambda: importlib.import_module(module), ref)
            obj = getattr(mod, attr, None)
            where = f"{module}:{attr}"
    if not isinstance(obj, Stack):
        raise SpcsIacError(f"{where} is not a Stack (found {type(obj).__name__}); define stack = Stack('name')")
    if env and obj.environment is None:
        obj.name, obj.environment = f"{obj.name}.{env}", env
    return obj


def _find_module(module: str) -> ModuleSpec | None:
    try:
        return importlib.util.find_spec(module) if module else None
    except (ModuleNotFoundError, ValueError):  # a parent package missing, a name like '/some/dir' or '.x'
        return None


def _run(fn, ref: str):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except SpcsIacError:
        raise
    except SystemExit as exc:  # sys.exit() in a stack file would end the CLI without a word
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "spcs_iac" not in f.filename]
        at = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        raise SpcsIacError(f"loading {ref} failed{at}: the stack called sys.exit({exc.code!r})") from None
    except Exception as exc:  # user code: report where, not a traceback
        frames = [f for f in traceback.extract_tb(exc.__traceback__)  # the user's line, not library internals
                  if "spcs_iac" not in f.filename and "-packages" not in f.filename and not f.filename.startswith("<")]
        at = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        if isinstance(exc, ValidationError):  # e.g. ServiceSpec.from_file: our message, not pydantic's (and its URL)
            raise SpcsIacError(f"loading {ref} failed{at}: {DeclarationError.from_pydantic(exc.title, {}, exc)}") \
                from None
        raise SpcsIacError(f"loading {ref} failed{at}: {type(exc).__name__}: {exc}") from None
