"""Minimal Pulumi language host for Python (``pulumi-language-python``).

The upstream Go language host (module
``github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3``) is not
available from the Go module proxy reachable here, so scripts/install-pulumi.sh
installs this small replacement next to the ``pulumi`` binary it builds.

It implements the engine's ``LanguageRuntime`` gRPC service with the protobuf
stubs shipped in the ``pulumi`` Python package:

* the CLI starts it as ``pulumi-language-python [flags] ENGINE_ADDRESS``; it
  prints the port it listens on as the first stdout line;
* ``Run`` starts ``pulumi_language_python_exec.py`` (next to this file) with the
  selected Python interpreter, which runs the user program; the program's
  stdout/stderr are inherited so the CLI shows them;
* the interpreter is ``<virtualenv>/bin/python`` when the project's
  ``runtime.options.virtualenv`` is set (``toolchain: uv`` defaults it to
  ``.venv``), otherwise ``$PULUMI_PYTHON_CMD`` or ``python3`` from PATH;
* required plugins/packages are reported as empty (programs using only dynamic
  providers need none; the engine finds ``pulumi-resource-pulumi-python`` itself).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

try:  # keep the SDK's message-size limits when available
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS as _GRPC_OPTIONS
except Exception:  # noqa: BLE001 - older/newer SDK layouts
    _GRPC_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024)]

HERE = os.path.dirname(os.path.abspath(__file__))
EXEC_SCRIPT = os.path.join(HERE, "pulumi_language_python_exec.py")
# Exit code the exec script uses after it has already reported the error.
BAIL_EXIT_CODE = 32


def _sdk_version() -> str:
    try:
        from pulumi._version import _VERSION  # type: ignore[attr-defined]

        return str(_VERSION)
    except Exception:  # noqa: BLE001
        return ""


def _options(info) -> dict:
    if info is None or not info.HasField("options"):
        return {}
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(info.options)


class HostError(Exception):
    pass


def _virtualenv_dir(info) -> str | None:
    """Absolute virtualenv directory selected by the project options, or None."""
    opts = _options(info)
    venv = opts.get("virtualenv")
    toolchain = opts.get("toolchain", "pip")
    if not venv and toolchain == "uv":
        venv = ".venv"
    if toolchain not in ("pip", "uv"):
        raise HostError(
            f"runtime option toolchain={toolchain!r} is not supported by this "
            "language host (supported: pip, uv)"
        )
    if not venv:
        return None
    venv = str(venv)
    if not os.path.isabs(venv):
        base = (info.root_directory if info is not None else "") or os.getcwd()
        venv = os.path.join(base, venv)
    return os.path.normpath(venv)


def _python_command(info) -> tuple[str, dict]:
    """Interpreter path and extra environment for running the program."""
    env: dict = {}
    venv = _virtualenv_dir(info)
    if venv is not None:
        python = os.path.join(venv, "bin", "python")
        if not os.path.exists(python):
            raise HostError(
                f"the 'virtualenv' runtime option points to {venv!r}, which is not a "
                f"virtual environment (no bin/python). Create it with: python3 -m venv "
                f"{venv} && {venv}/bin/python -m pip install -r requirements.txt"
            )
        env["VIRTUAL_ENV"] = venv
        env["PATH"] = os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", "")
        return python, env
    cmd = os.environ.get("PULUMI_PYTHON_CMD") or "python3"
    python = shutil.which(cmd)
    if python is None:
        raise HostError(
            f"could not find the Python interpreter {cmd!r} on PATH "
            "(set PULUMI_PYTHON_CMD to choose one)"
        )
    return python, env


class PythonLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str, tracing: str) -> None:
        self.engine_address = engine_address
        self.tracing = tracing

    # -- lifecycle -----------------------------------------------------------
    def Handshake(self, request, context):
        if request.engine_address:
            self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=_sdk_version())

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    # -- plugins -------------------------------------------------------------
    def GetRequiredPlugins(self, request, context):
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    # -- running programs ----------------------------------------------------
    def Run(self, request, context):
        try:
            python, extra_env = _python_command(request.info)
        except HostError as exc:
            return language_pb2.RunResponse(error=str(exc))

        args = [python, "-u", EXEC_SCRIPT]

        def opt(name: str, value) -> None:
            if value not in (None, ""):
                args.extend([f"--{name}", str(value)])

        opt("monitor", request.monitor_address)
        opt("engine", self.engine_address)
        opt("project", request.project)
        opt("root_directory", request.info.root_directory)
        opt("stack", request.stack)
        opt("pwd", request.pwd)
        opt("dry_run", "true" if request.dryRun else "false")
        opt("parallel", request.parallel)
        opt("tracing", self.tracing)
        opt("organization", request.organization)
        args.append(request.info.entry_point or request.program or ".")
        args.extend(request.args)

        env = dict(os.environ)
        env.update(extra_env)
        if extra_env:  # running inside a virtualenv: don't leak the outer PYTHONHOME
            env.pop("PYTHONHOME", None)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))

        sys.stdout.flush()
        sys.stderr.flush()
        try:
            proc = subprocess.run(args, env=env, cwd=request.pwd or None, check=False)
        except OSError as exc:
            return language_pb2.RunResponse(
                error=f"problem executing program (could not run {python}): {exc}"
            )
        if proc.returncode == 0:
            return language_pb2.RunResponse()
        if proc.returncode == BAIL_EXIT_CODE:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(
            error=f"program exited with non-zero exit code: {proc.returncode}"
        )

    # -- dependencies / info -------------------------------------------------
    def InstallDependencies(self, request, context):
        def out(text: str):
            return language_pb2.InstallDependenciesResponse(stdout=text.encode())

        try:
            venv = _virtualenv_dir(request.info)
        except HostError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            return
        program_dir = request.info.program_directory or os.getcwd()
        requirements = os.path.join(program_dir, "requirements.txt")
        if venv is None:
            yield out("Using the current Python environment; nothing to install.\n")
            return
        steps = []
        if not os.path.exists(os.path.join(venv, "bin", "python")):
            base = os.environ.get("PULUMI_PYTHON_CMD") or "python3"
            steps.append([base, "-m", "venv", venv])
        if os.path.exists(requirements):
            steps.append([os.path.join(venv, "bin", "python"), "-m", "pip", "install",
                          "-r", requirements])
        for cmd in steps:
            yield out("$ " + " ".join(cmd) + "\n")
            proc = subprocess.run(cmd, cwd=program_dir, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, check=False)
            yield out(proc.stdout.decode(errors="replace"))
            if proc.returncode != 0:
                context.abort(grpc.StatusCode.UNKNOWN,
                              f"{' '.join(cmd)} failed with exit code {proc.returncode}")
                return
        yield out("Finished installing dependencies\n")

    def RuntimeOptionsPrompts(self, request, context):
        return language_pb2.RuntimeOptionsResponse()

    def About(self, request, context):
        try:
            python, _ = _python_command(request.info if request.HasField("info") else None)
        except HostError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            return None
        out = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             stdout=subprocess.PIPE, text=True, check=False)
        return language_pb2.AboutResponse(executable=python, version=out.stdout.strip())

    def GetProgramDependencies(self, request, context):
        try:
            python, _ = _python_command(request.info)
        except HostError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            return None
        code = (
            "import json, importlib.metadata as m\n"
            "print(json.dumps(sorted({(d.metadata['Name'], d.version) "
            "for d in m.distributions() if d.metadata['Name']})))"
        )
        proc = subprocess.run([python, "-c", code], stdout=subprocess.PIPE, text=True,
                              check=False)
        deps = json.loads(proc.stdout or "[]") if proc.returncode == 0 else []
        return language_pb2.GetProgramDependenciesResponse(
            dependencies=[language_pb2.DependencyInfo(name=n, version=v) for n, v in deps]
        )


def _parse_args(argv: list[str]) -> tuple[str, str]:
    """Return (engine_address, tracing) from the CLI's plugin arguments.

    The CLI passes optional logging flags (--logtostderr, -v=N), optionally
    ``--tracing ENDPOINT``, and the engine address as the last positional.
    """
    engine, tracing = "", ""
    i = 0
    positionals = []
    while i < len(argv):
        a = argv[i]
        if a in ("--tracing", "-tracing") and i + 1 < len(argv):
            tracing = argv[i + 1]
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        positionals.append(a)
        i += 1
    if positionals:
        engine = positionals[-1]
    return engine, tracing


def main() -> None:
    engine, tracing = _parse_args(sys.argv[1:])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=_GRPC_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(
        PythonLanguageHost(engine, tracing), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    if not port:
        sys.stderr.write("pulumi-language-python: failed to bind a local port\n")
        sys.exit(1)
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()

    stopped = threading.Event()

    def _stop(*_):
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopped.wait(3600):
        pass
    server.stop(grace=1)


if __name__ == "__main__":
    main()
