"""Crash-safe file writes shared by the state file and the local target's catalog."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, doc: Any) -> None:
    """Write JSON to a temporary file beside `path`, fsync it, then rename it over `path`.

    A reader (or a process killed mid-write) sees either the old file or the new one, never a torn one. A
    write that fails removes its temporary file: nothing else would, and each failed run would leave one.
    """
    tmp = path.with_suffix(f"{path.suffix}.tmp{os.getpid()}.{threading.get_ident()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
