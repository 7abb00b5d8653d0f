"""Shared local parts created by concurrent provider processes: one network per pool and flavour, never two.

Docker lets two networks have one name; each provider process used to check and create on its own, so
services on one pool created in parallel by separate processes could create the pool's network twice.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from spcs_iac.targets.local import naming
from spcs_iac.targets.local.registry import LocalRegistry
from tests.local.conftest import BASE_IMAGE, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _worker(stacks: list[str], lock_dir: str, barrier, unlocked: bool = False) -> None:
    """One provider process: for each round, wait for the others, then ensure the pool's network."""
    import contextlib

    from spcs_iac.targets.local.dockerhost import DockerHost

    host = DockerHost("race", lock_dir=Path(lock_dir))
    if unlocked:  # what a provider did before: only a lock inside its own process
        host._file_lock = contextlib.nullcontext  # type: ignore[method-assign]
    host.api.ping()  # connected before the start line, so the calls below race
    for stack in stacks:
        barrier.wait(60)
        host.ensure_network("compute_pool.POOL", "POOL", stack, "ingress")


def _networks(client, stack: str) -> list[str]:
    return [n.name for n in client.networks.list(filters={"label": f"{naming.LABEL_STACK}={stack}"})]


def race(tmp_path: Path, rounds: int, unlocked: bool = False) -> dict[str, list[str]]:
    """Three processes ensure one pool's ingress network at the same moment, ``rounds`` times."""
    ctx = multiprocessing.get_context("spawn")
    stacks = [unique(f"race{i}") for i in range(rounds)]
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=_worker, args=(stacks, str(tmp_path), barrier, unlocked)) for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    import docker

    client = docker.from_env()
    try:
        assert all(proc.exitcode == 0 for proc in procs)
        return {stack: _networks(client, stack) for stack in stacks}
    finally:
        for stack in stacks:
            for n in client.networks.list(filters={"label": f"{naming.LABEL_STACK}={stack}"}):
                n.remove()
        client.close()


def test_three_processes_creating_one_pool_network_make_one(tmp_path: Path, docker_client) -> None:
    for stack, names in race(tmp_path, rounds=10).items():
        assert names == [naming.network_name(stack, "POOL", "ingress")]


PROGRAM = """
import pulumi
import spcs_iac.pulumi as spcs

cfg = pulumi.Config()
db = spcs.Database("db", name="PAR_DB")
repo = spcs.ImageRepository("repo", name="REPO", database=db)
image = spcs.Image("image", name="web", tag="v1", repository=repo, context=cfg.require("context"),
                   build_args={"BASE_IMAGE": cfg.require("base")})
if cfg.get_bool("services"):
    pool = spcs.ComputePool("pool", name="PAR_POOL", instance_family="CPU_X64_XS")
    for i in range(3):
        # An explicit provider each: three provider processes create the services at the same time.
        provider = spcs.Provider(f"p{i}", target="local", state_dir=cfg.require("state"),
                                 stack=pulumi.Config("spcs-iac").require("stack"))
        spcs.Service(f"svc{i}", name=f"SVC{i}", database=db, compute_pool=pool,
                     opts=pulumi.ResourceOptions(provider=provider), spec={
                         "containers": [{"name": "web", "image": image,
                                         "command": ["python3", "-m", "http.server", "8080"]}],
                         "endpoints": [{"name": "http", "port": 8080, "public": True}]})
"""


@pytest.mark.pulumi
def test_services_created_in_parallel_by_separate_provider_processes(tmp_path: Path, pulumi_project,
                                                                      docker_client) -> None:
    context = tmp_path / "web"
    context.mkdir()
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    stack = unique("par")
    p = pulumi_project(program=PROGRAM)
    for key, value in (("spcs-iac:stack", stack), ("context", str(context)), ("base", BASE_IMAGE),
                       ("state", str(p.state_dir)), ("services", "true")):
        p.config(key, value)
    try:
        p.up()
        names = _networks(docker_client, stack)
        assert sorted(names) == sorted(set(names)), names  # no name twice
        assert naming.network_name(stack, "PAR_POOL", "ingress") in names
        p.config("services", "false")
        p.up()
        assert _networks(docker_client, stack) == []
    finally:
        p.destroy()
        LocalRegistry(naming.local_dir(p.state_dir)).stop()
