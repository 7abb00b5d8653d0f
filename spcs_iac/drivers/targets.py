"""The targets by name, and the provider of one: loaded only when asked for.

Kept apart from the API module so that commands which only reach one object through its provider
(``status``, ``logs``, ``endpoints``, ``call``, ``suspend``, ``resume``) do not load the planner, the
executor and the graph library.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import SpcsIacError

if TYPE_CHECKING:
    from spcs_iac.plan.target import Provider

# target name -> "module:factory"; factories take (stack_name, **options) and return a Provider.
TARGETS = {
    "local": "spcs_iac.targets.local.provider:LocalProvider",
    "snowflake": "spcs_iac.targets.snowflake.provider:SnowflakeProvider",
}


def known_targets() -> dict[str, str]:
    """Built-in targets plus plugins from SPCS_IAC_TARGETS ("name=module:factory,...")."""
    out = dict(TARGETS)
    for item in filter(None, os.environ.get("SPCS_IAC_TARGETS", "").split(",")):
        name, _, spec = item.partition("=")
        out[name.strip()] = spec.strip()
    return out


def get_provider(target: str, stack_name: str, **options: Any) -> Provider:
    spec = known_targets().get(target)
    if spec is None:
        raise SpcsIacError(f"target {target!r} is not known; allowed: {', '.join(known_targets())}")
    module, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise SpcsIacError(f"target {target!r} cannot be loaded from {spec}: {exc}") from None
    return factory(stack_name=stack_name, **options)
