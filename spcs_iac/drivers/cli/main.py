"""``spcs-iac``: validate / plan / apply / destroy / graph, plus operations commands (see ops.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from spcs_iac.errors import (
    AbandonedApply,
    SpcsIacError,
    StackValidationError,
    StateCorruptError,
    StateLockedError,
)

if TYPE_CHECKING:
    from rich.text import Text

    from spcs_iac.plan.model import Plan

# Heavy modules (rich, networkx, pydantic models, the targets) load inside the commands that use them:
# `--help` and `validate` stay quick. Help is click's plain text: typer's rich help alone costs more to
# import (rich.markdown, pygments) than the whole `--help` may take.
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Declarative infrastructure-as-code for Snowpark Container Services.")


class LazyConsole:
    """A rich Console created on first use (importing rich is a good part of a small command's time)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


def styled(text: str, style: str = "") -> Text:
    from rich.text import Text

    return Text(text, style=style)


# markup=False: messages quote SQL and names, whose brackets ([spcs-iac:stack=...]) must print as they are.
out = LazyConsole(highlight=False, soft_wrap=True, markup=False)
err = LazyConsole(stderr=True, highlight=False, soft_wrap=True, markup=False)

StackArg = Annotated[str, typer.Argument(help="path/to/stack.py (module-level `stack`) or module:attribute")]
TargetOpt = Annotated[str | None, typer.Option("--target", "-t", help="local (default) or snowflake")]
StateDirOpt = Annotated[str | None, typer.Option("--state-dir", help="where state files live (default .spcs-iac)")]
ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c",
                                                   help="Snowflake connection name (connections.toml)")]
ParallelismOpt = Annotated[int, typer.Option("--parallelism", min=1, max=64, help="operations run at once")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]
StateOpt = Annotated[str | None, typer.Option("--state", help="where the state lives: file://DIR or "
                                              "snowflake://DATABASE.SCHEMA (default: $SPCS_IAC_STATE, the "
                                              "stack's state=, else files in --state-dir)")]
AdoptOpt = Annotated[bool, typer.Option("--adopt", help="take over objects that exist but were not created by "
                                         "this stack (they become managed: destroy would drop them)")]
DestroyAdoptedOpt = Annotated[bool, typer.Option("--destroy-adopted", help="allow deleting or replacing objects "
                                                 "this stack did not create, and dropping a database, schema "
                                                 "or stage that holds objects or files it does not manage")]
LockTimeoutOpt = Annotated[float, typer.Option("--lock-timeout", min=0,
                                               help="seconds to wait for another run's state lock")]


class GraphFormat(StrEnum):
    dot = "dot"
    mermaid = "mermaid"


def fail(message: str, code: int = 1) -> None:
    err.print(styled("Error: ", "bold red") + styled(message))
    raise typer.Exit(code)


_LOADED: list[str] = []  # stack references this command loaded (messages name the stack as the user did)


def _terminated(signum: int, _frame: Any) -> None:
    # SIGTERM (a CI job cancelled, a container stopped) ends a run like Ctrl-C: the operations in flight
    # finish and are recorded, the rest are not started, and the state lock is released.
    raise KeyboardInterrupt


def guarded(fn: Callable[[], Any]) -> Any:
    """Run a command body: known errors become messages (exit 1), never tracebacks."""
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    try:
        return fn()
    except (StateLockedError, StateCorruptError) as exc:
        fail(exc.for_stack(_LOADED[-1] if _LOADED else "STACK"))
    except SpcsIacError as exc:
        fail(str(exc))
    except AbandonedApply:
        fail("interrupted again: the operations in flight were not waited for. What they started is recorded as "
             "started, and the next plan takes those objects back; nothing else was started. "
             "Run the command again to converge.", 130)
    except KeyboardInterrupt:
        fail("interrupted: the operations in flight finished and are recorded in the state; nothing else was "
             "started. Run the command again to converge.", 130)
    except Exception as exc:
        # The Docker SDK is loaded only when a command needs it; any of its errors is a message, not a traceback.
        errors = sys.modules.get("docker.errors")
        if errors is None or not isinstance(exc, errors.DockerException):
            raise
        fail(f"the Docker engine refused: {getattr(exc, 'explanation', None) or exc}")


def provider_options(connection: str | None, wait_timeout: float | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"connection": connection} if connection else {}
    if wait_timeout is not None:  # both targets take ready_timeout: how long services may take to be READY
        options["ready_timeout"] = wait_timeout
    return options


def _api():  # type: ignore[no-untyped-def]
    from spcs_iac.drivers import api  # loaded on use: `validate` and `--help` stay quick

    return api


_ENV: list[str | None] = [None]  # --env, given before the command (`spcs-iac --env dev plan ...`)


