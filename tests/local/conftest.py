"""Fixtures for the local target: a real Docker engine, the offline base image and a real registry.

Every test here needs Docker. Without it they skip with the reason; under CI=true they fail (the CI
scripts must provide the engine, ``docker-registry`` and the base image). One state directory, hence
one registry, serves the whole session; a warm repository holding the base image lets pushes mount its
big layer instead of compressing it again (about 20 s per repository otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.targets.local import naming
from spcs_iac.targets.local.registry import LocalRegistry
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = os.environ.get("SPCS_IAC_BASE_IMAGE") or "spcs-iac/base:bookworm-py3"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _docker() -> tuple[Any, str]:
    try:
        import docker

        client = docker.from_env(timeout=120)
        client.ping()
        return client, ""
    except Exception as exc:  # no SDK, no socket, daemon down: all mean "no Docker"
        return None, str(exc) or type(exc).__name__


@pytest.fixture(scope="session")
def docker_client() -> Any:
    client, why = _docker()
    require(client is not None, "a Docker engine", f"{why}; start it with bash scripts/ensure-docker.sh")
    import docker

    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        script = ROOT / "scripts" / "build-base-image.sh"
        if IN_CI and script.exists():  # CI builds it (minutes); developers are told how
            subprocess.run(["bash", str(script)], check=False)
        try:
            client.images.get(BASE_IMAGE)
        except docker.errors.ImageNotFound:
            require(False, f"the offline base image {BASE_IMAGE}", "build it with bash scripts/build-base-image.sh")
    binary = os.environ.get("SPCS_IAC_REGISTRY_BIN") or shutil.which("docker-registry")
    require(binary is not None, "the docker-registry binary", "install it with bash scripts/ensure-registry.sh")
    return client


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("local-state")
    registry = LocalRegistry(naming.local_dir(directory))
    warm = f"{registry.host}/spcs-iac-tests/warm/base:latest"
    docker_client.images.get(BASE_IMAGE).tag(warm)
    docker_client.images.push(warm)
    yield directory
    try:  # safety net: whatever a failed test left behind, found by this session's stack labels only
        for stack in _stacks(directory):
            flt = {"label": f"{naming.LABEL_STACK}={stack}"}
            for kind in ("containers", "networks", "volumes"):
                for obj in getattr(docker_client, kind).list(**({"all": True} if kind == "containers" else {}),
                                                             filters=flt):
                    _quiet(lambda obj=obj, kind=kind: obj.remove() if kind == "networks" else obj.remove(force=True))
        host = registry.recorded_host()
        for image in docker_client.images.list():  # the session's registry goes away: so do its references
            refs = image.tags + (image.attrs.get("RepoDigests") or [])
            for ref in refs:
                if ref.startswith(f"{host}/"):
                    _quiet(lambda ref=ref: docker_client.images.remove(ref))
    finally:
        registry.stop()


def _quiet(fn: Any) -> None:
    try:
        fn()
    except Exception:  # cleanup is best effort
        pass


def cli(*args: str, input: str | None = None) -> Any:
    """The CLI in this process (typer's runner): exit_code, stdout, output (stdout and stderr)."""
    from typer.testing import CliRunner

    from spcs_iac.drivers.cli.main import app

    return CliRunner().invoke(app, list(args), input=input)


def unique(name: str) -> str:
    """A stack name unique to this test process: Docker names are global, and other sessions may run."""
    return f"{name}-{os.getpid()}"


def _stacks(directory: Path) -> set[str]:
    local = naming.local_dir(directory)
    return {p.name[len("catalog-"):-len(".json")] for p in local.glob("catalog-*.json")} | {
        p.name.split(".local.json")[0] for p in directory.glob("*.local.json")
    }


def labelled(client: Any, stack: str) -> dict[str, list[Any]]:
    """Every container, network and volume carrying the stack's label."""
    flt = {"label": f"{naming.LABEL_STACK}={stack}"}
    return {
        "containers": client.containers.list(all=True, filters=flt),
        "networks": client.networks.list(filters=flt),
        "volumes": client.volumes.list(filters=flt),
    }
