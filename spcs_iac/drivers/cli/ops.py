"""Operations on deployed objects: status, logs, suspend, resume, call, endpoints, the emulator.

These take an object name (``CONTAINER_HOL_DB.PUBLIC.CONVERT_API``) rather than a stack file: the
state files of the target say which stack manages it. ``--stack`` narrows the search.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from spcs_iac.drivers.cli.main import ConnectionOpt, StateDirOpt, app, guarded, out, provider_options
from spcs_iac.errors import SpcsIacError
from spcs_iac.model import identifiers as ids
from spcs_iac.state.store import DEFAULT_STATE_DIR, StateEntry, StateStore

NameArg = Annotated[str, typer.Argument(help="object name, e.g. DB.SCHEMA.SERVICE or a pool name")]
OpsTargetOpt = Annotated[str, typer.Option("--target", "-t", help="local (default) or snowflake")]
StackOpt = Annotated[str | None, typer.Option("--stack", "-s", help="stack file or module:attr to look in")]


def find_object(name: str, target: str, state_dir: str | None, stack: str | None) -> tuple[str, str, StateEntry]:
    """(stack name, address, entry) of the managed object called `name` on `target`."""
    import os

    directory = Path(state_dir or os.environ.get("SPCS_IAC_STATE_DIR") or DEFAULT_STATE_DIR)
    stacks: list[str]
    if stack:
        from spcs_iac.model.loader import load_stack

        stacks = [load_stack(stack).name]
    else:
        stacks = sorted(p.name[: -len(f".{target}.json")] for p in directory.glob(f"*.{target}.json"))
    hits: list[tuple[str, str, StateEntry]] = []
    for stack_name in stacks:
        store = StateStore(stack_name, target, directory)
        for address, entry in store.entries.items():
            if ids.name_matches(name, entry.name, address):
                hits.append((stack_name, address, entry))
    if not hits:
        raise SpcsIacError(
            f"no object named {name} is managed on target {target} (state files in {directory}); "
            "apply the stack first, or pass --stack / --state-dir"
        )
    if len(hits) > 1:
        raise SpcsIacError(f"{name} matches several objects: {', '.join(h[1] for h in hits)}; use the full address")
    return hits[0]


def _with_provider(name: str, target: str, state_dir: str | None, stack: str | None, connection: str | None,
                   action: Any) -> Any:
    from spcs_iac.drivers.api import get_provider

    stack_name, address, entry = find_object(name, target, state_dir, stack)
    provider = get_provider(target, stack_name, state_dir=state_dir, **provider_options(connection))
    try:
        method_name = action.__name__
        if not hasattr(provider, method_name.removeprefix("_op_")):
            raise SpcsIacError(f"target {target} does not support {method_name.removeprefix('_op_')}")
        return action(provider, entry)
    finally:
        provider.close()


# The columns worth a glance, in the spellings of both targets (SHOW SERVICE CONTAINERS and Docker).
STATUS_COLUMNS = ("instance_id", "instance", "container_name", "container", "status", "message", "restart_count",
                  "restarts", "image_name", "image", "ports", "last_exit_code")


@app.command()
def status(name: NameArg, target: OpsTargetOpt = "local", state_dir: StateDirOpt = None, stack: StackOpt = None,
           connection: ConnectionOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Status of a service, job, or compute pool: containers, states, endpoints."""

    def _op_status(provider: Any, entry: StateEntry) -> Any:
        return provider.status(entry.name)

    result = guarded(lambda: _with_provider(name, target, state_dir, stack, connection, _op_status))
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    # Providers answer with {"status", "containers": [...], "endpoints": {...}} or a list of container rows.
    info = result if isinstance(result, dict) else {"containers": result}
    rows = info.get("containers") or []
    if "status" in info:
        out.print(f"[bold]{name}[/bold]: {info['status']}")
    if rows:
        available = list(dict.fromkeys(k for r in rows for k in r))
        keys = [k for k in STATUS_COLUMNS if k in available] or available
        table = Table(*keys, box=None, show_lines=False, pad_edge=False)
        for r in rows:
            table.add_row(*[str(r.get(k, "")) for k in keys])
        out.print(table, width=max(out.width, 160))
    elif "status" not in info:
        out.print(f"{name}: no containers")
    for ep, url in (info.get("endpoints") or {}).items():
        out.print(f"  endpoint {ep}: {url}")


