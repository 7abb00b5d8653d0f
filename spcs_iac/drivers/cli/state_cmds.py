"""``spcs-iac state ...`` and ``spcs-iac import``: look at and edit a stack's state without touching objects."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from spcs_iac.drivers.cli.main import (
    ConnectionOpt,
    LockTimeoutOpt,
    StackArg,
    StateDirOpt,
    StateOpt,
    TargetOpt,
    _api,
    _load,
    app,
    guarded,
    out,
    provider_options,
)
from spcs_iac.errors import SpcsIacError

state_app = typer.Typer(help="Inspect and edit a stack's state (objects in the target are never touched).",
                        no_args_is_help=True)
app.add_typer(state_app, name="state")
AddressArg = Annotated[str, typer.Argument(help="an address as `state list` shows it, e.g. warehouse.APP_WH")]


def _with_state(stack: str, target: str | None, state: str | None, state_dir: str | None,
                connection: str | None, fn: Any, *, lock: str | None = None, lock_timeout: float = 0.0,
                strict: bool = True) -> Any:
    def body() -> Any:
        s, tgt = _load(stack, target)
        with _api().stack_state(s, tgt, state=state, state_dir=state_dir, strict=strict,
                                **provider_options(connection)) as store:
            if lock is None:
                return fn(s, store)
            with store.locked(lock, wait=lock_timeout):
                return fn(s, store)

    return guarded(body)


def _entry(store: Any, address: str) -> Any:
    entry = store.get(address)
    if entry is None:
        known = ", ".join(sorted(store.entries)[:20]) or "none"
        raise SpcsIacError(f"no object {address} in the state of stack {store.stack} on {store.target}; "
                           f"known: {known}")
    return entry


@state_app.command("list")
def state_list(stack: StackArg, target: TargetOpt = None, state: StateOpt = None, state_dir: StateDirOpt = None,
               connection: ConnectionOpt = None) -> None:
    """The addresses the state holds, with their names in the target."""

    def run(_: Any, store: Any) -> None:
        width = max((len(a) for a in store.entries), default=0)
        for address, entry in sorted(store.entries.items()):  # plain lines: never cut, easy to grep
            sys.stdout.write(f"{address:<{width}}  {entry.name}{'  owner ' + entry.owner if entry.owner else ''}\n")
        out.print(f"{len(store.entries)} objects, serial {store.serial}, in {store.url}")

    _with_state(stack, target, state, state_dir, connection, run)


@state_app.command("show")
def state_show(stack: StackArg, address: AddressArg, target: TargetOpt = None, state: StateOpt = None,
               state_dir: StateDirOpt = None, connection: ConnectionOpt = None) -> None:
    """One entry as JSON (secrets are only ever kept as salted hashes)."""
    from dataclasses import asdict

    def run(_: Any, store: Any) -> None:
        sys.stdout.write(json.dumps(asdict(_entry(store, address)), indent=2, default=str) + "\n")

    _with_state(stack, target, state, state_dir, connection, run)


@state_app.command("rm")
def state_rm(stack: StackArg, addresses: Annotated[list[str], typer.Argument(help="addresses to forget")],
             target: TargetOpt = None, state: StateOpt = None, state_dir: StateDirOpt = None,
             connection: ConnectionOpt = None, lock_timeout: LockTimeoutOpt = 0.0) -> None:
    """Forget objects: the stack stops managing them; nothing is deleted in the target."""

    def run(_: Any, store: Any) -> None:
        for address in addresses:
            _entry(store, address)
        for address in addresses:
            store.forget(address)
            out.print(f"Forgot {address} (the object itself was not touched).")

    _with_state(stack, target, state, state_dir, connection, run, lock="state rm", lock_timeout=lock_timeout)


@state_app.command("mv")
def state_mv(stack: StackArg, old: AddressArg, new: Annotated[str, typer.Argument(help="the new address")],
             target: TargetOpt = None, state: StateOpt = None, state_dir: StateDirOpt = None,
             connection: ConnectionOpt = None, lock_timeout: LockTimeoutOpt = 0.0) -> None:
    """Record an object under another address (after renaming its declaration), so it is not re-created."""

    def run(_: Any, store: Any) -> None:
        entry = _entry(store, old)
        if new in store.entries:
            raise SpcsIacError(f"{new} is already in the state; `state rm` it first if that is intended")
        kind = new.split(".", 1)[0]
        if kind != entry.kind:
            raise SpcsIacError(f"{new} is an address of kind {kind!r}, but {old} is a {entry.kind}")
        store.forget(old)
        store.record(new, entry)
        for other, e in list(store.entries.items()):  # what depended on the old address follows it
            if old in e.depends_on:
                e.depends_on = [new if d == old else d for d in e.depends_on]
                store.record(other, e)
        out.print(f"Moved {old} to {new}.")

    _with_state(stack, target, state, state_dir, connection, run, lock="state mv", lock_timeout=lock_timeout)


@state_app.command("pull")
def state_pull(stack: StackArg, target: TargetOpt = None, state: StateOpt = None, state_dir: StateDirOpt = None,
               connection: ConnectionOpt = None) -> None:
    """Print the state as one JSON document."""
    _with_state(stack, target, state, state_dir, connection,
                lambda _, store: sys.stdout.write(json.dumps(store.document(), indent=2, default=str) + "\n"))


@state_app.command("push")
def state_push(stack: StackArg, document: Annotated[Path, typer.Argument(help="a document from `state pull`")],
               force: Annotated[bool, typer.Option("--force", help="replace a newer state")] = False,
               target: TargetOpt = None, state: StateOpt = None, state_dir: StateDirOpt = None,
               connection: ConnectionOpt = None, lock_timeout: LockTimeoutOpt = 0.0) -> None:
    """Replace the state with a document (e.g. to move a stack between backends)."""
    from spcs_iac.state.backend import entries_from_document

    def run(_: Any, store: Any) -> None:
        try:
            doc = json.loads(document.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SpcsIacError(f"{document}: not a state document ({exc})") from None
        serial, entries = entries_from_document(doc, store.stack, store.target)
        if serial < store.serial and not force:
            raise SpcsIacError(f"{document} is serial {serial}, older than the state's {store.serial}: pushing it "
                               "would lose what was recorded since; pass --force if that is intended")
        store.replace_all(entries)
        out.print(f"State of {store.stack} on {store.target} replaced: {len(entries)} objects.")

    # --force also replaces a state too damaged to read (the recovery the damage message suggests)
    _with_state(stack, target, state, state_dir, connection, run, lock="state push", lock_timeout=lock_timeout,
                strict=not force)


@state_app.command("history")
def state_history(stack: StackArg, target: TargetOpt = None, state: StateOpt = None, state_dir: StateDirOpt = None,
                  connection: ConnectionOpt = None) -> None:
    """The versions of the state, oldest first."""
    from spcs_iac.state.backend import iter_versions

    def run(_: Any, store: Any) -> None:
        for line in iter_versions(store.history()):
            out.print(line)

    _with_state(stack, target, state, state_dir, connection, run)


@state_app.command("rebuild")
def state_rebuild(stack: StackArg, target: TargetOpt = None, state: StateOpt = None, state_dir: StateDirOpt = None,
                  connection: ConnectionOpt = None, lock_timeout: LockTimeoutOpt = 0.0) -> None:
    """Recover a lost state from the target: take back the declared objects that carry this stack's marker
    (nothing in the target is changed or deleted)."""

    def body() -> None:
        s, tgt = _load(stack, target)
        found = _api().rebuild_state(s, tgt, state=state, state_dir=state_dir, lock_timeout=lock_timeout,
                                     **provider_options(connection))
        out.print(f"Recovered {len(found.taken) + len(found.unmarked)} objects of stack {s.name} on {tgt}.")
        if found.unmarked:
            out.print(f"  taken as declared (the target keeps no marker for them): {', '.join(found.unmarked)}")
        for address, other in sorted(found.foreign.items()):
            out.print(f"  left out: {address} belongs to stack {other}")
        if found.missing:
            out.print(f"  not in the target (the next apply creates them): {', '.join(found.missing)}")

    guarded(body)


@app.command("import")
def import_object(stack: StackArg, address: AddressArg, target: TargetOpt = None, state: StateOpt = None,
                  state_dir: StateDirOpt = None, connection: ConnectionOpt = None,
                  lock_timeout: LockTimeoutOpt = 0.0) -> None:
    """Adopt one object that exists in the target: record it in the state as it is (nothing is changed;
    the next plan shows how it differs from the declaration)."""

    def body() -> None:
        s, tgt = _load(stack, target)
        entry = _api().import_object(s, tgt, address, state=state, state_dir=state_dir, lock_timeout=lock_timeout,
                                     **provider_options(connection))
        out.print(f"Imported {address} ({entry.name}); `spcs-iac plan` shows what differs from the declaration.")

    guarded(body)
