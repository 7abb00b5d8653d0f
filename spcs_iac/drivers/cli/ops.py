"""Operations on deployed objects: status, logs, suspend, resume, call, endpoints, the emulator.

These take an object name (``CONTAINER_HOL_DB.PUBLIC.CONVERT_API``) rather than a stack file: the
state files of the target say which stack manages it. ``--stack`` narrows the search.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from spcs_iac.drivers.cli.main import ConnectionOpt, StateDirOpt, app, guarded, out, provider_options, styled
from spcs_iac.errors import SpcsIacError
from spcs_iac.model import identifiers as ids

if TYPE_CHECKING:  # loaded by the commands that use them (`--help` stays quick)
    from spcs_iac.state.store import StateEntry

NameArg = Annotated[str, typer.Argument(help="object name, e.g. DB.SCHEMA.SERVICE or a pool name")]
OpsTargetOpt = Annotated[str, typer.Option("--target", "-t", help="local (default) or snowflake")]
StackOpt = Annotated[str | None, typer.Option("--stack", "-s", help="stack file or module:attr to look in")]
PulumiStackOpt = Annotated[str | None, typer.Option(
    "--pulumi-stack", help="look in this Pulumi stack (objects Pulumi manages; run where its project is)")]


def find_object(name: str, target: str, state_dir: str | None, stack: str | None) -> tuple[str, str, StateEntry]:
    """(stack name, address, entry) of the managed object called `name` on `target`."""
    import os

    from spcs_iac.state.store import DEFAULT_STATE_DIR, StateEntry, StateStore

    directory = Path(state_dir or os.environ.get("SPCS_IAC_STATE_DIR") or DEFAULT_STATE_DIR)
    stacks: list[str]
    if stack:
        from spcs_iac.model.loader import load_stack

        stacks = [load_stack(stack).name]
    else:
        stacks = sorted(p.name[: -len(f".{target}.json")] for p in directory.glob(f"*.{target}.json"))
    entries, pending = [], []
    for stack_name in stacks:
        store = StateStore(stack_name, target, directory)
        entries += [(stack_name, address, entry) for address, entry in store.entries.items()]
        # Creates that did not finish (a service that never became READY) still have a status and logs.
        pending += [(stack_name, a, StateEntry(kind=a.split(".", 1)[0], name=a.split(".", 1)[1]))
                    for a in sorted(getattr(store, "pending", ())) if a not in store.entries]
    hits: list[tuple[str, str, StateEntry]] = []
    for candidates in (entries, pending):
        for bare in (False, True):  # the full name first; a short name (CONVERT_UDF) when it is unambiguous
            hits = hits or [h for h in candidates if ids.name_matches(name, h[2].name, h[1], bare=bare)]
    if not hits:
        raise SpcsIacError(
            f"no object named {name} is managed on target {target} (state files in {directory}); "
            "apply the stack first, or pass --stack / --state-dir"
        )
    if len(hits) > 1:
        raise SpcsIacError(f"{name} matches several objects: {', '.join(h[1] for h in hits)}; use the full address")
    return hits[0]


def _with_provider(name: str, target: str, state_dir: str | None, stack: str | None, connection: str | None,
                   action: Any, pulumi_stack: str | None = None) -> Any:
    from spcs_iac.drivers.targets import get_provider

    if pulumi_stack:
        from spcs_iac.drivers.pulumi.lookup import find_pulumi_object

        found = find_pulumi_object(name, pulumi_stack)
        stack_name, entry, target, state_dir = found.stack, found.entry, found.target, state_dir or found.state_dir
    else:
        stack_name, _address, entry = find_object(name, target, state_dir, stack)
    provider = get_provider(target, stack_name, state_dir=state_dir, **provider_options(connection))
    try:
        method_name = action.__name__
        if not hasattr(provider, method_name.removeprefix("_op_")):
            raise SpcsIacError(f"target {target} does not support {method_name.removeprefix('_op_')}")
        return action(provider, entry)
    finally:
        provider.close()


# The columns worth a glance, in the spellings of both targets (SHOW SERVICE CONTAINERS and Docker).
STATUS_COLUMNS = ("object", "instance_id", "instance", "container_name", "container", "status", "message",
                  "restart_count", "restarts", "last_exit_code", "docker_state", "state", "image_name", "image",
                  "ports")


@app.command()
def status(name: NameArg, target: OpsTargetOpt = "local", state_dir: StateDirOpt = None, stack: StackOpt = None,
           connection: ConnectionOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False,
           pulumi_stack: PulumiStackOpt = None) -> None:
    """Status of a service, job, or compute pool: containers, states, endpoints."""

    def _op_status(provider: Any, entry: StateEntry) -> Any:
        return provider.status(entry.name)

    result = guarded(lambda: _with_provider(name, target, state_dir, stack, connection, _op_status, pulumi_stack))
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    # Providers answer with {"status", "containers": [...], "endpoints": {...}} or a list of container rows.
    info = result if isinstance(result, dict) else {"containers": result}
    rows = info.get("containers") or []
    if "status" in info:
        ready = f" ({info['ready_instances']} instances ready)" if info.get("ready_instances") else ""
        out.print(styled(name, "bold") + styled(f": {info['status']}{ready}"))
    _status_details(info)
    if rows:
        available = list(dict.fromkeys(k for r in rows for k in r))
        keys = [k for k in STATUS_COLUMNS if k in available] or available
        table = Table(*keys, box=None, show_lines=False, pad_edge=False)
        cells = [[str(r.get(k, "")) for k in keys] for r in rows]
        for row in cells:
            table.add_row(*row)
        # As wide as the widest row needs: a status table is read, not fitted into a terminal.
        needed = sum(max(len(k), *(len(row[i]) for row in cells)) + 1 for i, k in enumerate(keys))
        Console(highlight=False, width=max(out.width, needed)).print(table)
    elif "status" not in info:
        out.print(f"{name}: no containers")


def _status_details(info: dict[str, Any]) -> None:
    """DNS name, endpoints, a pool's services and the problems, above the container table."""
    if info.get("dns_name"):
        out.print(f"  DNS name: {info['dns_name']}")
    for ep, url in (info.get("endpoints") or {}).items():
        out.print(f"  public endpoint {ep}: {url}")
    for ep, where in (info.get("private_endpoints") or {}).items():
        out.print(f"  private endpoint {ep}: {where} (reachable from the services of the pool)")
    if "services" in info:
        names = [s if isinstance(s, str) else f"{s.get('name')} ({s.get('status') or 'RUNNING'})"
                 for s in info["services"]]
        out.print(f"  services: {', '.join(names) or '(none)'}")
    if "exit_codes" in info:
        out.print(f"  exit codes: {info['exit_codes']}")
    for problem in info.get("problems") or []:
        out.print(styled(f"  problem: {problem}", "red"))


