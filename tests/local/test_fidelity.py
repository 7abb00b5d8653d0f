"""The local fidelity checklist on a real Docker engine and registry (no mocks of Docker).

One stack (``apps.make_stack``: a public two-instance service A with a stage volume and a secret, a
private two-container service B with egress, a two-replica job, a service function) is deployed once;
the tests run in file order, each leaving it deployed and converged, then destroy it. The checklist:
public endpoints on 127.0.0.1 only and spread over ready instances, private endpoints and undeclared
ports unreachable from the host, DNS, environment and session token, secret placement, readiness,
restart vs job, localhost surviving restarts, replicas, stage volume, batching, rolling update and
image upgrade with a stable URL, operations (status, logs, suspend/resume, call), destroy.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.drivers import api
from spcs_iac.plan.target import ReadRequest
from spcs_iac.targets.local import edge, naming
from spcs_iac.targets.local.engine import socket_path
from spcs_iac.targets.local.provider import LocalProvider
from tests.local.apps import APP_A, APP_B, JOB, make_stack, write_app
from tests.local.conftest import BASE_IMAGE, ROOT, cli, labelled, unique
from tests.local.web import Poller, answers_as_app, get, inside, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
STACK = unique("fid")


class Deployed:
    def __init__(self, state_dir: Path, ctx: dict[str, Path], client: Any) -> None:
        self.state_dir, self.ctx, self.client = state_dir, ctx, client
        self.mode = "test"
        self.timings: dict[str, float] = {}
        self.lines: list[str] = []

    def stack(self, **kw: Any) -> tuple[Any, dict[str, Any]]:
        return make_stack(STACK, self.ctx, mode=kw.pop("mode", self.mode), **kw)

    def plan(self, **kw: Any) -> Any:
        return api.plan(self.stack()[0], target="local", state_dir=str(self.state_dir), **kw)

    def apply(self, **kw: Any) -> Any:
        stack, _ = self.stack(**kw)
        result = api.apply(stack, target="local", state_dir=str(self.state_dir), log=self.lines.append)
        assert result.ok, (result.failed, result.skipped)
        return result

    def provider(self) -> LocalProvider:
        return LocalProvider(stack_name=STACK, state_dir=str(self.state_dir))

    def containers(self, service: str, role: str = naming.ROLE_MEMBER) -> list[Any]:
        address = self.stack()[1][service].address
        flt = {"label": [f"{naming.LABEL_STACK}={STACK}", f"{naming.LABEL_OBJECT}={address}",
                         f"{naming.LABEL_ROLE}={role}"]}
        return sorted(self.client.containers.list(all=True, filters=flt), key=lambda c: c.name)

    def member(self, service: str, name: str, instance: int = 0) -> Any:
        return next(c for c in self.containers(service) if c.labels[naming.LABEL_CONTAINER] == name
                    and c.labels[naming.LABEL_INSTANCE] == str(instance))

    def url(self, path: str = "") -> str:
        return self.provider().endpoints("SVC_A")["api"] + path


@pytest.fixture(scope="module")
def env(state_dir: Path, docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("apps")
    ctx = {"a": write_app(root / "a", APP_A), "b": write_app(root / "b", APP_B), "job": write_app(root / "job", JOB)}
    d = Deployed(state_dir, ctx, docker_client)
    start = time.monotonic()
    d.first = d.apply()  # type: ignore[attr-defined]
    d.timings["apply"] = time.monotonic() - start
    # What the endpoint proxy routes to the moment apply returns (read before anything else happens).
    provider = d.provider()
    (proxy,) = d.containers("svc_a", naming.ROLE_PROXY)
    d.routed_after_apply = edge.servers(provider.host, proxy.id)  # type: ignore[attr-defined]
    provider.close()
    yield d
    stack, _ = d.stack()
    api.destroy(stack, target="local", state_dir=str(state_dir))  # a no-op when the last test destroyed it


# ---- bring-up --------------------------------------------------------------------------------------------
def test_apply_brings_everything_up(env: Deployed) -> None:
    summary = env.first.plan.summary()  # type: ignore[attr-defined]
    assert summary["create"] == len(env.stack()[0]) and summary["update"] == summary["delete"] == 0
    print(f"\napply of the test stack: {env.timings['apply']:.1f}s")
    assert [c.status for c in env.containers("svc_a")] == ["running", "running"]
    assert {c.labels[naming.LABEL_CONTAINER] for c in env.containers("svc_b")} == {"main", "sidecar"}
    assert len(env.containers("svc_a", naming.ROLE_NETNS)) == 2 and len(env.containers("svc_b", naming.ROLE_NETNS)) == 1
    status = env.provider().status("SVC_A")
    assert status["status"] == "RUNNING" and len(status["containers"]) == 2 and status["ready_instances"] == "2/2"
    # Every object says when it is done, and how long it took.
    svc_a = env.stack()[1]["svc_a"].address
    assert any(line.startswith(f"  created {svc_a} in ") and line.endswith("s") for line in env.lines)


def test_plan_reads_docker_once_per_run(env: Deployed) -> None:
    provider = env.provider()
    calls: list[str] = []
    real = provider.host.read

    def counted(path: str, **params: Any) -> Any:
        calls.append(path)
        return real(path, **params)

    provider.host.read = counted  # type: ignore[method-assign]  # every GET the target sends to Docker
    plan = api.plan(env.stack()[0], target="local", state_dir=str(env.state_dir), provider=provider)
    assert not plan.has_changes
    # One listing of each for the whole stack; an inspect only of spec containers that started recently.
    listings = [c for c in calls if not c.startswith("/containers/") or c == "/containers/json"]
    assert sorted(listings) == ["/containers/json", "/networks"]
    if socket_path() is not None:  # an engine on a unix socket: a plan does not even load the Docker SDK
        assert provider.host._client is None


def test_reapply_is_a_noop(env: Deployed) -> None:
    before = {c.id for svc in ("svc_a", "svc_b") for role in (naming.ROLE_MEMBER, naming.ROLE_NETNS, naming.ROLE_PROXY)
              for c in env.containers(svc, role)}
    start = time.monotonic()
    result = env.apply()
    env.timings["noop"] = time.monotonic() - start
    print(f"\nno-op re-apply: {env.timings['noop']:.2f}s")
    assert not result.plan.has_changes and result.done == []
    assert {c.id for svc in ("svc_a", "svc_b") for role in (naming.ROLE_MEMBER, naming.ROLE_NETNS, naming.ROLE_PROXY)
            for c in env.containers(svc, role)} == before


# ---- endpoints -------------------------------------------------------------------------------------------
def test_public_endpoint_is_on_127_0_0_1_only_and_spreads_over_instances(env: Deployed) -> None:
    url = env.url()
    assert url.startswith("http://127.0.0.1:")
    (proxy,) = env.containers("svc_a", naming.ROLE_PROXY)
    bindings = [b for port in proxy.attrs["HostConfig"]["PortBindings"].values() for b in port]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"] and url.endswith(f":{bindings[0]['HostPort']}")
    for c in env.containers("svc_a") + env.containers("svc_a", naming.ROLE_NETNS):
        assert not c.attrs["HostConfig"]["PortBindings"]  # instances publish nothing themselves
    seen = {get(url + "/whoami") for _ in range(12)}
    assert seen == {"svc-a-0", "svc-a-1"}  # round robin over both instances, not only instance 0


def test_when_apply_returns_the_proxy_routes_to_every_instance(env: Deployed) -> None:
    # SPCS's endpoint serves every READY instance; locally the proxy finds instances by DNS and checks
    # them each second, so apply waits until it has taken in all of them, not only the first.
    internal = [ip for c in env.containers("svc_a", naming.ROLE_NETNS)
                for net in c.attrs["NetworkSettings"]["Networks"].values() if (ip := net["IPAddress"])]
    routed = env.routed_after_apply  # type: ignore[attr-defined]
    assert routed and all(len(ips) == 2 and ips <= set(internal) for ips in routed.values()), (routed, internal)


def test_private_endpoints_and_undeclared_ports_are_not_reachable_from_the_host(env: Deployed) -> None:
    owner_b = env.containers("svc_b", naming.ROLE_NETNS)[0]
    owners_a = env.containers("svc_a", naming.ROLE_NETNS)
    assert len(owner_b.attrs["NetworkSettings"]["Networks"]) == 2  # the pool network and egress
    for owner, ports, marker in [(owner_b, (8080, 8081), "hello from b"), (owners_a[0], (8000,), "ok")]:
        for net in owner.attrs["NetworkSettings"]["Networks"].values():
            for port in ports:
                assert not answers_as_app(net["IPAddress"], port, marker), (net["IPAddress"], port)
    # The private endpoint's proxy port answers only the function gateway.
    private = env.provider().find("SVC_B", ["service"])["edge"]["ports"]["hello"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        get(f"http://127.0.0.1:{private}/hello")
    assert refused.value.code == 403
    # ... and the services of the stack reach it by its DNS names.
    assert get(env.url("/call-b")) == "hello from b"
    a0 = env.member("svc_a", "api")
    assert inside(a0, "http://svc-b:8080/hello") == "hello from b"
    status = env.provider().status("SVC_B")
    dns = status["dns_name"]
    assert dns == f"svc-b.public.{naming.dns_label(env.stack()[1]['db'].name)}.svc.spcs.internal"
    assert inside(a0, f"http://{dns}:8080/hello") == "hello from b"
    assert status["endpoints"] == {} and status["private_endpoints"] == {"hello": f"{dns}:8080"}


def test_injected_environment_secret_and_token(env: Deployed) -> None:
    values = json.loads(get(env.url("/env")))
    db = env.stack()[1]["db"].name
    assert values == {"APP_MODE": "test", "APP_KEY": "s3cr3t", "SNOWFLAKE_ACCOUNT": "LOCAL",
                      "SNOWFLAKE_HOST": "snowflake.local", "SNOWFLAKE_DATABASE": db, "SNOWFLAKE_SCHEMA": "PUBLIC",
                      "SNOWFLAKE_SERVICE_NAME": "SVC_A"}
    assert get(env.url("/token")).startswith("spcs-iac-local.")
    sidecar = env.member("svc_b", "sidecar")
    assert sidecar.exec_run(["test", "-e", "/snowflake/session/token"]).exit_code != 0  # mountSessionToken: false
    main = env.member("svc_b", "main")
    assert main.exec_run(["cat", "/run/secrets/api/secret_string"]).output == b"s3cr3t"  # directoryPath
    assert "APP_KEY" not in main.exec_run(["env"]).output.decode()  # only where the spec puts it
    a = env.member("svc_a", "api")
    code = "import os; s = os.statvfs('/scratch'); print(s.f_blocks * s.f_frsize)"
    assert a.exec_run(["python3", "-c", code]).output.strip() == str(16 * 1024**2).encode()  # memory volume
    catalog = (naming.local_dir(env.state_dir) / f"catalog-{STACK}.json").read_text()
    assert "s3cr3t" not in catalog and "scrypt:" in catalog


def test_readiness_decides_which_instances_get_requests(env: Deployed) -> None:
    a1 = env.member("svc_a", "api", instance=1)
    a1.exec_run(["touch", "/tmp/unready"])  # its readiness probe now fails
    try:
        wait_for(lambda: {get(env.url("/whoami")) for _ in range(8)} == {"svc-a-0"}, what="instance 1 taken out")
        status = env.provider().status("SVC_A")
        assert status["status"] == "PENDING" and status["ready_instances"] == "1/2"
        row = next(r for r in status["containers"] if r["instance_id"] == 1)
        assert row["status"] == "PENDING" and "readiness probe GET /healthz" in row["message"]
    finally:
        a1.exec_run(["rm", "-f", "/tmp/unready"])
    wait_for(lambda: {get(env.url("/whoami")) for _ in range(12)} == {"svc-a-0", "svc-a-1"}, what="instance 1 back")
    assert env.provider().status("SVC_A")["status"] == "RUNNING"


# ---- restarts, drift, jobs --------------------------------------------------------------------------------
def test_crashed_container_is_restarted_behind_the_same_url(env: Deployed) -> None:
    url = env.url()
    a0 = env.member("svc_a", "api")
    a0.exec_run(["python3", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/crash')"])

    def back() -> bool:
        a0.reload()
        return a0.attrs["RestartCount"] >= 1 and a0.status == "running"

    wait_for(back, what="restart by Docker")
    wait_for(lambda: {get(url + "/whoami") for _ in range(12)} == {"svc-a-0", "svc-a-1"}, what="both serving again")
    assert env.url() == url
    assert not env.plan().has_changes  # restarted by the engine: not drift
    row = next(r for r in env.provider().status("SVC_A")["containers"] if r["instance_id"] == 0)
    assert row["restart_count"] >= 1 and row["status"] == "READY"


def test_localhost_survives_the_restart_of_any_container(env: Deployed) -> None:
    for crashing, port in (("main", 8080), ("sidecar", 8081)):
        c = env.member("svc_b", crashing)
        c.exec_run(["python3", "-c", f"import urllib.request as u; u.urlopen('http://127.0.0.1:{port}/crash')"])

        def restarted(c: Any = c) -> bool:
            c.reload()
            return c.attrs["RestartCount"] >= 1 and c.status == "running"

        wait_for(restarted, what=f"{crashing} restarted")
        main = env.member("svc_b", "main")
        # main reaches the sidecar over localhost, and the other services reach main: one namespace throughout.
        assert wait_for(lambda main=main: inside(main, "http://127.0.0.1:8080/sidecar") == "sidecar",
                        what=f"localhost after {crashing} restarted")
        assert wait_for(lambda: get(env.url("/call-b")) == "hello from b", what="svc-b by DNS")
    assert not env.plan().has_changes


def test_stopped_or_removed_containers_are_drift(env: Deployed) -> None:
    main = env.member("svc_b", "main")
    main.stop(timeout=1)
    a_ids = {c.id for c in env.containers("svc_a")}
    env.member("svc_a", "api", instance=1).remove(force=True)
    plan = env.plan()
    changed = {c.address: c for c in plan.actionable}
    svc_a, svc_b = env.stack()[1]["svc_a"].address, env.stack()[1]["svc_b"].address
    assert set(changed) == {svc_a, svc_b}
    for address in (svc_a, svc_b):
        field = changed[address].fields[0]
        assert changed[address].action.value == "update" and field.name == "spec"
        assert str(field.before).startswith("drifted:")
    assert "container main is exited" in str(changed[svc_b].fields[0].before)
    env.apply()
    assert not env.plan().has_changes
    assert all(c.status == "running" for svc in ("svc_a", "svc_b") for c in env.containers(svc))
    assert len(a_ids & {c.id for c in env.containers("svc_a")}) == 1  # the untouched instance stayed


def test_job_runs_two_replicas_to_completion_without_restarts(env: Deployed) -> None:
    provider = env.provider()
    status = provider.status("LT_JOB")
    assert status["status"] == "DONE" and status["exit_codes"] == [0, 0]
    logs = provider.logs("LT_JOB")
    assert "job 0 of 2" in logs and "job 1 of 2" in logs
    for c in env.containers("job") + env.containers("job", naming.ROLE_NETNS):
        assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] in ("", "no") and c.status == "exited"


# ---- service functions ------------------------------------------------------------------------------------
def test_service_function_batches_and_the_call_command(env: Deployed, tmp_path: Path) -> None:
    provider = env.provider()
    before = len(_batches(env))
    rows = [[float(i)] for i in range(7)] + [[None]]
    assert provider.call_function("DOUBLE", rows) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, None]
    assert sorted(_batches(env)[before:]) == [2, 3, 3]  # max_batch_rows=3
    sd = ["--state-dir", str(env.state_dir)]
    done = cli("call", "DOUBLE", "1", "2", "3.5", "4", *sd)  # short name; repeated values are rows
    assert done.exit_code == 0, done.output
    assert done.stdout.split() == ["2.0", "4.0", "7.0", "8.0"]
    (tmp_path / "rows.csv").write_text('x\n10\n""\n11\n')  # a header, and an empty field: NULL
    done = cli("call", env.stack()[1]["fn"].fqn.split("(")[0], "--file", str(tmp_path / "rows.csv"), *sd)
    assert done.exit_code == 0, done.output
    assert done.stdout.split() == ["20.0", "null", "22.0"]
    done = cli("call", "DOUBLE", "--file", "-", *sd, input='[1, {"x": 2}, [3]]')
    assert done.exit_code == 0 and done.stdout.split() == ["2.0", "4.0", "6.0"], done.output
    count = len(_batches(env))
    refused = cli("call", "DOUBLE", "12", "abc", *sd)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "row 1, argument X is FLOAT" in refused.output and "'abc'" in refused.output
    assert len(_batches(env)) == count  # refused before anything was sent


def _batches(env: Deployed) -> list[int]:
    out: list[int] = []
    for c in env.containers("svc_a"):
        out += json.loads(inside(c, "http://127.0.0.1:8000/batches"))
    return out


# ---- operations -------------------------------------------------------------------------------------------
def test_status_text_shows_dns_endpoints_and_the_pool_lists_its_services(env: Deployed) -> None:
    sd = ["--state-dir", str(env.state_dir)]
    done = cli("status", "SVC_B", *sd)
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert "RUNNING (1/1 instances ready)" in text and "DNS name: svc-b.public." in text
    assert "private endpoint hello: svc-b.public." in text and ":8080" in text
    assert "restart_count" in text and "main" in text and "sidecar" in text
    done = cli("status", "SVC_A", *sd)
    assert f"public endpoint api: {env.url()}" in done.stdout
    done = cli("status", env.stack()[1]["pool"].name, *sd)
    assert done.exit_code == 0, done.output
    services = done.stdout.split("services:", 1)[1].splitlines()[0]
    assert "SVC_A" in services and "SVC_B" in services and "LT_JOB" in services


def test_logs_follow_every_container_of_every_instance(env: Deployed) -> None:
    get(env.url("/whoami"))  # something in the logs of each instance
    get(env.url("/whoami"))
    cmd = [sys.executable, "-m", "spcs_iac", "logs", "SVC_A", "--follow", "--lines", "5",
           "--state-dir", str(env.state_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 60
        while seen != {"[0/api]", "[1/api]"} and time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                break
            seen.add(line.split(" ", 1)[0])
        assert seen == {"[0/api]", "[1/api]"}, (seen, proc.stderr.read() if proc.poll() is not None else "")
        assert proc.poll() is None  # still following
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # The one chosen: no prefix; lines written after the call arrive.
    one: Any = env.provider().logs("SVC_B", container="sidecar", follow=True, lines=1)
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(next(line for line in one if "followed" in line)),
                              daemon=True)
    reader.start()
    env.member("svc_b", "main").exec_run(["curl", "-s", "http://127.0.0.1:8081/followed"])
    reader.join(timeout=30)
    assert not reader.is_alive() and "GET /followed" in "".join(found) and not "".join(found).startswith("[")
    one.close()


def test_spec_change_is_a_rolling_upgrade_behind_a_stable_url(env: Deployed) -> None:
    url = env.url()
    old = {c.labels[naming.LABEL_INSTANCE]: c.id for c in env.containers("svc_a")}
    b_ids = {c.id for c in env.containers("svc_b")}
    env.mode = "upgraded"
    plan = env.plan()
    assert [(c.address, c.action.value) for c in plan.actionable] == [(env.stack()[1]["svc_a"].address, "update")]
    with Poller(url + "/healthz") as poller:
        env.apply()
    assert poller.ok > 10 and poller.failed == []  # no request failed during the upgrade
    new = {c.labels[naming.LABEL_INSTANCE]: c for c in env.containers("svc_a")}
    assert set(new) == {"0", "1"} and not set(old.values()) & {c.id for c in new.values()}
    assert new["1"].attrs["Created"] < new["0"].attrs["Created"]  # highest instance id first
    assert env.url() == url and json.loads(get(url + "/env"))["APP_MODE"] == "upgraded"
    assert {c.id for c in env.containers("svc_b")} == b_ids
    assert not env.plan().has_changes


def test_rebuilt_image_gives_a_new_digest_and_an_upgrade_behind_the_same_url(env: Deployed) -> None:
    provider = env.provider()
    url = env.url()
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
    assert env.url() == url and get(url + "/version") == "v2"
    assert all(c.attrs["Config"]["Image"].endswith(new_digest) for c in env.containers("svc_a"))
    assert not old_ids & {c.id for c in env.containers("svc_a")}
    assert not env.plan().has_changes


def _req(resource: Any) -> ReadRequest:
    return ReadRequest(resource.address, resource.kind, resource.fqn, resource, None)


def test_suspend_resume_keeps_stage_data_and_the_url(env: Deployed) -> None:
    provider = env.provider()
    url = env.url()
    assert get(url + "/stage/write?text=kept") == "written"
    provider.suspend("service", "SVC_A")
    assert all(c.status == "exited" for c in env.containers("svc_a"))
    assert provider.status("SVC_A")["status"] == "SUSPENDED"
    # A declared service runs: the plan resumes one found suspended (declare suspended=True to keep it so).
    assert [sorted(c.changed_fields) for c in env.plan().actionable] == [["suspended"]]
    provider.resume("service", "SVC_A")
    assert env.url() == url and get(url + "/stage/read") == "kept"
    db = env.stack()[1]["db"].name
    host_file = naming.local_dir(env.state_dir) / "stages" / db / "PUBLIC" / "DATA" / "a" / "note.txt"
    assert host_file.read_text() == "kept"
    # A pool suspension stops its services; resuming the pool brings them back.
    pool = env.stack()[1]["pool"].name
    provider.suspend("compute_pool", pool)
    assert all(c.status == "exited" for svc in ("svc_a", "svc_b") for c in env.containers(svc))
    provider.resume("compute_pool", pool)
    assert env.url() == url and get(url + "/call-b") == "hello from b"
    assert not env.plan().has_changes


def test_docker_push_by_hand_to_the_repository(env: Deployed) -> None:
    repo = env.stack()[1]["repo"]
    url = env.provider().read([_req(repo)])[repo.address].outputs["repository_url"]
    assert url.endswith(f"/{repo.registry_path}") and url.startswith("127.0.0.1:")
    env.client.images.get(BASE_IMAGE).tag(f"{url}/by-hand", "1")
    for line in env.client.images.push(f"{url}/by-hand", tag="1", stream=True, decode=True):
        assert "error" not in line, line
    assert env.provider().registry.digest(f"{repo.registry_path}/by-hand", "1").startswith("sha256:")
    env.client.images.remove(f"{url}/by-hand:1")


def test_destroy_removes_everything_with_the_stage_files_and_image_tags(env: Deployed) -> None:
    stack, objs = env.stack()
    provider = env.provider()
    registry = provider.registry
    host = registry.recorded_host()
    repo_path = objs["repo"].registry_path
    assert registry.has_path(repo_path)
    assert any(t.startswith(f"{host}/{repo_path}/") for i in env.client.images.list() for t in i.tags)
    stage = naming.local_dir(env.state_dir) / "stages" / objs["db"].name / "PUBLIC" / "DATA"
    assert (stage / "a" / "note.txt").exists()
    gone = env.plan(destroy=True).get(f"stage.{objs['db'].name}.PUBLIC.DATA")
    assert any("removes 1 file of the stage" in s for s in gone.statements)
    others = _other_stacks_hold_repositories(env.state_dir)
    result = api.destroy(stack, target="local", state_dir=str(env.state_dir))
    assert result.ok, result.failed
    assert labelled(env.client, STACK) == {"containers": [], "networks": [], "volumes": []}
    assert not registry.has_path(repo_path) and not registry.has_path(repo_path.split("/")[0])
    assert env.provider().catalog.load() == {}
    assert not stage.exists()  # DROP STAGE removes its files, as in Snowflake
    refs = [r for i in env.client.images.list() for r in i.tags + (i.attrs.get("RepoDigests") or [])]
    assert not [r for r in refs if r.startswith(f"{host}/{repo_path}/")]  # the stack's image tags are gone
    port = int(host.rsplit(":", 1)[1])
    assert _listening(port) == others  # the registry stops when no stack of the state dir uses it


def _other_stacks_hold_repositories(state_dir: Path) -> bool:
    local = naming.local_dir(state_dir)
    return any(rec.get("kind") in ("image_repository", "image")
               for path in local.glob("catalog-*.json") if path.name != f"catalog-{STACK}.json"
               for rec in json.loads(path.read_text()).get("objects", {}).values())


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0
