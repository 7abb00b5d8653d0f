"""Drive the real Pulumi CLI over a Pulumi project that deploys a stack file (file backend)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


def pulumi_bin() -> str | None:
    found = shutil.which("pulumi")
    if found:
        return found
    cached = sorted(glob.glob(os.path.expanduser("~/.cache/spcs-iac/tools/pulumi-v*/bin/pulumi")))
    return cached[-1] if cached else None


@dataclass
class PulumiProject:
    dir: Path
    env: dict[str, str]

    def run(self, *args: str, extra_env: dict[str, str] | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.run(["pulumi", *args], cwd=self.dir, env=env, capture_output=True, text=True,
                              timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def preview(self, extra_env: dict[str, str] | None = None) -> dict[str, list[str]]:
        """{op: [resource names]} from `pulumi preview --json`."""
        proc = self.run("preview", "--json", extra_env=extra_env)
        steps: dict[str, list[str]] = {}
        for step in json.loads(proc.stdout).get("steps", []):
            name = step["urn"].rsplit("::", 1)[-1]
            if "pulumi:pulumi:Stack" in step["urn"]:
                continue
            steps.setdefault(step["op"], []).append(name)
        return steps

    def up(self, extra_env: dict[str, str] | None = None) -> str:
        return self.run("up", "--yes", "--skip-preview", extra_env=extra_env).stdout

    def destroy(self) -> str:
        return self.run("destroy", "--yes", "--skip-preview").stdout


@pytest.fixture
def pulumi_project(tmp_path: Path) -> Iterator[callable]:
    binary = pulumi_bin()
    require(binary is not None, "the Pulumi CLI", "run scripts/install-pulumi.sh (builds it from Go modules)")
    bindir = str(Path(binary).parent)

    def make(stack_file: Path, target: str, extra_env: dict[str, str] | None = None) -> PulumiProject:
        project = tmp_path / "project"
        project.mkdir()
        (project / "Pulumi.yaml").write_text("name: spcs-iac-test\nruntime: python\n")
        (project / "__main__.py").write_text(f"from spcs_iac.pulumi import deploy\ndeploy({str(stack_file)!r})\n")
        env = dict(os.environ)
        env.update({
            "PATH": f"{bindir}:{env.get('PATH', '')}",
            "PULUMI_BACKEND_URL": f"file://{tmp_path / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            "PULUMI_HOME": str(tmp_path / "pulumi-home"),
            "PYTHONPATH": f"{ROOT}:{env.get('PYTHONPATH', '')}",
            "SPCS_IAC_TARGETS": "memory=tests.support.memory_provider:MemoryProvider",
            **(extra_env or {}),
        })
        (tmp_path / "backend").mkdir()
        p = PulumiProject(project, env)
        p.run("stack", "init", "test")
        p.run("config", "set", "spcs-iac:target", target)
        p.run("config", "set", "spcs-iac:stateDir", str(tmp_path / "spcs"))
        return p

    yield make


# The local-target Pulumi test reuses the local tests' Docker fixtures.
from tests.local.conftest import docker_client, state_dir  # noqa: E402, F401
