"""Use spcs-iac from Python: plan, apply, call the service function, destroy.

    python examples/programmatic.py            # local target (Docker)
    python examples/programmatic.py snowflake  # a Snowflake account (SNOWFLAKE_* env or connections.toml)
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from spcs_iac.drivers import api
from spcs_iac.drivers.api import get_provider

ROOT = Path(__file__).resolve().parent.parent
target = sys.argv[1] if len(sys.argv) > 1 else "local"
stack = runpy.run_path(str(ROOT / "stacks" / "quickstart.py"))["stack"]

plan = api.plan(stack, target)
print("planned:", plan.summary())
for change in plan.actionable:
    print(f"  {change.action.value:8} {change.address}")

result = api.apply(stack, target, parallelism=8, log=print)
if not result.ok:
    sys.exit(f"apply failed: {result.failed}")

provider = get_provider(target, stack.name)
try:
    print("CONVERT_UDF(12) =", provider.call_function("CONTAINER_HOL_DB.PUBLIC.CONVERT_UDF", [[12]]))
finally:
    provider.close()

assert not api.plan(stack, target).has_changes, "a second plan should be empty"
if "--keep" not in sys.argv:
    api.destroy(stack, target)