@app.command()
def logs(name: NameArg, container: Annotated[str | None, typer.Option("--container")] = None,
         instance: Annotated[int | None, typer.Option("--instance")] = None,
         lines: Annotated[int, typer.Option("--lines", "-n")] = 100,
         follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
         target: OpsTargetOpt = "local", state_dir: StateDirOpt = None, stack: StackOpt = None,
         connection: ConnectionOpt = None, pulumi_stack: PulumiStackOpt = None) -> None:
    """Container logs of a service or job."""

    def _op_logs(provider: Any, entry: StateEntry) -> Any:
        kwargs: dict[str, Any] = {"container": container, "lines": lines}
        if instance is not None:
            kwargs["instance"] = instance
        if follow:
            kwargs["follow"] = True
        return provider.logs(entry.name, **kwargs)

    result = guarded(lambda: _with_provider(name, target, state_dir, stack, connection, _op_logs, pulumi_stack))
    if isinstance(result, str):
        sys.stdout.write(result if result.endswith("\n") else result + "\n")
    elif result is not None:
        try:
            for chunk in result:
                sys.stdout.write(chunk if isinstance(chunk, str) else chunk.decode(errors="replace"))
                sys.stdout.flush()
        except KeyboardInterrupt:  # the usual way to stop following
            pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _state_op(verb: str):  # type: ignore[no-untyped-def]
    def command(name: NameArg, target: OpsTargetOpt = "local", state_dir: StateDirOpt = None,
                stack: StackOpt = None, connection: ConnectionOpt = None, pulumi_stack: PulumiStackOpt = None) -> None:
        def op(provider: Any, entry: StateEntry) -> Any:
            return getattr(provider, verb)(entry.kind, entry.name)

        op.__name__ = f"_op_{verb}"
        guarded(lambda: _with_provider(name, target, state_dir, stack, connection, op, pulumi_stack))
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
def call(function: Annotated[str, typer.Argument(help="service function: DB.SCHEMA.NAME, or NAME if unambiguous")],
         args: Annotated[list[str] | None, typer.Argument(
             help="argument values; more values than arguments make several rows")] = None,
         file: Annotated[str | None, typer.Option(
             "--file", "-f", help="rows from a CSV or JSON file ('-' reads stdin)")] = None,
         fmt: Annotated[str | None, typer.Option("--format", help="csv or json (default: from the file name or "
                                                                   "content)")] = None,
         target: OpsTargetOpt = "local", state_dir: StateDirOpt = None, stack: StackOpt = None,
         connection: ConnectionOpt = None, pulumi_stack: PulumiStackOpt = None) -> None:
    """Call a service function on one or many rows, sent in batches of its MAX_BATCH_ROWS; prints one result
    per row."""

    def _op_call_function(provider: Any, entry: StateEntry) -> Any:
        arguments = [str(a[0]) for a in entry.props.get("arguments") or []]
        if file is not None:
            if args:
                raise SpcsIacError("give argument values or --file, not both")
            rows = read_rows(file, fmt, arguments)
        else:
            rows = rows_from_args([parse_arg(a) for a in args or []], arguments, entry.name)
        return provider.call_function(entry.name.split("(")[0], rows)

    results = guarded(lambda: _with_provider(function, target, state_dir, stack, connection, _op_call_function,
                                             pulumi_stack))
    for value in results if isinstance(results, list) else [results]:
        sys.stdout.write((value if isinstance(value, str) else json.dumps(value)) + "\n")