@app.command()
def logs(name: NameArg, container: Annotated[str | None, typer.Option("--container")] = None,
         instance: Annotated[int | None, typer.Option("--instance")] = None,
         lines: Annotated[int, typer.Option("--lines", "-n")] = 100,
         follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
         target: OpsTargetOpt = "local", state_dir: StateDirOpt = None, stack: StackOpt = None,
         connection: ConnectionOpt = None) -> None:
    """Container logs of a service or job."""

    def _op_logs(provider: Any, entry: StateEntry) -> Any:
        kwargs: dict[str, Any] = {"container": container, "lines": lines}
        if instance is not None:
            kwargs["instance"] = instance
        if follow:
            kwargs["follow"] = True
        return provider.logs(entry.name, **kwargs)

    result = guarded(lambda: _with_provider(name, target, state_dir, stack, connection, _op_logs))
    if isinstance(result, str):
        sys.stdout.write(result if result.endswith("\n") else result + "\n")
    elif result is not None:
        for chunk in result:
            sys.stdout.write(chunk if isinstance(chunk, str) else chunk.decode(errors="replace"))
            sys.stdout.flush()


def _state_op(verb: str):  # type: ignore[no-untyped-def]
    def command(name: NameArg, target: OpsTargetOpt = "local", state_dir: StateDirOpt = None,
                stack: StackOpt = None, connection: ConnectionOpt = None) -> None:
        def op(provider: Any, entry: StateEntry) -> Any:
            return getattr(provider, verb)(entry.kind, entry.name)

        op.__name__ = f"_op_{verb}"
        guarded(lambda: _with_provider(name, target, state_dir, stack, connection, op))
        out.print(f"{verb.title()}ed {name}." if verb == "suspend" else f"Resumed {name}.")

    command.__doc__ = f"{verb.title()} a service or a compute pool."
    return command


app.command("suspend")(_state_op("suspend"))
app.command("resume")(_state_op("resume"))


def parse_arg(text: str) -> Any:
    """CLI arguments are JSON values when they parse as such (12, 1.5, true, null), else strings."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@app.command()
def call(function: Annotated[str, typer.Argument(help="service function, e.g. DB.SCHEMA.CONVERT_UDF")],
         args: Annotated[list[str] | None, typer.Argument(help="argument values")] = None,
         target: OpsTargetOpt = "local", state_dir: StateDirOpt = None, stack: StackOpt = None,
         connection: ConnectionOpt = None) -> None:
    """Call a service function with one row of arguments and print the result."""
    values = [parse_arg(a) for a in args or []]

    def _op_call_function(provider: Any, entry: StateEntry) -> Any:
        return provider.call_function(entry.name.split("(")[0], [values])

    result = guarded(lambda: _with_provider(function, target, state_dir, stack, connection, _op_call_function))
    value = result[0] if isinstance(result, list) and len(result) == 1 else result
    sys.stdout.write((value if isinstance(value, str) else json.dumps(value)) + "\n")


@app.command()
def endpoints(name: NameArg, target: OpsTargetOpt = "local", state_dir: StateDirOpt = None,
              stack: StackOpt = None, connection: ConnectionOpt = None) -> None:
    """Endpoints of a service and where to reach them."""

    def _op_endpoints(provider: Any, entry: StateEntry) -> Any:
        return provider.endpoints(entry.name)

    result = guarded(lambda: _with_provider(name, target, state_dir, stack, connection, _op_endpoints))
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")


emulator_app = typer.Typer(help="The local Snowflake account emulator (for tests and trying the Snowflake target).")
app.add_typer(emulator_app, name="emulator")


@emulator_app.command("serve")
def emulator_serve(port: Annotated[int, typer.Option("--port")] = 8765,
                   latency_ms: Annotated[int, typer.Option("--latency-ms")] = 0,
                   registry_host: Annotated[str | None, typer.Option("--registry-host")] = None,
                   state: Annotated[str | None, typer.Option("--state", help="persist the catalog here")] = None,
                   ) -> None:
    """Serve Snowflake's HTTP query protocol on 127.0.0.1 for the real connector."""
    from spcs_emulator import serve

    kwargs: dict[str, Any] = {"port": port, "latency_ms": latency_ms, "state_file": state}
    if registry_host:
        kwargs["registry_host"] = registry_host
    guarded(lambda: serve(**kwargs))
