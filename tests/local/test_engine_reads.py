"""The reads a plan makes: Docker's listings over the engine's unix socket (the same documents the SDK
returns, without loading it), and the registry asked once per run yet started again when it stopped."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.errors import ProviderError
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.dockerhost import DockerHost
from spcs_iac.targets.local.engine import DEFAULT_SOCKET, socket_path
from spcs_iac.targets.local.registry import LocalRegistry
from tests.conftest import require
from tests.local.conftest import BASE_IMAGE


def test_the_socket_is_found_as_the_sdk_finds_it() -> None:
    assert socket_path({}) == DEFAULT_SOCKET
    assert socket_path({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}) == "/run/user/1000/docker.sock"
    # Engines over TCP (TLS) or SSH are read through the SDK, which knows how to reach them.
    assert socket_path({"DOCKER_HOST": "tcp://10.0.0.5:2376"}) is None
    assert socket_path({"DOCKER_HOST": "ssh://me@host"}) is None


def test_an_engine_that_is_not_there_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'docker.sock'}")
    with pytest.raises(ProviderError, match=r"needs a running Docker engine, which is not reachable.*DOCKER_HOST"):
        DockerHost("s").containers()


@pytest.mark.docker
def test_listings_and_inspect_are_the_documents_the_sdk_returns(docker_client: Any) -> None:
    stack = f"reads-{uuid.uuid4().hex[:8]}"
    labels = {naming.LABEL_STACK: stack, naming.LABEL_OBJECT: "service.DB.S.WEB"}
    created = docker_client.api.create_container(BASE_IMAGE, command=["true"], labels=labels)["Id"]
    try:
        host = DockerHost(stack)
        ours = host.containers(obj="service.DB.S.WEB")
        theirs = docker_client.api.containers(all=True, filters={"label": [f"{k}={v}" for k, v in labels.items()]})
        assert [c["Id"] for c in ours] == [created] and ours == theirs
        assert host.inspect_container(created) == docker_client.api.inspect_container(created)
        assert host._client is None  # none of it loaded the SDK
    finally:
        docker_client.api.remove_container(created, force=True)


def test_a_registry_stopped_since_it_answered_is_started_again(tmp_path: Path) -> None:
    binary = os.environ.get("SPCS_IAC_REGISTRY_BIN") or shutil.which("docker-registry")
    require(binary is not None, "the docker-registry binary", "install it with bash scripts/ensure-registry.sh")
    ours, other = LocalRegistry(tmp_path, binary), LocalRegistry(tmp_path, binary)
    try:
        ours.ensure()
        assert ours.digest("db/s/repo/app", "v1") is None  # answers: no such image
        other.stop()  # another process of the same state directory stops it
        assert ours.digest("db/s/repo/app", "v1") is None  # not "cannot be reached": started again
    finally:
        ours.stop()
