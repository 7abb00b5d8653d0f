"""Shared parsing of SHOW tails: ``[LIKE '<p>'] [IN ...] [STARTS WITH '<s>'] [LIMIT <n> [FROM '<s>']]``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import access
from .catalog import Obj
from .context import Ctx
from .parser import Parser
from .results import like_match


@dataclass
class ShowFilter:
    like: str | None = None
    scope: str = "ACCOUNT"
    scope_key: tuple[str, ...] = ()
    starts_with: str | None = None
    limit: int | None = None
    explicit: bool = False
    ctx: Ctx | None = None  # whose privileges decide what is listed

    def sees(self, obj: Obj) -> bool:
        """SHOW lists only objects the roles hold a privilege on (MANAGE GRANTS: every object)."""
        return self.ctx is None or obj.kind == "ROLE" or access.visible(self.ctx, obj)

    def keep(self, name: str, key: tuple[str, ...] = ()) -> bool:
        # The scope first: it is the cheapest test and rules out most objects of a large account.
        if self.scope in ("DATABASE", "SCHEMA") and key[: len(self.scope_key)] != self.scope_key:
            return False
        if self.starts_with is not None and not name.startswith(self.starts_with):
            return False
        return self.like is None or like_match(self.like, name)

    def apply(self, objs: Iterable[Obj], name_of: str = "name") -> list[Obj]:
        out = [o for o in objs if self.keep(o.name if name_of == "name" else o.key[-1], o.key) and self.sees(o)]
        return out[: self.limit] if self.limit is not None else out


def parse_show_tail(ctx: Ctx, p: Parser, scopes: tuple[str, ...] = ("ACCOUNT", "DATABASE", "SCHEMA")) -> ShowFilter:
    f = ShowFilter(ctx=ctx)
    while not p.at_end():
        if p.accept_kw("LIKE"):
            f.like = p.string()
        elif p.accept_kw("STARTS", "WITH"):
            f.starts_with = p.string()
        elif p.accept_kw("LIMIT"):
            f.limit = p.integer()
            if p.accept_kw("FROM"):
                p.string()
        elif p.accept_kw("IN"):
            _parse_scope(ctx, p, f, scopes)
            f.explicit = True
        else:
            raise p.error()
    p.end()
    if not f.explicit and "DATABASE" in scopes and ctx.session.database:
        # Snowflake: without IN, the scope is the current database if one is in use, else the account.
        f.scope, f.scope_key = "DATABASE", (ctx.session.database,)
    return f


def _parse_scope(ctx: Ctx, p: Parser, f: ShowFilter, scopes: tuple[str, ...]) -> None:
    if p.accept_kw("ACCOUNT"):  # every SHOW accepts IN ACCOUNT, account-level kinds too (Titan sends it)
        f.scope = "ACCOUNT"
    elif p.at_kw("COMPUTE", "POOL") and "COMPUTE POOL" in scopes:
        p.accept_kw("COMPUTE", "POOL")
        f.scope = "COMPUTE POOL"
        f.scope_key = (p.ident(),)
        ctx.cat.require("COMPUTE POOL", f.scope_key)
    elif p.accept_kw("DATABASE") and "DATABASE" in scopes:
        f.scope = "DATABASE"
        if p.at_end() or p.peek().is_kw("LIKE", "STARTS", "LIMIT"):
            f.scope_key = ctx.schema_key(("X",), "SHOW")[:1]
        else:
            f.scope_key = p.name(1)
        ctx.cat.require("DATABASE", f.scope_key)
    elif "SCHEMA" in scopes:
        p.accept_kw("SCHEMA")
        f.scope = "SCHEMA"
        if p.at_end() or p.peek().is_kw("LIKE", "STARTS", "LIMIT"):
            f.scope_key = ctx.object_key(("X",), "SHOW")[:2]
        else:
            f.scope_key = ctx.schema_key(p.name(2), "SHOW")
        ctx.require_schema(*f.scope_key)
    else:
        raise p.error()
