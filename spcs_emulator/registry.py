"""Statement handler registry: maps leading keyword sequences to handler functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Ctx
    from .parser import Parser
    from .results import Result

Handler = Callable[["Ctx", "Parser"], "Result"]
HANDLERS: dict[tuple[str, ...], Handler] = {}
_longest = [0]  # the most words of any registered prefix


def handles(*prefixes: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more keyword prefixes, e.g. ``"CREATE COMPUTE POOL"``.

    The handler is called with the parser positioned *after* the prefix.
    """

    def deco(fn: Handler) -> Handler:
        for prefix in prefixes:
            HANDLERS[tuple(prefix.split())] = fn
            _longest[0] = max(_longest[0], len(prefix.split()))
        return fn

    return deco


def lookup(words: list[str]) -> tuple[int, Handler] | None:
    """The handler of the longest registered prefix of ``words``, with that prefix's length."""
    for n in range(min(_longest[0], len(words)), 0, -1):
        fn = HANDLERS.get(tuple(words[:n]))
        if fn is not None:
            return n, fn
    return None