@app.callback()
def _options(env: Annotated[str | None, typer.Option(
        "--env", envvar="SPCS_IAC_ENV", help="environment: reads STACK.ENV.yaml beside the stack file and keeps "
        "a state of its own (e.g. --env dev)")] = None) -> None:
    _ENV[0] = env


def _load(stack_ref: str, target: str | None):  # type: ignore[no-untyped-def]
    from spcs_iac.model.loader import load_stack

    stack = load_stack(stack_ref, _ENV[0])
    _LOADED.append(stack_ref)
    return stack, target or stack.default_target


@app.command()
def validate(stack: StackArg, target: TargetOpt = None, state_dir: StateDirOpt = None) -> None:
    """Check a stack: fields, limits, references, spec rules and the dependency graph (on the local
    target also that every object it names is declared by it or another stack of the state directory)."""

    def body() -> None:
        s, tgt = _load(stack, target)
        s.validate()
        from spcs_iac.graph.build import build_graph

        g = build_graph(s)
        provider = _api().get_provider(tgt, s.name, state_dir=state_dir, connect=False)
        try:  # targets that can check names without connecting (local) do; Snowflake checks when planning
            check = getattr(provider, "check_references", None)
            issues = check(list(s.resources().values())) if check else []
        finally:
            provider.close()
        if issues:
            raise StackValidationError(issues)
        out.print(styled(f"Stack {s.name} is valid: {len(s)} objects, {g.number_of_edges()} dependencies.",
                         "green"))

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
    state: StateOpt = None,
    out_file: Annotated[str | None, typer.Option("--out", help="save the plan as data; `apply FILE` runs "
                                                 "exactly it")] = None,
) -> None:
    """Show what apply would change."""

    def body() -> Plan:
        if out_file:
            _check_out_file(out_file)
        s, tgt = _load(stack, target)
        made = _api().plan(s, tgt, state_dir=state_dir, assume_empty=assume_empty, destroy=destroy,
                           state=state, **provider_options(connection))
        if out_file:
            if assume_empty:
                raise SpcsIacError("--out: a plan made with --assume-empty cannot be applied; plan without it")
            made.source = stack
            from spcs_iac.state.files import write_json_atomic

            try:
                write_json_atomic(Path(out_file), made.to_json())
            except OSError as exc:
                raise SpcsIacError(f"--out: cannot write the plan to {out_file}: {exc.strerror or exc}") from None
        return made

    result: Plan = guarded(body)
    from spcs_iac.plan.render import plan_summary_json, render

    if out_file:
        err.print(f"Plan saved to {out_file}; run `spcs-iac apply {out_file}` to apply exactly this plan.")
    if as_json:
        sys.stdout.write(json.dumps(plan_summary_json(result), indent=2, default=str) + "\n")
    else:
        render(result, out, statements=statements)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)


def _check_out_file(out_file: str) -> None:
    """Refuse, before planning, a plan file `apply` would not read back as a plan or could not be written."""
    path = Path(out_file)
    if path.suffix != ".json":  # `apply FILE` takes anything else for a stack file
        raise SpcsIacError(f"--out: a plan file's name must end in .json, so that `apply` reads it as a plan "
                           f"(given: {out_file!r})")
    if path.is_dir():
        raise SpcsIacError(f"--out: {out_file} is a directory; give a file name ending in .json")
    if not path.parent.is_dir():
        raise SpcsIacError(f"--out: cannot write the plan to {out_file}: directory {path.parent} does not exist")


def _apply(stack: str, target: str | None, state_dir: str | None, connection: str | None, yes: bool,
           parallelism: int, destroy: bool, state: str | None = None, lock_timeout: float = 0.0,
           adopt: bool = False, destroy_adopted: bool = False, wait_timeout: float | None = None) -> None:
    from spcs_iac.plan.render import render, summary_line

    consent = {"adopt": adopt, "destroy_adopted": destroy_adopted}
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
        out.print(styled(line, "dim"))

    def body():  # type: ignore[no-untyped-def]
        saved = _saved_plan(stack)
        if saved is not None:  # a plan file: apply exactly it, for the stack and target it was made for
            if target and target != saved.target:
                raise SpcsIacError(f"{stack} is a plan for target {saved.target}, not {target}")
            s, tgt = _load(saved.source or "", saved.target)
            return _api().apply(s, tgt, state_dir=state_dir, parallelism=parallelism, log=log, destroy=saved.destroy,
                                saved=saved, state=state, lock_timeout=lock_timeout, **consent,
                                confirm=lambda p: (render(p, out), p.has_changes)[1],
                                **provider_options(connection, wait_timeout))
        s, tgt = _load(stack, target)
        return _api().apply(s, tgt, state_dir=state_dir, parallelism=parallelism, log=log, destroy=destroy,
                            confirm=confirm, state=state, lock_timeout=lock_timeout, **consent,
                            **provider_options(connection, wait_timeout))

    result = guarded(body)
    plan_ = getattr(result, "plan", None)
    if plan_ is None:
        if not yes:
            out.print("Nothing was changed.")
        return
    if result.failed:
        err.print(styled(f"\n{len(result.failed)} operation(s) failed:", "bold red"))
        for address, message in result.failed.items():
            err.print(f"  x {address}: {message}")
        if result.skipped:
            err.print(f"  {len(result.skipped)} dependent operation(s) skipped: {', '.join(result.skipped)}")
        err.print("What succeeded is recorded in the state; run the command again to converge.")
        raise typer.Exit(1)
    verb = "Destroy" if destroy else "Apply"
    out.print(styled(f"\n{verb} complete in {result.seconds:.1f}s. {summary_line(plan_)[6:]}", "bold green"))


