"""A Pulumi program written with spcs-iac's native resources, on the local target (real CLI and Docker).

One program declares a pool, a repository, an image, a secret whose value is another resource's Output,
two services using the secret in a container, a job and a function; the test walks preview, up, a no-op
preview, a change, refresh with nothing changed and with a container deleted by hand, the CLI's ops on
Pulumi-managed objects, and destroy.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from spcs_iac.targets.local import naming
from spcs_iac.targets.local.registry import LocalRegistry
from tests.local.conftest import BASE_IMAGE, labelled, unique

pytestmark = [pytest.mark.docker, pytest.mark.pulumi, pytest.mark.slow]

APP = """
import os, sys
if sys.argv[1:] == ["job"]:
    print("job ran", flush=True)
    sys.exit(0)
from flask import Flask, jsonify, request
app = Flask(__name__)

@app.get("/hello")
def hello():
    return os.environ.get("GREETING", "?") + ":" + os.environ.get("API_KEY", "(no key)")

@app.post("/double")
def double():
    return jsonify({"data": [[row[0], row[1] * 2] for row in request.get_json()["data"]]})

app.run(host="0.0.0.0", port=8080)
"""

PROGRAM = """
import pulumi
import spcs_iac.pulumi as spcs

cfg = pulumi.Config()
db = spcs.Database("db", name="PN_DB")
pool = spcs.ComputePool("pool", name="PN_POOL", instance_family="CPU_X64_XS")
repo = spcs.ImageRepository("repo", name="REPO", database=db)
image = spcs.Image("image", name="app", tag="v1", repository=repo, context=cfg.require("context"),
                   build_args={"BASE_IMAGE": cfg.require("base")})
# The secret's value is another resource's Output.
key = spcs.Secret("key", name="API_KEY", database=db, type="GENERIC_STRING",
                  secret_string=repo.repository_url.apply(lambda url: "key-" + url.rsplit("/", 1)[-1]))


def service(label, greeting):
    return spcs.Service(label, name=label.upper(), database=db, compute_pool=pool, spec={
        "containers": [{"name": "main", "image": image, "env": {"GREETING": greeting},
                        "secrets": [{"snowflakeSecret": key, "secretKeyRef": "secret_string",
                                     "envVarName": "API_KEY"}],
                        "readinessProbe": {"port": 8080, "path": "/hello"}}],
        "endpoints": [{"name": "web", "port": 8080, "public": True}]})


a = service("svc_a", cfg.get("greeting") or "hi")
b = service("svc_b", "hello-b")
job = spcs.JobService("job", name="PN_JOB", database=db, compute_pool=pool, spec={
    "containers": [{"name": "work", "image": image, "command": ["python3", "/app.py", "job"]}]})
spcs.ServiceFunction("fn", name="DOUBLE", database=db, service=a, endpoint="web", path="/double",
                     arguments=[{"name": "x", "datatype": "INT"}], returns="INT")
pulumi.export("a", a.endpoints)
pulumi.export("b", b.endpoints)
pulumi.export("a_dns", a.dns_name)
pulumi.export("digest", image.digest)
pulumi.export("repository", repo.repository_url)
pulumi.export("job", job.status)
"""


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - a local endpoint
        return resp.read().decode()


def job_containers(client, stack: str) -> set[str]:
    return {c.id for c in client.containers.list(all=True, filters={"label": [
        f"{naming.LABEL_STACK}={stack}", f"{naming.LABEL_OBJECT}=job_service.PN_DB.PUBLIC.PN_JOB"]})}


def ops(p, *args: str) -> str:
    proc = subprocess.run(["spcs-iac", *args, "--pulumi-stack", "test"], cwd=p.dir, env=p.env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_native_program_on_the_local_target(tmp_path: Path, pulumi_project, docker_client) -> None:
    context = tmp_path / "app"
    context.mkdir()
    (context / "app.py").write_text(APP)
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.py /app.py\n"
                                        'CMD ["python3", "/app.py"]\n')
    stack = unique("pn")
    p = pulumi_project(program=PROGRAM)
    p.config("spcs-iac:stack", stack)
    p.config("context", str(context))
    p.config("base", BASE_IMAGE)
    try:
        assert sorted(p.preview()["create"]) == ["db", "fn", "image", "job", "key", "pool", "repo", "svc_a",
                                                  "svc_b"]
        p.up()
        out = p.outputs()
        assert out["digest"].startswith("sha256:") and out["job"] == "DONE"
        assert out["a_dns"] == "svc-a.public.pn-db.svc.spcs.internal"  # the full name, as SHOW SERVICES gives
        # Both services got the secret's value, which came from another resource's output.
        assert get(out["a"]["web"] + "/hello") == "hi:key-repo"
        assert get(out["b"]["web"] + "/hello") == "hello-b:key-repo"
        assert set(p.preview()) <= {"same"}

        # Never plain in Pulumi's state, nor in spcs-iac's own files.
        assert "key-repo" not in p.run("stack", "export").stdout
        for path in [*p.state_dir.rglob("*.json"), *(tmp_path / "backend").rglob("*")]:
            assert not path.is_file() or "key-repo" not in path.read_text(errors="replace"), path

        # A change: the diff names the spec path; only that service changes; the job does not run again.
        ran = job_containers(docker_client, stack)
        p.config("greeting", "hey")
        proc = p.run("preview", "--diff")
        diff = proc.stdout + proc.stderr
        assert "~ GREETING: \"hi\" => \"hey\"" in diff  # the engine's view of the input that changed
        assert "spec.containers[0].env.GREETING: 'hi' -> 'hey'" in diff
        steps = p.preview()
        assert {k: v for k, v in steps.items() if k != "same"} == {"update": ["svc_a"]}
        p.up()
        assert get(p.outputs()["a"]["web"] + "/hello") == "hey:key-repo"
        assert job_containers(docker_client, stack) == ran

        # Refresh on unchanged infrastructure changes nothing, and the next preview has nothing to do.
        assert p.refresh() == {}
        assert set(p.preview()) <= {"same"}

        # A container deleted by hand: refresh sees the drift on that service only; up repairs it.
        for c in docker_client.containers.list(all=True, filters={"label": [
                f"{naming.LABEL_OBJECT}=service.PN_DB.PUBLIC.SVC_B", f"{naming.LABEL_ROLE}={naming.ROLE_MEMBER}"]}):
            c.remove(force=True)
        assert p.refresh() == {"update": 1}
        steps = p.preview()
        assert {k: v for k, v in steps.items() if k != "same"} == {"update": ["svc_b"]}
        p.up()
        assert get(p.outputs()["b"]["web"] + "/hello") == "hello-b:key-repo"
        assert set(p.preview()) <= {"same"}
        assert job_containers(docker_client, stack) == ran

        # The CLI's ops find Pulumi-managed objects.
        assert ops(p, "call", "DOUBLE", "21").strip() == "42"
        assert "RUNNING" in ops(p, "status", "SVC_A")
        assert "job ran" in ops(p, "logs", "PN_JOB")
        assert json.loads(ops(p, "endpoints", "SVC_B"))["web"].startswith("http://127.0.0.1:")
    finally:
        p.destroy()
        LocalRegistry(naming.local_dir(p.state_dir)).stop()
    left = labelled(docker_client, stack)
    assert not any(left.values()), left
