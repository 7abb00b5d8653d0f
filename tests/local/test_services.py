"""The local target end to end on a real Docker engine and registry (no mocks of Docker).

The tests share one deployed stack and run in file order, each leaving it deployed and converged:
bring-up, reachability, injected environment, restarts and drift, jobs, service functions, no-op
re-apply, rolling upgrades (spec change, rebuilt image), suspend/resume, registry, destroy.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.drivers import api
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.provider import LocalProvider
from tests.local.apps import APP_A, APP_B, JOB, make_stack, write_app
from tests.local.conftest import labelled, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]
STACK = unique("lt-svc")


class Deployed:
    def __init__(self, state_dir: Path, ctx: dict[str, Path], client: Any) -> None:
        self.state_dir, self.ctx, self.client = state_dir, ctx, client
        self.mode = "test"
        self.timings: dict[str, float] = {}

    def stack(self, **kw: Any) -> tuple[Any, dict[str, Any]]:
        return make_stack(STACK, self.ctx, mode=kw.pop("mode", self.mode), **kw)

    def plan(self) -> Any:
        return api.plan(self.stack()[0], target="local", state_dir=str(self.state_dir))

    def apply(self, **kw: Any) -> Any:
        stack, _ = self.stack(**kw)
        result = api.apply(stack, target="local", state_dir=str(self.state_dir))
        assert result.ok, (result.failed, result.skipped)
        return result

    def provider(self) -> LocalProvider:
        return LocalProvider(stack_name=STACK, state_dir=str(self.state_dir))

    def containers(self, service: str) -> list[Any]:
        address = self.stack()[1][service].address
        flt = {"label": [f"{naming.LABEL_STACK}={STACK}", f"{naming.LABEL_OBJECT}={address}"]}
        return sorted(self.client.containers.list(all=True, filters=flt), key=lambda c: c.name)

    def url(self, path: str) -> str:
        base = self.provider().endpoints("SVC_A")["api"]
        return base + path


def get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - local test endpoints
        return resp.read().decode()


def wait_for(check: Any, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # retried until the deadline
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


@pytest.fixture(scope="module")
def env(state_dir: Path, docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    root = tmp_path_factory.mktemp("apps")
    ctx = {"a": write_app(root / "a", APP_A), "b": write_app(root / "b", APP_B), "job": write_app(root / "job", JOB)}
    d = Deployed(state_dir, ctx, docker_client)
    start = time.monotonic()
    result = d.apply()
    d.timings["apply"] = time.monotonic() - start
    d.first = result  # type: ignore[attr-defined]
    return d


def test_apply_brings_everything_up(env: Deployed) -> None:
    summary = env.first.plan.summary()  # type: ignore[attr-defined]
    assert summary["create"] == len(env.stack()[0]) and summary["update"] == summary["delete"] == 0
    print(f"\napply of the test stack: {env.timings['apply']:.1f}s")
    assert [c.status for c in env.containers("svc_a")] == ["running", "running"]
    assert {c.labels[naming.LABEL_CONTAINER] for c in env.containers("svc_b")} == {"main", "sidecar"}
    status = env.provider().status("SVC_A")
    assert status["status"] == "RUNNING" and len(status["containers"]) == 2


def test_plan_reads_docker_once_per_run(env: Deployed) -> None:
    provider = env.provider()
    calls = {"containers": 0, "networks": 0}
    api = provider.host.api
    for name in calls:
        real = getattr(api, name)

        def counted(*a: Any, _real: Any = real, _name: str = name, **k: Any) -> Any:
            calls[_name] += 1
            return _real(*a, **k)

        setattr(api, name, counted)
    plan = api.plan(env.stack()[0], target="local", state_dir=str(env.state_dir), provider=provider)
    assert not plan.has_changes
    assert calls == {"containers": 1, "networks": 1}


def test_reapply_is_a_noop(env: Deployed) -> None:
    before = {c.id for svc in ("svc_a", "svc_b") for c in env.containers(svc)}
    start = time.monotonic()
    result = env.apply()
    env.timings["noop"] = time.monotonic() - start
    print(f"\nno-op re-apply: {env.timings['noop']:.2f}s")
    assert not result.plan.has_changes and result.done == []
    assert {c.id for svc in ("svc_a", "svc_b") for c in env.containers(svc)} == before


def test_public_endpoint_from_host(env: Deployed) -> None:
    url = env.provider().endpoints("SVC_A")["api"]
    assert url.startswith("http://127.0.0.1:")
    assert get(url + "/healthz") == "ok"
    for c in env.containers("svc_a"):
        bindings = c.attrs["HostConfig"]["PortBindings"]["8000/tcp"]
        assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]


def test_private_endpoint_is_not_published(env: Deployed) -> None:
    for c in env.containers("svc_b"):
        assert not c.attrs["NetworkSettings"]["Ports"] and not c.attrs["HostConfig"]["PortBindings"]
    status = env.provider().status("SVC_B")
    assert status["endpoints"] == {} and status["private_endpoints"] == {"hello": "svc-b:8080"}


def test_services_reach_each_other_by_dns_and_share_netns(env: Deployed) -> None:
    assert get(env.url("/call-b")) == "hello from b"
    main = next(c for c in env.containers("svc_b") if c.labels[naming.LABEL_CONTAINER] == "main")
    sidecar = next(c for c in env.containers("svc_b") if c.labels[naming.LABEL_CONTAINER] == "sidecar")
    assert sidecar.attrs["HostConfig"]["NetworkMode"] == f"container:{main.id}"
    code, out = main.exec_run(["python3", "-c", "import urllib.request as u;print(u.urlopen('http://127.0.0.1:8080/sidecar').read())"])
    assert code == 0 and b"sidecar" in out


def test_networks_limits_and_egress(env: Deployed) -> None:
    pool = env.stack()[1]["pool"]
    internal = naming.network_name(STACK, pool.name)
    a, b = env.containers("svc_a")[0], next(c for c in env.containers("svc_b")
                                            if c.labels[naming.LABEL_ROLE] == "netns")
    # A has no integration: pool network + the masquerade-less ingress network (publishing only).
    assert set(a.attrs["NetworkSettings"]["Networks"]) == {internal, f"{internal}-ingress"}
    assert set(b.attrs["NetworkSettings"]["Networks"]) == {internal, f"{internal}-egress"}
    nets = {n.name: n for n in env.client.networks.list(names=[internal])}
    assert nets[internal].attrs["Internal"] is True
    ingress = env.client.networks.get(f"{internal}-ingress").attrs
    assert ingress["Options"]["com.docker.network.bridge.enable_ip_masquerade"] == "false"
    assert "svc-b" in b.attrs["NetworkSettings"]["Networks"][internal]["Aliases"]
    # Limits: A's own (0.5 CPU, 256Mi); B gets its pool's CPU_X64_XS (1 vCPU, capped to the host).
    assert a.attrs["HostConfig"]["NanoCpus"] == 500_000_000 and a.attrs["HostConfig"]["Memory"] == 256 * 1024**2
    assert b.attrs["HostConfig"]["NanoCpus"] == 1_000_000_000
    for kind in ("containers", "networks", "volumes"):
        for obj in labelled(env.client, STACK)[kind]:
            labels = obj.labels if kind == "containers" else obj.attrs["Labels"]
            assert {naming.LABEL_STACK, naming.LABEL_OBJECT, naming.LABEL_HASH} <= set(labels), obj.name


def test_injected_environment_secret_and_token(env: Deployed) -> None:
    values = json.loads(get(env.url("/env")))
    db = env.stack()[1]["db"].name
    assert values == {"APP_MODE": "test", "APP_KEY": "s3cr3t", "SNOWFLAKE_ACCOUNT": "LOCAL",
                      "SNOWFLAKE_HOST": "snowflake.local", "SNOWFLAKE_DATABASE": db, "SNOWFLAKE_SCHEMA": "PUBLIC",
                      "SNOWFLAKE_SERVICE_NAME": "SVC_A"}
    assert get(env.url("/token")).startswith("spcs-iac-local.")
    sidecar = next(c for c in env.containers("svc_b") if c.labels[naming.LABEL_CONTAINER] == "sidecar")
    assert sidecar.exec_run(["test", "-e", "/snowflake/session/token"]).exit_code != 0  # mountSessionToken: false
    main = next(c for c in env.containers("svc_b") if c.labels[naming.LABEL_CONTAINER] == "main")
    assert main.exec_run(["cat", "/run/secrets/api/secret_string"]).output == b"s3cr3t"  # directoryPath
    a = env.containers("svc_a")[0]
    code = "import os; s = os.statvfs('/scratch'); print(s.f_blocks * s.f_frsize)"
    assert a.exec_run(["python3", "-c", code]).output.strip() == str(16 * 1024**2).encode()  # memory volume
    catalog = (naming.local_dir(env.state_dir) / f"catalog-{STACK}.json").read_text()
    assert "s3cr3t" not in catalog and "sha256:" in catalog


def test_crashed_container_is_restarted(env: Deployed) -> None:
    c = env.containers("svc_a")[0]
    port = c.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"]
    with pytest.raises(OSError):
        get(f"http://127.0.0.1:{port}/crash", timeout=5)

    def back() -> bool:
        c.reload()
        return c.attrs["RestartCount"] >= 1 and c.status == "running"

    wait_for(back, what="restart by Docker")
    wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz") == "ok", what="ready again on the same port")
    assert not env.plan().has_changes  # restarted by the engine: not drift


def test_stopped_or_removed_containers_are_drift(env: Deployed) -> None:
    main = next(c for c in env.containers("svc_b") if c.labels[naming.LABEL_CONTAINER] == "main")
    main.stop(timeout=1)
    a_ids = {c.id for c in env.containers("svc_a")}
    env.containers("svc_a")[1].remove(force=True)
    plan = env.plan()
    changed = {c.address: c for c in plan.actionable}
    svc_a, svc_b = env.stack()[1]["svc_a"].address, env.stack()[1]["svc_b"].address
    assert set(changed) == {svc_a, svc_b}
    for address in (svc_a, svc_b):
        field = changed[address].fields[0]
        assert changed[address].action.value == "update" and field.name == "spec"
        assert str(field.before).startswith("drifted:")
    assert "main is exited" in str(changed[svc_b].fields[0].before)
    env.apply()
    assert not env.plan().has_changes
    assert all(c.status == "running" for svc in ("svc_a", "svc_b") for c in env.containers(svc))
    assert len(a_ids & {c.id for c in env.containers("svc_a")}) == 1  # the untouched instance stayed


def test_job_runs_two_replicas_to_completion(env: Deployed) -> None:
    provider = env.provider()
    status = provider.status("LT_JOB")
    assert status["status"] == "DONE" and status["exit_codes"] == [0, 0]
    logs = provider.logs("LT_JOB")
    assert "job 0 of 2" in logs and "job 1 of 2" in logs
    for c in env.containers("job"):
        assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] in ("", "no")


def test_service_function_batches(env: Deployed) -> None:
    provider = env.provider()
    rows = [[float(i)] for i in range(7)] + [[None]]
    before = len(_batches(env))
    assert provider.call_function("DOUBLE", rows) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, None]
    assert provider.call_function(env.stack()[1]["fn"].fqn.split("(")[0], [21]) == [42]
    sizes = _batches(env)[before:]
    assert sorted(sizes) == [1, 2, 3, 3]  # max_batch_rows=3 (two instances share the batches)


def _batches(env: Deployed) -> list[int]:
    out = []
    for c in env.containers("svc_a"):
        port = c.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"]
        out += json.loads(get(f"http://127.0.0.1:{port}/batches"))
    return out


def test_spec_change_is_a_rolling_upgrade(env: Deployed) -> None:
    old = {c.labels[naming.LABEL_INSTANCE]: c.id for c in env.containers("svc_a")}
    b_ids = {c.id for c in env.containers("svc_b")}
    env.mode = "upgraded"
    plan = env.plan()
    assert [(c.address, c.action.value) for c in plan.actionable] == [(env.stack()[1]["svc_a"].address, "update")]
    env.apply()
    new = {c.labels[naming.LABEL_INSTANCE]: c for c in env.containers("svc_a")}
    assert set(new) == {"0", "1"} and not set(old.values()) & {c.id for c in new.values()}
    assert new["1"].attrs["Created"] < new["0"].attrs["Created"]  # highest instance id first
    assert json.loads(get(env.url("/env")))["APP_MODE"] == "upgraded"
    assert {c.id for c in env.containers("svc_b")} == b_ids
    assert not env.plan().has_changes


def test_rebuilt_image_gives_a_new_digest_and_an_upgrade(env: Deployed) -> None:
    provider = env.provider()
    img = env.stack()[1]["img_a"]
    old_digest = provider.read([_req(img)])[img.address].outputs["digest"]
    old_ids = {c.id for c in env.containers("svc_a")}
    (env.ctx["a"] / "version.txt").write_text("v2\n")
    plan = env.plan()
    actions = {c.address: c.action.value for c in plan.actionable}
    assert actions == {img.address: "update", env.stack()[1]["svc_a"].address: "update"}
    env.apply()
    new_digest = provider.read([_req(img)])[img.address].outputs["digest"]
    assert new_digest != old_digest
    assert get(env.url("/version")) == "v2"
    assert all(c.attrs["Config"]["Image"].endswith(new_digest) for c in env.containers("svc_a"))
    assert not old_ids & {c.id for c in env.containers("svc_a")}
    assert not env.plan().has_changes


def _req(resource: Any) -> Any:
    from spcs_iac.plan.target import ReadRequest

    return ReadRequest(resource.address, resource.kind, resource.fqn, resource, None)


def test_suspend_resume_keeps_stage_data(env: Deployed) -> None:
    provider = env.provider()
    assert get(env.url("/stage/write?text=kept")) == "written"
    url = env.url("/stage/read")
    provider.suspend("service", "SVC_A")
    assert all(c.status == "exited" for c in env.containers("svc_a"))
    assert provider.status("SVC_A")["status"] == "SUSPENDED"
    assert not env.plan().has_changes  # suspended on purpose: not drift
    provider.resume("service", "SVC_A")
    assert get(url) == "kept"  # same endpoint URL after resume
    db = env.stack()[1]["db"].name
    host_file = naming.local_dir(env.state_dir) / "stages" / db / "PUBLIC" / "DATA" / "a" / "note.txt"
    assert host_file.read_text() == "kept"
    # A pool suspension stops its services; resuming the pool brings them back.
    pool = env.stack()[1]["pool"].name
    provider.suspend("compute_pool", pool)
    assert all(c.status == "exited" for svc in ("svc_a", "svc_b") for c in env.containers(svc))
    provider.resume("compute_pool", pool)
    assert get(env.url("/call-b")) == "hello from b"
    assert not env.plan().has_changes


def test_docker_push_by_hand_to_the_repository(env: Deployed) -> None:
    from tests.local.conftest import BASE_IMAGE

    repo = env.stack()[1]["repo"]
    url = env.provider().read([_req(repo)])[repo.address].outputs["repository_url"]
    assert url.endswith(f"/{repo.registry_path}") and url.startswith("127.0.0.1:")
    env.client.images.get(BASE_IMAGE).tag(f"{url}/by-hand", "1")
    for line in env.client.images.push(f"{url}/by-hand", tag="1", stream=True, decode=True):
        assert "error" not in line, line
    assert env.provider().registry.digest(f"{repo.registry_path}/by-hand", "1").startswith("sha256:")
    env.client.images.remove(f"{url}/by-hand:1")


def test_destroy_leaves_nothing(env: Deployed) -> None:
    stack, objs = env.stack()
    registry = env.provider().registry
    repo_path = objs["repo"].registry_path
    assert registry.has_path(repo_path)
    result = api.destroy(stack, target="local", state_dir=str(env.state_dir))
    assert result.ok, result.failed
    left = labelled(env.client, STACK)
    assert left == {"containers": [], "networks": [], "volumes": []}
    assert not registry.has_path(repo_path) and not registry.has_path(repo_path.split("/")[0])
    assert env.provider().catalog.load() == {}
    stage = naming.local_dir(env.state_dir) / "stages" / objs["db"].name / "PUBLIC" / "DATA"
    assert (stage / "a" / "note.txt").exists()  # stage files outlive the stack unless purge_stages
    assert not env.plan().actionable or env.plan().summary()["create"] == len(stack)
