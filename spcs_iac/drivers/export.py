"""``spcs-iac export``: the objects an existing Snowflake account holds, written as a runnable stack file.

``export(connection=..., database=..., role=...)`` reads the account (:mod:`.export_read`), turns each object
into a declaration (:mod:`.export_decl`) and writes the file (:mod:`.export_render`): the same form as
``stacks/quickstart.py``, deterministic (sorted, variable names derived from object names), so exporting
an account that the file was applied to gives the file again. Applied with ``--adopt`` to the account it
came from, the file takes the objects over as they are.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from spcs_iac.drivers.export_decl import COVERAGE, NOT_EXPORTED, Declaration, Env, declare, variable_names
from spcs_iac.drivers.export_read import Inventory, one_line, read_account, repository_addresses
from spcs_iac.drivers.export_render import render
from spcs_iac.errors import SpcsIacError
from spcs_iac.model import identifiers as ids

__all__ = ["COVERAGE", "NOT_EXPORTED", "Export", "export", "export_account"]
WRAP = 106  # header comment lines, with "# ", within the project's 110 columns


@dataclass
class Export:
    text: str  # the stack file
    counts: dict[str, int] = field(default_factory=dict)  # kind -> objects written
    environment: list[str] = field(default_factory=list)  # variables the secrets' values come from
    notes: list[str] = field(default_factory=list)  # what was seen and not written, and why

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def export(target: str = "snowflake", *, database: str | None = None, role: str | None = None,
           stack_name: str = "exported", provider: Any = None, **provider_options: Any) -> Export:
    """Read the account a Snowflake connection reaches (as ``role``) and write its objects as a stack."""
    if target != "snowflake":
        raise SpcsIacError(f"export reads a Snowflake account: --target {target!r} is not one; use --target snowflake")
    own = provider is None
    if own:
        from spcs_iac.drivers.targets import get_provider

        options = dict(provider_options, **({"role": role} if role else {}))
        try:
            provider = get_provider("snowflake", stack_name, **options)
        except SpcsIacError as exc:
            raise SpcsIacError(one_line(exc)) from None
    try:
        return export_account(provider, database=database, stack_name=stack_name)
    finally:
        if own:
            provider.close()


def export_account(provider: Any, *, database: str | None = None, stack_name: str = "exported") -> Export:
    """The stack file of what ``provider`` (a Snowflake target) reads."""
    if not hasattr(provider, "reader") or not hasattr(provider, "db"):
        raise SpcsIacError("export reads a Snowflake account: the provider given is not the Snowflake target's")
    inventory = read_account(provider, database)
    decls, notes = declarations(inventory)
    env = sorted({v.variable for d in decls for _, v in d.args if isinstance(v, Env)})
    text = render(decls, stack_name=stack_name, header=_header(decls, env, notes, database))
    compile(text, "<spcs-iac export>", "exec")  # a bug here must never hand out a file that does not load
    return Export(text, dict(sorted(Counter(d.kind for d in decls).items())), env, notes)


def declarations(inventory: Inventory) -> tuple[list[Declaration], list[str]]:
    """One declaration per object; an object the model refuses is noted (with the model's reason)."""
    found = inventory.found
    notes = list(inventory.notes)
    while True:  # again without what was refused: references to it become names (a service goes with its repository)
        variables = variable_names(found)
        known = set(found)
        decls: list[Declaration] = []
        refused: dict[str, str] = {}
        repositories = repository_addresses(found)
        for address in sorted(found):
            missing = sorted(found[address].repository_paths() - set(repositories))
            if missing:
                refused[address] = (f"its specification names images in repository {', '.join(missing)}, which is "
                                    "not written (not in the account, or not one spcs-iac exports)")
                continue
            try:
                decls.append(declare(found[address], known, variables))
            except SpcsIacError as exc:
                refused[address] = one_line(exc)
        if not refused:
            break
        notes += [f"{address}: {reason}" for address, reason in refused.items()]
        found = {a: f for a, f in found.items() if a not in refused}
    return decls, sorted(set(notes))


def _header(decls: list[Declaration], env: list[str], notes: list[str], database: str | None) -> list[str]:
    scope = f" --database {ids.quote(ids.normalize(database))}" if database else ""
    paragraphs = [
        f"{len(decls)} objects read from a Snowflake account by `spcs-iac export{scope}`.",
        "Take them over as they are: `spcs-iac apply THIS_FILE --target snowflake --adopt` records them in the "
        "state (and sets each secret's value from its variable); later plans show what changed since.",
        f"Images are not written ({NOT_EXPORTED['image']}): push them there first to apply this file to another "
        "account.",
    ]
    lines: list[str] = []
    for text in paragraphs:
        lines += [*textwrap.wrap(text, WRAP), ""]
    if env:
        lines += ["Snowflake never shows a secret's value; set these before validate, plan or apply:",
                  *[f"    {v}" for v in env], ""]
    if notes:
        lines.append("Not written:")
        for note in notes:
            lines += textwrap.wrap(note, WRAP, initial_indent="  - ", subsequent_indent="    ")
    return lines[:-1] if lines and not lines[-1] else lines
