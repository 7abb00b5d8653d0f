"""Resource amounts as the spec writes them (reference §14.2, "About units"): memory with a unit, cpu in vCPU."""

from __future__ import annotations

import re
from typing import Any

GIB = 1024**3
UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": GIB, "Ti": 1024**4, "k": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
MEMORY_AMOUNT = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)$")


def memory_bytes(value: Any) -> int:
    """``512Mi`` -> bytes; the spec's own validation has already refused any other form."""
    m = MEMORY_AMOUNT.match(str(value))
    if not m:
        raise ValueError(f"memory {value!r} needs a unit; allowed forms like 512Mi, 6Gi, 1G")
    return int(float(m.group(1)) * UNITS[m.group(2)])


def vcpus(value: Any) -> float:
    """``500m`` -> 0.5, ``2`` -> 2.0."""
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
