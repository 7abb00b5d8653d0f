"""Statement handler registry: maps leading keyword sequences to handler functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import Ctx
    from .parser import Parser
    from .results import Result

Handler = Callable[["Ctx", "Parser"], "Result"]
HANDLERS: dict[tuple[str, ...], Handler] = {}


def handles(*prefixes: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more keyword prefixes, e.g. ``"CREATE COMPUTE POOL"``.

    The handler is called with the parser positioned *after* the prefix.
    """

    def deco(fn: Handler) -> Handler:
        for prefix in prefixes:
            HANDLERS[tuple(prefix.split())] = fn
        return fn

    return deco


def lookup(words: list[str]) -> tuple[int, Handler] | None:
    best: tuple[int, Any] | None = None
    for key, fn in HANDLERS.items():
        if tuple(words[: len(key)]) == key and (best is None or len(key) > best[0]):
            best = (len(key), fn)
    return best
