"""Runs one Pulumi Python program for pulumi_language_python_host.py.

Invoked as ``python -u pulumi_language_python_exec.py [--monitor ADDR]
[--engine ADDR] [--project P] [--stack S] [--organization O]
[--root_directory DIR] [--pwd DIR] [--dry_run true|false] [--parallel N]
[--tracing URL] PROGRAM [ARGS...]`` with the stack configuration in the
``PULUMI_CONFIG`` / ``PULUMI_CONFIG_SECRET_KEYS`` environment variables (JSON).

Exit codes: 0 success; 32 the error was already reported to the engine (the
host then tells the CLI to bail without an extra message); anything else is a
crash the host reports as "program exited with non-zero exit code".
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import os
import runpy
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

REPORTED_EXIT_CODE = 32

try:
    import pulumi
    import pulumi.runtime
except ImportError:
    print(traceback.format_exc(), file=sys.stderr)
    print(
        f"The Pulumi Python SDK is not importable by {sys.executable}. Install it "
        "(pip install pulumi) or point PULUMI_PYTHON_CMD / the project's "
        "'virtualenv' runtime option at an environment that has it.",
        file=sys.stderr,
    )
    sys.exit(1)


def _parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Run a Pulumi Python program")
    for name in ("monitor", "engine", "project", "stack", "organization",
                 "root_directory", "pwd", "dry_run", "parallel", "tracing"):
        ap.add_argument(f"--{name}")
    ap.add_argument("PROGRAM")
    ap.add_argument("ARGS", nargs="*")
    return ap.parse_args()


def _settings(ns: argparse.Namespace):
    wanted = {
        "monitor": ns.monitor,
        "engine": ns.engine,
        "project": ns.project,
        "stack": ns.stack,
        "parallel": int(ns.parallel) if ns.parallel else None,
        "dry_run": ns.dry_run == "true",
        "organization": ns.organization,
        "root_directory": ns.root_directory,
    }
    accepted = inspect.signature(pulumi.runtime.Settings.__init__).parameters
    return pulumi.runtime.Settings(**{k: v for k, v in wanted.items() if k in accepted})


def _user_traceback(program_dir: str) -> str:
    """The current exception's traceback, starting at the first frame of the
    user's program (drops this runner's and runpy's frames)."""
    exc = sys.exc_info()[1]
    frames = traceback.extract_tb(exc.__traceback__) if exc is not None else []
    root = os.path.join(os.path.abspath(program_dir), "")
    for i, frame in enumerate(frames):
        if not frame.filename.startswith("<") and os.path.abspath(frame.filename).startswith(root):
            return traceback.format_exc(limit=-(len(frames) - i))
    return traceback.format_exc()


def main() -> int:
    ns = _parse()

    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )
    settings = _settings(ns)
    pulumi.runtime.configure(settings)

    if ns.pwd:
        os.chdir(ns.pwd)
    program = os.path.abspath(ns.PROGRAM)
    sys.argv = [ns.PROGRAM] + list(ns.ARGS)
    # Resolve imports against the program's directory, not this script's.
    program_dir = program if os.path.isdir(program) else os.path.dirname(program)
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path[0] = program_dir
    else:
        sys.path.insert(0, program_dir)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    executor = None
    if settings.parallel:
        executor = ThreadPoolExecutor(max_workers=max(int(settings.parallel), 1) * 4)
        loop.set_default_executor(executor)
    # Pulumi programs legitimately leave futures unobserved when a step fails.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    if os.path.isdir(program) and not os.path.exists(os.path.join(program, "__main__.py")):
        pulumi.log.error(f"unable to find main python program `__main__.py` in `{program}`")
        return REPORTED_EXIT_CODE

    code = 1
    try:
        loop.run_until_complete(
            pulumi.runtime.run_in_stack(lambda: runpy.run_path(program, run_name="__main__"))
        )
        code = 0
    except pulumi.RunError as exc:
        pulumi.log.error(str(exc))
        code = REPORTED_EXIT_CODE
    except Exception:  # noqa: BLE001 - report any program failure to the engine
        pulumi.log.error(
            "Program failed with an unhandled exception:\n" + _user_traceback(program_dir)
        )
        code = REPORTED_EXIT_CODE
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
