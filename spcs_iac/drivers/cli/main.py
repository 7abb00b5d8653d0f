"""``spcs-iac``: validate / plan / apply / destroy / graph, plus operations commands (see ops.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from spcs_iac.errors import SpcsIacError
from spcs_iac.plan.model import Plan
from spcs_iac.plan.render import plan_summary_json, render, summary_line

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Declarative infrastructure-as-code for Snowpark Container Services.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

StackArg = Annotated[str, typer.Argument(help="path/to/stack.py (module-level `stack`) or module:attribute")]
TargetOpt = Annotated[str | None, typer.Option("--target", "-t", help="local (default) or snowflake")]
StateDirOpt = Annotated[str | None, typer.Option("--state-dir", help="where state files live (default .spcs-iac)")]
ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c",
                                                   help="Snowflake connection name (connections.toml)")]
ParallelismOpt = Annotated[int, typer.Option("--parallelism", min=1, max=64, help="operations run at once")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]


class GraphFormat(StrEnum):
    dot = "dot"
    mermaid = "mermaid"


def fail(message: str, code: int = 1) -> None:
    err.print(Text("Error: ", style="bold red") + Text(message))
    raise typer.Exit(code)


def guarded(fn: Callable[[], Any]) -> Any:
    """Run a command body: known errors become messages (exit 1), never tracebacks."""
    try:
        return fn()
    except SpcsIacError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)


def provider_options(connection: str | None) -> dict[str, Any]:
    return {"connection": connection} if connection else {}


def _api():  # type: ignore[no-untyped-def]
    from spcs_iac.drivers import api  # loaded on use: `validate` and `--help` stay quick

    return api


def _load(stack_ref: str, target: str | None):  # type: ignore[no-untyped-def]
    from spcs_iac.model.loader import load_stack

    stack = load_stack(stack_ref)
    return stack, target or stack.default_target


@app.command()
def validate(stack: StackArg) -> None:
    """Check a stack: fields, limits, references, spec rules and the dependency graph."""

    def body() -> None:
        s, _ = _load(stack, None)
        s.validate()
        from spcs_iac.graph.build import build_graph

        g = build_graph(s)
        out.print(Text(f"Stack {s.name} is valid: {len(s)} objects, {g.number_of_edges()} dependencies.",
                       style="green"))

    guarded(body)


@app.command()
def plan(
    stack: StackArg,
    target: TargetOpt = None,
    state_dir: StateDirOpt = None,
    connection: ConnectionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
                                                    help="exit 2 when there are changes")] = False,
    assume_empty: Annotated[bool, typer.Option("--assume-empty",
                                               help="plan against an empty target without connecting")] = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="plan the removal of everything managed")] = False,
    statements: Annotated[bool | None, typer.Option("--statements/--no-statements",
                                                    help="show the statements each change runs")] = None,
) -> None:
    """Show what apply would change."""

    def body() -> Plan:
        s, tgt = _load(stack, target)
        return _api().plan(s, tgt, state_dir=state_dir, assume_empty=assume_empty, destroy=destroy,
                           **provider_options(connection))

    result: Plan = guarded(body)
    if as_json:
        sys.stdout.write(json.dumps(plan_summary_json(result), indent=2, default=str) + "\n")
    else:
        render(result, out, statements=statements)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)


def _apply(stack: str, target: str | None, state_dir: str | None, connection: str | None, yes: bool,
           parallelism: int, destroy: bool) -> None:
    def confirm(p: Plan) -> bool:
        render(p, out)
        if not p.has_changes:
            return False
        if yes:
            return True
        if not sys.stdin.isatty():
            fail("refusing to change anything without confirmation: stdin is not a terminal; pass --yes")
        return typer.confirm("\nDo you want to perform these actions?", default=False)

    def log(line: str) -> None:
        out.print(Text(line, style="dim"))

    def body():  # type: ignore[no-untyped-def]
        s, tgt = _load(stack, target)
        return _api().apply(s, tgt, state_dir=state_dir, parallelism=parallelism, log=log, destroy=destroy,
                            confirm=confirm, **provider_options(connection))

    result = guarded(body)
    plan_ = getattr(result, "plan", None)
    if plan_ is None:
        if not yes:
            out.print("Nothing was changed.")
        return
    if result.failed:
        err.print(Text(f"\n{len(result.failed)} operation(s) failed:", style="bold red"))
        for address, message in result.failed.items():
            err.print(f"  x {address}: {message}")
        if result.skipped:
            err.print(f"  {len(result.skipped)} dependent operation(s) skipped: {', '.join(result.skipped)}")
        err.print("What succeeded is recorded in the state; run the command again to converge.")
        raise typer.Exit(1)
    verb = "Destroy" if destroy else "Apply"
    out.print(Text(f"\n{verb} complete in {result.seconds:.1f}s. {summary_line(plan_)[6:]}", style="bold green"))


@app.command()
def apply(stack: StackArg, target: TargetOpt = None, state_dir: StateDirOpt = None,
          connection: ConnectionOpt = None, yes: YesOpt = False, parallelism: ParallelismOpt = 8) -> None:
    """Plan, ask, and make the target match the stack."""
    _apply(stack, target, state_dir, connection, yes, parallelism, destroy=False)


@app.command()
def destroy(stack: StackArg, target: TargetOpt = None, state_dir: StateDirOpt = None,
            connection: ConnectionOpt = None, yes: YesOpt = False, parallelism: ParallelismOpt = 8) -> None:
    """Remove everything the stack manages (in reverse dependency order)."""
    _apply(stack, target, state_dir, connection, yes, parallelism, destroy=True)


@app.command()
def graph(stack: StackArg,
          fmt: Annotated[GraphFormat, typer.Option("--format", "-f", help="dot or mermaid")] = GraphFormat.dot,
          ) -> None:
    """Print the dependency graph (Graphviz dot or Mermaid)."""
    from spcs_iac.graph.build import to_dot, to_mermaid

    def body() -> str:
        s, _ = _load(stack, None)
        from spcs_iac.graph.build import build_graph

        g = build_graph(s)
        return to_dot(g) if fmt is GraphFormat.dot else to_mermaid(g)

    sys.stdout.write(guarded(body))


@app.command()
def docs() -> None:
    """Print the reference of every resource kind (generated from the kind declarations)."""
    from spcs_iac.model.docs import kinds_markdown

    sys.stdout.write(kinds_markdown())


@app.command("force-unlock")
def force_unlock(stack: StackArg, target: TargetOpt = None, state_dir: StateDirOpt = None) -> None:
    """Remove a stale state lock (only when no apply is running)."""
    from spcs_iac.state.store import StateStore

    def body() -> None:
        s, tgt = _load(stack, target)
        removed = StateStore(s.name, tgt, state_dir).force_unlock()
        out.print("Lock removed." if removed else "There was no lock.")

    guarded(body)


from spcs_iac.drivers.cli import ops  # noqa: E402  (registers the operations commands on `app`)

__all__ = ["app", "ops"]
