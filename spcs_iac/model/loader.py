"""Load a stack from ``path/to/stack.py`` (module-level ``stack``) or ``module:attribute``."""

from __future__ import annotations

import importlib
import runpy
import sys
import traceback
from pathlib import Path

from spcs_iac.errors import SpcsIacError
from spcs_iac.model.stack import Stack


def load_stack(ref: str) -> Stack:
    path = Path(ref)
    if ref.endswith(".py") or path.is_file():
        if not path.is_file():
            raise SpcsIacError(f"stack file {ref} does not exist")
        sys.path.insert(0, str(path.resolve().parent))
        try:
            namespace = _run(lambda: runpy.run_path(str(path), run_name="__spcs_iac_stack__"), ref)
        finally:
            sys.path.pop(0)
        obj = namespace.get("stack")
        where = f"{ref} (module-level name 'stack')"
    else:
        module, _, attr = ref.partition(":")
        attr = attr or "stack"
        mod = _run(lambda: importlib.import_module(module), ref)
        obj = getattr(mod, attr, None)
        where = f"{module}:{attr}"
    if not isinstance(obj, Stack):
        raise SpcsIacError(f"{where} is not a Stack (found {type(obj).__name__}); define stack = Stack('name')")
    return obj


def _run(fn, ref: str):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except SpcsIacError:
        raise
    except Exception as exc:  # user code: report where, not a traceback
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "spcs_iac" not in f.filename]
        at = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        raise SpcsIacError(f"loading {ref} failed{at}: {type(exc).__name__}: {exc}") from None
