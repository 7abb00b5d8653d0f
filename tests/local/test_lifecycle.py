"""Local target edge cases: failures are reported with status and logs, jobs that fail run again,
instances scale, a pool's instance family changes limits in place, stage purging on destroy."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, Database, Image, ImageRepository, JobService, Service, Stack, Stage
from spcs_iac.drivers import api
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.provider import LocalProvider
from tests.local.apps import APP_B, write_app
from tests.local.conftest import BASE_IMAGE, labelled, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_app(tmp_path_factory.mktemp("lifecycle") / "b", APP_B)


def build(name: str, context: Path, *, family: str = "CPU_X64_XS", instances: int = 1,
          container: dict[str, Any] | None = None) -> tuple[Stack, dict[str, Any]]:
    stack = Stack(name)
    prefix = name.upper().replace("-", "_")
    db = stack.add(Database(name=f"{prefix}_DB"))
    stack.add(Stage(name="FILES", database=db))
    pool = stack.add(ComputePool(name=f"{prefix}_POOL", instance_family=family))
    repo = stack.add(ImageRepository(name="REPO", database=db))
    img = stack.add(Image(name="b", repository=repo, context=str(context), build_args={"BASE_IMAGE": BASE_IMAGE}))
    main = {"name": "main", "image": img, "readinessProbe": {"port": 8080, "path": "/hello"},
            "volumeMounts": [{"name": "files", "mountPath": "/files"}], **(container or {})}
    svc = stack.add(Service(name="WEB", database=db, compute_pool=pool, min_instances=instances, spec={"spec": {
        "containers": [main], "endpoints": [{"name": "web", "port": 8080, "public": True}],
        "volumes": [{"name": "files", "source": "@files/web"}]}}))
    return stack, {"db": db, "pool": pool, "svc": svc}


def job_spec(img: Any, code: str) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": "run", "image": img, "command": ["python3", "-c", code]}]}}


def running(client: Any, stack: Stack, address: str) -> list[Any]:
    """The spec containers of a service (not its namespace owners or its endpoint proxy)."""
    flt = {"label": [f"{naming.LABEL_STACK}={stack.name}", f"{naming.LABEL_OBJECT}={address}",
                     f"{naming.LABEL_ROLE}={naming.ROLE_MEMBER}"]}
    return client.containers.list(all=True, filters=flt)


def test_failing_service_reports_status_and_logs(state_dir: Path, docker_client: Any, context: Path) -> None:
    stack, objs = build(unique("lc-fail"), context,
                        container={"args": ["python3", "-c", "print('boom: no config'); raise SystemExit(3)"]})
    start = time.monotonic()
    result = api.apply(stack, target="local", state_dir=str(state_dir))
    assert time.monotonic() - start < 60
    error = result.failed[objs["svc"].address]
    assert "instance 0" in error and "container main" in error and "exit=3" in error and "boom: no config" in error
    logs = LocalProvider(stack_name=stack.name, state_dir=str(state_dir)).logs("WEB")
    assert "boom: no config" in logs  # the failed containers are kept (stopped) for `logs`
    fixed, objs = build(stack.name, context)
    plan = api.plan(fixed, target="local", state_dir=str(state_dir))
    assert plan.get(objs["svc"].address).action.value in ("create", "import")
    assert api.apply(fixed, target="local", state_dir=str(state_dir)).ok
    assert [c.status for c in running(docker_client, fixed, objs["svc"].address)] == ["running"]
    assert api.destroy(fixed, target="local", state_dir=str(state_dir)).ok


def test_readiness_timeout(state_dir: Path, docker_client: Any, context: Path) -> None:
    stack, objs = build(unique("lc-probe"), context,
                        container={"readinessProbe": {"port": 8080, "path": "/not-there"}})
    result = api.apply(stack, target="local", state_dir=str(state_dir), ready_timeout=3)
    assert "not READY after 3s" in result.failed[objs["svc"].address]
    assert api.destroy(stack, target="local", state_dir=str(state_dir)).ok
    assert labelled(docker_client, stack.name)["containers"] == []


def test_failed_job_is_reported_and_run_again(state_dir: Path, docker_client: Any, context: Path) -> None:
    name = unique("lc-job")
    code = "import os,sys; print('replica', os.environ['SNOWFLAKE_JOB_INDEX']); sys.exit(int(os.environ['SNOWFLAKE_JOB_INDEX']))"
    stack, objs = build(name, context)
    img = next(r for r in stack if r.kind == "image")
    job = stack.add(JobService(name="BATCH", database=objs["db"], compute_pool=objs["pool"], replicas=2,
                               spec=job_spec(img, code)))
    sd = str(state_dir)
    result = api.apply(stack, target="local", state_dir=sd)
    error = result.failed[job.address]
    assert "FAILED" in error and "[0, 1]" in error and "replica 1" in error
    assert LocalProvider(stack_name=name, state_dir=sd).status("BATCH")["status"] == "FAILED"
    change = api.plan(stack, target="local", state_dir=sd).get(job.address)
    assert change.action.value in ("import", "replace") and "outcome" in change.changed_fields
    stack2, objs2 = build(name, context)
    img2 = next(r for r in stack2 if r.kind == "image")
    stack2.add(JobService(name="BATCH", database=objs2["db"], compute_pool=objs2["pool"], replicas=2,
                           spec=job_spec(img2, "print('fine')")))
    assert api.apply(stack2, target="local", state_dir=sd).ok
    status = LocalProvider(stack_name=name, state_dir=sd).status("BATCH")
    assert status["status"] == "DONE" and status["exit_codes"] == [0, 0]
    assert not api.plan(stack2, target="local", state_dir=sd).has_changes
    # An asynchronous run returns at once; a job still running reads back as outcome DONE.
    stack3, objs3 = build(name, context)
    img3 = next(r for r in stack3 if r.kind == "image")
    stack3.add(JobService(name="BATCH", database=objs3["db"], compute_pool=objs3["pool"], run_async=True,
                          spec=job_spec(img3, "import time; time.sleep(3)")))
    start = time.monotonic()
    assert api.apply(stack3, target="local", state_dir=sd).ok
    assert time.monotonic() - start < 3
    assert LocalProvider(stack_name=name, state_dir=sd).status("BATCH")["status"] == "RUNNING"
    assert not api.plan(stack3, target="local", state_dir=sd).has_changes
    assert api.destroy(stack3, target="local", state_dir=sd).ok
    assert labelled(docker_client, name) == {"containers": [], "networks": [], "volumes": []}


def test_scaling_and_pool_family_change(state_dir: Path, docker_client: Any, context: Path) -> None:
    name = unique("lc-scale")
    sd = str(state_dir)
    stack, objs = build(name, context)
    assert api.apply(stack, target="local", state_dir=sd).ok
    address = objs["svc"].address
    first = {c.id for c in running(docker_client, stack, address)}
    assert docker_client.containers.get(next(iter(first))).attrs["HostConfig"]["NanoCpus"] == 1_000_000_000

    stack, objs = build(name, context, instances=2)
    assert api.apply(stack, target="local", state_dir=sd).ok
    now = running(docker_client, stack, address)
    assert len(now) == 2 and first <= {c.id for c in now}  # the first instance was kept

    stack, objs = build(name, context, instances=2, family="CPU_X64_S")
    plan = api.plan(stack, target="local", state_dir=sd)
    # As on Snowflake, where the family change suspends the pool's services, the plan resumes the service.
    assert [(c.address, c.action.value, sorted(c.changed_fields)) for c in plan.actionable] == [
        (objs["pool"].address, "update", ["instance_family"]), (address, "update", ["suspended"])]
    assert api.apply(stack, target="local", state_dir=sd).ok
    after = running(docker_client, stack, address)
    assert {c.id for c in after} == {c.id for c in now}  # limits changed in place, nothing recreated
    cpus = min(3, os.cpu_count() or 1) * 1_000_000_000
    assert all(c.attrs["HostConfig"]["NanoCpus"] == cpus for c in after)

    stack, objs = build(name, context, instances=1, family="CPU_X64_S")
    assert api.apply(stack, target="local", state_dir=sd).ok
    left = running(docker_client, stack, address)
    assert [c.labels[naming.LABEL_INSTANCE] for c in left] == ["0"] and left[0].id in first
    # STOP ALL drops every service on the pool; the next plan creates it again.
    provider = LocalProvider(stack_name=name, state_dir=sd)
    assert provider.stop_all(objs["pool"].name) == [objs["svc"].fqn]
    assert running(docker_client, stack, address) == []
    assert api.plan(stack, target="local", state_dir=sd).get(address).action.value == "create"
    assert api.apply(stack, target="local", state_dir=sd).ok
    assert provider.status("WEB")["status"] == "RUNNING"
    stage = naming.local_dir(state_dir) / "stages" / objs["db"].name / "PUBLIC" / "FILES"
    assert stage.is_dir()
    assert api.destroy(stack, target="local", state_dir=sd).ok
    assert not stage.exists()  # DROP STAGE removes its files
    assert labelled(docker_client, name) == {"containers": [], "networks": [], "volumes": []}
