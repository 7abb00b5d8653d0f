"""A create that fails half-way (a service whose containers started but never became READY) leaves an
object behind. Pulumi keeps track of it (an initialization error): the next `pulumi up` brings it to the
declared state, and `pulumi destroy` removes it. Before, Pulumi lost it: containers and catalog record
stayed, owned by nothing. Real Pulumi CLI and Docker."""

from __future__ import annotations

import json

import pytest

from spcs_iac.targets.local import naming
from tests.local.conftest import BASE_IMAGE, unique

pytestmark = [pytest.mark.docker, pytest.mark.pulumi, pytest.mark.slow]

PROGRAM = f"""
import pulumi
import spcs_iac.pulumi as spcs

cfg = pulumi.Config()
db = spcs.Database("db", name="HM_DB")
pool = spcs.ComputePool("pool", name="HM_POOL", instance_family="CPU_X64_XS")
spcs.Service("svc", name="HM_SVC", database=db, compute_pool=pool, spec={{
    "containers": [{{"name": "main", "image": "docker.io/{BASE_IMAGE}",
                    "command": ["sh", "-c", cfg.require("command")]}}]}})
"""


def _service_containers(client, stack: str) -> list:
    return client.containers.list(all=True, filters={"label": [
        f"{naming.LABEL_STACK}={stack}", f"{naming.LABEL_OBJECT}=service.HM_DB.PUBLIC.HM_SVC"]})


def test_a_half_made_service_is_tracked_then_finished_or_destroyed(pulumi_project, docker_client) -> None:
    stack = unique("hm")
    p = pulumi_project(program=PROGRAM)
    p.config("spcs-iac:stack", stack)
    p.config("command", "echo broken; exit 3")
    try:
        failed = p.run("up", "--yes", "--skip-preview", check=False)
        assert failed.returncode != 0, failed.stdout
        assert "exit code 3" in failed.stdout + failed.stderr, failed.stdout + failed.stderr
        assert _service_containers(docker_client, stack), "the half-made service left no containers to track"
        resources = json.loads(p.run("stack", "export").stdout)["deployment"]["resources"]
        svc = [r for r in resources if r.get("urn", "").endswith("::svc")]
        assert svc and svc[0].get("initErrors"), "Pulumi lost track of the half-made service"
        p.config("command", "sleep 100000")
        p.up()  # finishes it: the service now runs as declared
        resources = json.loads(p.run("stack", "export").stdout)["deployment"]["resources"]
        assert not [r for r in resources if r.get("urn", "").endswith("::svc") and r.get("initErrors")]
    finally:
        p.destroy()
    assert not _service_containers(docker_client, stack)
