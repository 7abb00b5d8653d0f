"""Docker volumes of service instances, made on the real engine: services of one name in two schemas keep
their block volumes (their data) apart, and a block volume made under the earlier naming keeps serving the
service that made it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from spcs_iac.targets.local import naming
from spcs_iac.targets.local.containers import _volumes


@pytest.fixture
def stack(docker_client: Any) -> Iterator[str]:
    name = f"voltest{secrets.token_hex(3)}"
    yield name
    for v in docker_client.api.volumes(filters={"label": f"{naming.LABEL_STACK}={name}"}).get("Volumes") or []:
        docker_client.api.remove_volume(v["Name"], force=True)


def _runtime(address: str) -> dict[str, Any]:
    return {"name": "API", "address": address, "volumes": [{"type": "block", "name": "data", "size": "1Gi"}]}


def _mount(docker_client: Any, stack: str, address: str, gen: str = "g1") -> str:
    labels = {naming.LABEL_STACK: stack, naming.LABEL_OBJECT: address, naming.LABEL_HASH: "h"}
    host = SimpleNamespace(api=docker_client.api)
    return str(_volumes(host, _runtime(address), 0, gen, labels)["data"]["source"])  # type: ignore[arg-type]


def test_same_named_services_in_two_schemas_get_block_volumes_of_their_own(docker_client: Any, stack: str) -> None:
    dev = _mount(docker_client, stack, "service.DB.DEV.API")
    prod = _mount(docker_client, stack, "service.DB.PROD.API")
    assert dev != prod
    assert _mount(docker_client, stack, "service.DB.DEV.API", gen="g2") == dev  # outlives the generation


def test_a_block_volume_made_under_the_earlier_name_keeps_serving_its_service(docker_client: Any,
                                                                              stack: str) -> None:
    legacy = naming.volume_name(stack, "API", 0, None, "data")
    docker_client.api.create_volume(legacy, driver="local", labels={
        naming.LABEL_STACK: stack, naming.LABEL_OBJECT: "service.DB.DEV.API", naming.LABEL_CONTAINER: "data"})
    assert _mount(docker_client, stack, "service.DB.DEV.API") == legacy  # its data is still there
    assert _mount(docker_client, stack, "service.DB.PROD.API") != legacy  # not another service's
