"""Drive the real Pulumi CLI (file backend) over Pulumi projects that use spcs-iac.

A project is either a native program (``program=``: Python source using ``spcs_iac.pulumi``) or a
stack file deployed with ``deploy()`` (``stack_file=``). Each test has its own backend, PULUMI_HOME
(with the spcs-iac provider plugin registered in it) and spcs-iac state directory.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from spcs_iac import __version__
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "scripts" / "pulumi" / "python" / "pulumi-resource-spcs-iac"
TOOLS = Path(os.environ.get("SPCS_IAC_TOOLS") or Path.home() / ".cache" / "spcs-iac" / "tools")


def pulumi_bin() -> str | None:
    found = shutil.which("pulumi")
    if found:
        return found
    current = TOOLS / "current" / "bin" / "pulumi"
    if current.exists():
        return str(current)
    cached = sorted(glob.glob(str(TOOLS / "pulumi-v*" / "bin" / "pulumi")))
    return cached[-1] if cached else None


@dataclass
class PulumiProject:
    dir: Path
    env: dict[str, str]
    state_dir: Path

    def run(self, *args: str, extra_env: dict[str, str] | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.run(["pulumi", *args], cwd=self.dir, env=env, capture_output=True, text=True,
                              timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def preview(self, *extra: str, extra_env: dict[str, str] | None = None) -> dict[str, list[str]]:
        """{op: [resource names]} from `pulumi preview --json` (the stack and providers left out)."""
        proc = self.run("preview", "--json", *extra, extra_env=extra_env)
        return steps(json.loads(proc.stdout))

    def up(self, extra_env: dict[str, str] | None = None) -> str:
        return self.run("up", "--yes", "--skip-preview", extra_env=extra_env).stdout

    def refresh(self) -> dict[str, int]:
        """What a refresh changed: {"update": n, "delete": n, ...} (empty when it found nothing)."""
        self.run("refresh", "--yes", "--skip-preview")
        changes = json.loads(self.run("stack", "history", "--json").stdout)[0].get("resourceChanges") or {}
        return {k: v for k, v in changes.items() if k != "same" and v}

    def outputs(self) -> dict:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout)

    def config(self, key: str, value: str, secret: bool = False) -> None:
        self.run("config", "set", *(["--secret"] if secret else []), key, value)

    def destroy(self) -> str:
        return self.run("destroy", "--yes", "--skip-preview").stdout


def steps(result: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for step in result.get("steps", []):
        urn = step["urn"]
        if "pulumi:pulumi:Stack" in urn or "pulumi:providers:" in urn:
            continue
        out.setdefault(step["op"], []).append(urn.rsplit("::", 1)[-1])
    return out


def pulumi_env(tmp_path: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a Pulumi command runs in: this test's backend and PULUMI_HOME, the CLI on PATH."""
    binary = pulumi_bin()
    require(binary is not None, "the Pulumi CLI", "run scripts/install-pulumi.sh (builds it from Go modules)")
    env = dict(os.environ)
    env.update({
        "PATH": f"{Path(str(binary)).parent}:{env.get('PATH', '')}",
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "1",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PYTHONPATH": f"{ROOT}:{env.get('PYTHONPATH', '')}",
        **(extra_env or {}),
    })
    (tmp_path / "backend").mkdir(exist_ok=True)
    # The spcs-iac resource plugin, registered in this PULUMI_HOME as scripts/install-pulumi.sh does it.
    subprocess.run(["pulumi", "plugin", "install", "resource", "spcs-iac", __version__, "--file", str(PLUGIN)],
                   env=env, check=True, capture_output=True, timeout=120)
    return env


@pytest.fixture
def pulumi_project(tmp_path: Path) -> Iterator[Callable[..., PulumiProject]]:
    def make(stack_file: Path | None = None, target: str = "local", extra_env: dict[str, str] | None = None, *,
             program: str | None = None, name: str = "project") -> PulumiProject:
        project = tmp_path / name
        project.mkdir()
        (project / "Pulumi.yaml").write_text(f"name: spcs-iac-{name.replace('_', '-')}\nruntime: python\n")
        main = program if program is not None else (
            f"from spcs_iac.pulumi import deploy\ndeploy({str(stack_file)!r})\n")
        (project / "__main__.py").write_text(main)
        env = pulumi_env(tmp_path, {"SPCS_IAC_TARGETS": "memory=tests.support.memory_provider:MemoryProvider",
                                    **(extra_env or {})})
        p = PulumiProject(project, env, tmp_path / "spcs")
        p.run("stack", "init", "test")
        p.config("spcs-iac:target", target)
        p.config("spcs-iac:stateDir", str(p.state_dir))
        return p

    yield make


def on_emulator(p: PulumiProject, emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the project's provider at the account emulator through its configuration only (the password a
    Pulumi secret): the Pulumi processes run without any SNOWFLAKE_* variable."""
    for key in [k for k in os.environ if k.startswith("SNOWFLAKE_")]:
        monkeypatch.delenv(key)
        p.env.pop(key, None)
    monkeypatch.setenv("SNOWFLAKE_HOME", str(tmp_path / "no-snowflake-home"))
    p.env["SNOWFLAKE_HOME"] = str(tmp_path / "no-snowflake-home")
    connection = {"account": "emu", "user": "admin", "host": "127.0.0.1", "port": emulator.port,
                  "protocol": "http", "role": "ACCOUNTADMIN"}
    for key, value in connection.items():
        p.run("config", "set", "--path", f"spcs-iac:snowflake.{key}", str(value))
    p.config("spcs-iac:password", "emulator-pass-7f3a", secret=True)


# The local-target Pulumi tests reuse the local tests' Docker fixtures.
from tests.local.conftest import docker_client, state_dir  # noqa: E402, F401