def _saved_plan(ref: str) -> Plan | None:
    """The plan in ``ref`` when it is a saved plan file (``plan --out``), else None."""
    from spcs_iac.plan.model import Plan

    path = Path(ref)
    if path.suffix != ".json" or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SpcsIacError(f"{ref} is not a plan file: {exc}") from None
    if not isinstance(data, dict) or "format" not in data or not data.get("source"):
        raise SpcsIacError(f"{ref} is not a plan saved by `spcs-iac plan --out`")
    try:
        return Plan.from_json(data)
    except SpcsIacError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # edited or damaged: a field missing or mistyped
        raise SpcsIacError(f"{ref} is damaged ({type(exc).__name__}: {exc}); make the plan again with "
                           "`spcs-iac plan --out`") from None


@app.command()
def apply(stack: Annotated[str, typer.Argument(help="path/to/stack.py, module:attribute, or a plan file "
                                                    "saved by `plan --out` (applied exactly)")],
          target: TargetOpt = None, state_dir: StateDirOpt = None,
          connection: ConnectionOpt = None, yes: YesOpt = False, parallelism: ParallelismOpt = 8,
          state: StateOpt = None, lock_timeout: LockTimeoutOpt = 0.0, adopt: AdoptOpt = False,
          destroy_adopted: DestroyAdoptedOpt = False,
          wait_timeout: Annotated[float | None, typer.Option(
              "--wait-timeout", min=1, help="seconds each service may take to be READY (local 180, snowflake 900)",
          )] = None) -> None:
    """Plan, ask, and make the target match the stack (or apply a saved plan as it is)."""
    _apply(stack, target, state_dir, connection, yes, parallelism, destroy=False, state=state,
           lock_timeout=lock_timeout, adopt=adopt, destroy_adopted=destroy_adopted, wait_timeout=wait_timeout)


@app.command()
def destroy(stack: StackArg, target: TargetOpt = None, state_dir: StateDirOpt = None,
            connection: ConnectionOpt = None, yes: YesOpt = False, parallelism: ParallelismOpt = 8,
            state: StateOpt = None, lock_timeout: LockTimeoutOpt = 0.0,
            destroy_adopted: DestroyAdoptedOpt = False) -> None:
    """Remove everything the stack manages (in reverse dependency order)."""
    _apply(stack, target, state_dir, connection, yes, parallelism, destroy=True, state=state,
           lock_timeout=lock_timeout, destroy_adopted=destroy_adopted)


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
def force_unlock(stack: StackArg,
                 lock_id: Annotated[str | None, typer.Argument(help="the lock's id, as the lock message shows it")]
                 = None,
                 target: TargetOpt = None, state_dir: StateDirOpt = None, state: StateOpt = None,
                 connection: ConnectionOpt = None) -> None:
    """Remove a stale state lock (only when no apply is running)."""

    def body() -> None:
        s, tgt = _load(stack, target)
        with _api().stack_state(s, tgt, state=state, state_dir=state_dir, **provider_options(connection)) as store:
            removed = store.force_unlock(lock_id)
        out.print("Lock removed." if removed else "There was no lock.")

    guarded(body)


from spcs_iac.drivers.cli import contract as contract_command  # noqa: E402, F401  (registers `contract`)
from spcs_iac.drivers.cli import export_cmd as export_command  # noqa: E402, F401  (registers `export`)
from spcs_iac.drivers.cli import ops, state_cmds  # noqa: E402  (register their commands on `app`)
from spcs_iac.drivers.cli import sql as sql_command  # noqa: E402  (registers `sql`)

__all__ = ["app", "ops", "sql_command", "state_cmds"]
