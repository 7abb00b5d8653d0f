"""Images built and pushed with the real Docker engine into a local registry that the emulated account
uses as its image registry; digests read back over the registry HTTP API."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, Database, Grant, Image, ImageRepository, Service, Stack
from spcs_iac.drivers import api
from spcs_iac.targets.images import DockerImages, display_commands, remote_digest, split_ref
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.conftest import require
from tests.snowflake.support import spec

pytestmark = pytest.mark.docker


def _docker_ok() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(_docker_ok(), "Docker", "the Snowflake image tests build and push images (scripts/ensure-docker.sh)")
    require(shutil.which("docker-registry") is not None, "docker-registry",
            "the image tests push to a local registry (scripts/ensure-registry.sh)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tmp_path_factory.mktemp("registry")
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nlog: {{level: warn}}\nstorage:\n  filesystem: {{rootdirectory: {root}/data}}\n"
                      f"http: {{addr: 127.0.0.1:{port}}}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def emu_registry(registry: str) -> Iterator[Any]:
    testing = pytest.importorskip("spcs_emulator.testing")
    with testing.running_emulator(ready_delay_s=0.02, registry_host=registry) as emu:
        yield emu


def _stack(context: Path) -> Stack:
    stack = Stack("docker")
    # SYSADMIN may not create compute pools in a new account: ACCOUNTADMIN grants it first.
    stack.add(Grant(to="SYSADMIN", on="ACCOUNT", privileges=["CREATE COMPUTE POOL"], owner="ACCOUNTADMIN"))
    db = stack.add(Database(name="IMG_DB", owner="SYSADMIN"))
    repo = stack.add(ImageRepository(name="REPO", database=db, owner="SYSADMIN"))
    image = stack.add(Image(name="hello", tag="v1", repository=repo, context=str(context)))
    pool = stack.add(ComputePool(name="IMG_POOL", instance_family="CPU_X64_XS", owner="SYSADMIN"))
    stack.add(Service(name="HELLO", database=db, compute_pool=pool, spec=spec(image), owner="SYSADMIN"))
    return stack


def test_build_push_and_read_back_the_digest(emu_registry: Any, registry: str, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (context / "hello.txt").write_text("one\n")
    state = tmp_path / "state"
    made: list[SnowflakeProvider] = []

    def provider() -> SnowflakeProvider:
        made.append(SnowflakeProvider("docker", image_tool=DockerImages(), ready_timeout=20,
                                      **emu_registry.connection_params()))
        return made[-1]

    stack = _stack(context)
    result = api.apply(stack, target="snowflake", provider=provider(), state_dir=str(state))
    assert result.ok, result.failed
    ref = f"{registry}/img_db/public/repo/hello:v1"
    digest = remote_digest(ref)
    assert digest and digest.startswith("sha256:")
    assert f"{digest}" in (state / "docker.snowflake.json").read_text()
    again = api.plan(stack, target="snowflake", provider=provider(), state_dir=str(state))
    assert not again.has_changes, [(c.address, c.changed_fields) for c in again.actionable]

    # New build inputs: the image is rebuilt and the service upgraded to the new digest.
    (context / "hello.txt").write_text("two\n")
    changed = _stack(context)
    p = api.plan(changed, target="snowflake", provider=provider(), state_dir=str(state))
    assert {(c.action.value, c.kind) for c in p.actionable} == {("update", "image"), ("update", "service")}
    image_change = next(c for c in p.actionable if c.kind == "image")
    assert image_change.statements == display_commands(changed.get(image_change.address), ref)  # type: ignore[arg-type]
    assert api.apply(changed, target="snowflake", provider=provider(), state_dir=str(state)).ok
    assert remote_digest(ref) != digest
    final = api.plan(changed, target="snowflake", provider=provider(), state_dir=str(state))
    assert not final.has_changes, [(c.address, c.changed_fields) for c in final.actionable]
    for p in made:
        p.close()


def test_missing_tag_reads_as_absent(registry: str) -> None:
    assert remote_digest(f"{registry}/nothing/here:v9") is None
    assert split_ref("host:5000/a/b/c:tag") == ("host:5000", "a/b/c", "tag")
    assert split_ref("host/a/b") == ("host", "a/b", "latest")
    image = Image(name="x", tag="1", repository="D.S.R", context="/ctx", build_args={"TOKEN": "secret"})
    build, push = display_commands(image, "h/d/s/r/x:1")
    assert build == "docker build --platform linux/amd64 --build-arg TOKEN -t h/d/s/r/x:1 /ctx" and "secret" not in build
    assert push == "docker push h/d/s/r/x:1"