def rows_from_args(values: list[Any], arguments: list[str], function: str) -> list[list[Any]]:
    """``a b c d`` for a two-argument function: the rows [a, b] and [c, d]."""
    if not arguments:
        if values:
            raise SpcsIacError(f"function {function} takes no arguments; given {len(values)} value(s)")
        return [[]]
    if not values or len(values) % len(arguments):
        raise SpcsIacError(f"function {function} takes {len(arguments)} argument(s) ({', '.join(arguments)}); "
                           f"{len(values)} value(s) do not make whole rows")
    n = len(arguments)
    return [values[i:i + n] for i in range(0, len(values), n)]


def read_rows(source: str, fmt: str | None, arguments: list[str]) -> list[list[Any]]:
    """Rows from a CSV file (a header row naming the arguments is skipped; empty fields are NULL) or JSON
    (an array of rows, of values for a one-argument function, or of objects keyed by argument name; or one
    such item per line)."""
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise SpcsIacError(f"--file {source}: {exc.strerror or exc}") from None
    kind = (fmt or ("json" if source.endswith((".json", ".jsonl")) or text.lstrip()[:1] in ("[", "{")
                    else "csv")).lower()
    if kind == "csv":
        import csv
        import io

        rows = [list(r) for r in csv.reader(io.StringIO(text)) if r]
        if rows and [c.strip().upper() for c in rows[0]] == [a.upper() for a in arguments]:
            rows = rows[1:]
        return [[None if c == "" else c for c in r] for r in rows]
    if kind != "json":
        raise SpcsIacError(f"--format {fmt}: allowed csv or json")
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise SpcsIacError(f"--file {source}: not JSON ({exc})") from None
    items = data if isinstance(data, list) else [data]
    wanted = [a.upper() for a in arguments]
    rows = []
    for item in items:
        if isinstance(item, dict):
            keyed = {str(k).upper(): v for k, v in item.items()}
            missing = [a for a in wanted if a not in keyed]
            if missing:
                raise SpcsIacError(f"--file {source}: row {item!r} has no value for {', '.join(missing)}")
            rows.append([keyed[a] for a in wanted])
        elif isinstance(item, list) and (len(arguments) != 1 or len(item) == 1):
            rows.append(item)
        else:  # a bare value (or an ARRAY value) of a one-argument function
            rows.append([item])
    return rows


@app.command()
def endpoints(name: NameArg, target: OpsTargetOpt = "local", state_dir: StateDirOpt = None,
              stack: StackOpt = None, connection: ConnectionOpt = None, pulumi_stack: PulumiStackOpt = None) -> None:
    """Endpoints of a service and where to reach them."""

    def _op_endpoints(provider: Any, entry: StateEntry) -> Any:
        return provider.endpoints(entry.name)

    result = guarded(lambda: _with_provider(name, target, state_dir, stack, connection, _op_endpoints, pulumi_stack))
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
