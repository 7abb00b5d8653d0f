"""State size per object: the state file after applying generated stacks of 1k / 5k / 10k objects.

Run: PYTHONPATH=. python bench/bench_state.py [--sizes 1000 5000 10000] [--roles 5]
Each object depends on the grants that give its owner role its privileges; the state keeps each such set
once ("dependency_sets"), so the bytes per object stay flat as the stack grows. ``--roles`` sets how many
owner roles the generated stack has (None = one role per block: the worst shape). Uses the in-memory
target from tests/support. Never asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.generated import generated_stack
from spcs_iac.drivers import api
from tests.support.memory_provider import MemoryProvider, MemoryTarget


def state_size(n: int, roles: int | None) -> tuple[int, int, int]:
    """(objects, state bytes, longest recorded depends_on) after applying about n objects."""
    stack = generated_stack(n, fixed=roles)
    with tempfile.TemporaryDirectory() as d:
        result = api.apply(stack, "memory", provider=MemoryProvider(target=MemoryTarget()), state_dir=d)
        assert result.ok, result.failed
        path = next(Path(d).rglob("*.memory.json"))
        doc = json.loads(path.read_text())
        longest = max((len(r.get("depends_on") or []) for r in doc["resources"].values()), default=0)
        return len(stack), path.stat().st_size, longest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    ap.add_argument("--roles", type=int, default=5)
    args = ap.parse_args()
    for n in args.sizes:
        objects, size, longest = state_size(n, args.roles)
        print(f"state {objects:>6} objects: {size / 2**20:6.2f} MiB, {size / objects:6.0f} bytes per object, "
              f"longest depends_on written {longest}")


if __name__ == "__main__":
    main()
