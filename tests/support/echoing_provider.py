"""The in-memory target, except that creating a secret fails the way a server does that quotes the
statement it got: the value as a SQL literal (quotes and backslashes doubled), cut short. Before failing
it says, as a slow operation does, what it is doing with the value. Registered for subprocess and plugin
tests as ``echo=tests.support.echoing_provider:EchoingProvider``."""

from __future__ import annotations

from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.plan.model import Change
from spcs_iac.plan.target import ApplyContext
from tests.support.memory_provider import MemoryProvider


class EchoingProvider(MemoryProvider):
    target = "echo"

    def create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind != "secret":
            return super().create(change, ctx)
        literal = ids.string_literal(str(change.resource.secret_string))  # type: ignore[union-attr]
        if ctx.log is not None:
            ctx.log(f"  creating with SECRET_STRING = {literal}")
        raise ProviderError(f"syntax error at position 40 near {literal[:24]}")
