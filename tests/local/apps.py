"""Small Flask apps and the two-service stack the local tests deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    FunctionArgument,
    Image,
    ImageRepository,
    JobService,
    NetworkRule,
    Role,
    Schema,
    Secret,
    Service,
    ServiceFunction,
    Stack,
    Stage,
)
from tests.local.conftest import BASE_IMAGE

DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
WORKDIR /app
COPY . /app/
CMD ["python3", "/app/app.py"]
"""

# Service A: public API, calls B by DNS name, answers service-function batches, writes its stage volume.
APP_A = r'''
import json, os, socket, urllib.request
from flask import Flask, jsonify, request

app = Flask(__name__)
BATCHES = []

@app.get("/healthz")
def healthz():
    return ("not ready", 503) if os.path.exists("/tmp/unready") else "ok"

@app.get("/whoami")
def whoami():
    return socket.gethostname()

@app.get("/fetch")
def fetch():
    return urllib.request.urlopen(request.args["url"], timeout=5).read()

@app.get("/version")
def version():
    return open("/app/version.txt").read().strip()

@app.get("/env")
def env():
    return jsonify({k: v for k, v in os.environ.items() if k.startswith(("SNOWFLAKE_", "APP_"))})

@app.get("/token")
def token():
    return open("/snowflake/session/token").read()

@app.get("/call-b")
def call_b():
    return urllib.request.urlopen("http://svc-b:8080/hello", timeout=5).read()

@app.post("/double")
def double():
    rows = request.get_json()["data"]
    BATCHES.append(len(rows))
    return jsonify({"data": [[r[0], None if r[1] is None else r[1] * 2] for r in rows]})

@app.get("/batches")
def batches():
    return jsonify(BATCHES)

@app.get("/stage/write")
def stage_write():
    with open("/data/note.txt", "w") as fh:
        fh.write(request.args["text"])
    return "written"

@app.get("/stage/read")
def stage_read():
    return open("/data/note.txt").read()

@app.get("/crash")
def crash():
    os._exit(1)

app.run(host="0.0.0.0", port=8000, threaded=True)
'''

# Service B: a private API plus a sidecar in the same network namespace (reached on localhost).
APP_B = r'''
import sys, urllib.request
from flask import Flask

if sys.argv[1:] == ["sidecar"]:
    from http.server import HTTPServer, BaseHTTPRequestHandler

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/crash":
                import os
                os._exit(1)
            self.send_response(200); self.end_headers(); self.wfile.write(b"sidecar")

    HTTPServer(("0.0.0.0", 8081), H).serve_forever()

app = Flask(__name__)

@app.get("/hello")
def hello():
    return "hello from b"

@app.get("/sidecar")
def sidecar():
    return urllib.request.urlopen("http://127.0.0.1:8081/", timeout=5).read()

@app.get("/crash")
def crash():
    import os
    os._exit(1)

app.run(host="0.0.0.0", port=8080, threaded=True)
'''

JOB = r'''
import os, sys
print(f"job {os.environ['SNOWFLAKE_JOB_INDEX']} of {os.environ['SNOWFLAKE_JOBS_COUNT']}", flush=True)
sys.exit(int(os.environ.get("APP_EXIT", "0")))
'''


def write_app(root: Path, code: str, version: str = "v1") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "app.py").write_text(code)
    (root / "version.txt").write_text(version + "\n")
    return root


def make_stack(name: str, ctx: dict[str, Path], *, mode: str = "test", job_exit: int = 0) -> tuple[Stack, dict[str, Any]]:
    """Stack: role, db, stage, secret, egress rule + EAI, pool, repo, 3 images, services A and B, a job and
    a service function. A: 2 instances, public endpoint, stage + memory volumes, a secret, limits.
    B: private endpoint, two containers sharing a network namespace, egress through the EAI."""
    stack = Stack(name)
    role = stack.add(Role(name=f"{name.upper().replace('-', '_')}_ROLE"))
    db = stack.add(Database(name=f"{name.upper().replace('-', '_')}_DB", owner=role))
    stack.add(Stage(name="DATA", database=db))
    stack.add(Secret(name="API_KEY", database=db, type="GENERIC_STRING", secret_string="s3cr3t"))
    rule = stack.add(NetworkRule(name="OUT", database=db, type="HOST_PORT", mode="EGRESS", value_list=["0.0.0.0:443"]))
    eai = stack.add(ExternalAccessIntegration(name=f"{name.upper().replace('-', '_')}_EAI", allowed_network_rules=[rule]))
    pool = stack.add(ComputePool(name=f"{name.upper().replace('-', '_')}_POOL", instance_family="CPU_X64_XS"))
    repo = stack.add(ImageRepository(name="REPO", database=db))
    args = {"BASE_IMAGE": BASE_IMAGE}
    img_a = stack.add(Image(name="app-a", tag="v1", repository=repo, context=str(ctx["a"]), build_args=args))
    img_b = stack.add(Image(name="app-b", tag="v1", repository=repo, context=str(ctx["b"]), build_args=args))
    img_job = stack.add(Image(name="job", tag="v1", repository=repo, context=str(ctx["job"]), build_args=args))
    svc_a = stack.add(Service(name="SVC_A", database=db, compute_pool=pool, min_instances=2, spec={"spec": {
        "containers": [{
            "name": "api", "image": img_a, "env": {"APP_MODE": mode},
            "readinessProbe": {"port": 8000, "path": "/healthz"},
            "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "scratch", "mountPath": "/scratch"}],
            "secrets": [{"snowflakeSecret": "API_KEY", "envVarName": "APP_KEY", "secretKeyRef": "secret_string"}],
            "resources": {"limits": {"memory": "256Mi", "cpu": "0.5"}},
        }],
        "endpoints": [{"name": "api", "port": 8000, "public": True}],
        "volumes": [{"name": "data", "source": "@data/a"}, {"name": "scratch", "source": "memory", "size": "16Mi"}],
    }}))
    svc_b = stack.add(Service(name="SVC_B", database=db, compute_pool=pool, external_access_integrations=[eai], spec={
        "spec": {
            "containers": [
                {"name": "main", "image": img_b, "readinessProbe": {"port": 8080, "path": "/hello"},
                 "secrets": [{"snowflakeSecret": "API_KEY", "directoryPath": "/run/secrets/api"}]},
                {"name": "sidecar", "image": img_b, "args": ["python3", "/app/app.py", "sidecar"],
                 "mountSessionToken": False},
            ],
            "endpoints": [{"name": "hello", "port": 8080}],
        }}))
    job = stack.add(JobService(name="LT_JOB", database=db, compute_pool=pool, replicas=2, spec={"spec": {
        "containers": [{"name": "work", "image": img_job, "env": {"APP_EXIT": str(job_exit)}}]}}))
    fn = stack.add(ServiceFunction(
        name="DOUBLE", database=db, arguments=[FunctionArgument(name="x", datatype="REAL")], returns="REAL",
        service=svc_a, endpoint="api", path="/double", max_batch_rows=3,
    ))
    return stack, {"db": db, "pool": pool, "repo": repo, "img_a": img_a, "svc_a": svc_a, "svc_b": svc_b, "job": job,
                   "fn": fn}


PREBUILT = f"docker.io/{BASE_IMAGE}"  # a full reference to the base image: used as it is, no build


def one_service_stack(name: str, service: str, container: dict[str, Any],
                      endpoints: list[dict[str, Any]] | None = None) -> tuple[Stack, Service]:
    """A stack of a database, a pool and one service of one container running the base image."""
    stack = Stack(name)
    prefix = name.upper().replace("-", "_")
    db = stack.add(Database(name=f"{prefix}_DB"))
    pool = stack.add(ComputePool(name=f"{prefix}_POOL", instance_family="CPU_X64_XS"))
    spec: dict[str, Any] = {"containers": [{"image": PREBUILT, **container}]}
    if endpoints:
        spec["endpoints"] = endpoints
    svc = stack.add(Service(name=service, database=db, compute_pool=pool, spec={"spec": spec}))
    return stack, svc


def same_name_services(name: str, root: Path, schemas: tuple[str, ...], *, public: bool) -> tuple[Stack, str]:
    """A stack with a service WEB (app B, endpoint ``web``) in each of ``schemas`` of one database, all on
    one pool; and the database's name."""
    stack = Stack(name)
    prefix = name.upper().replace("-", "_")
    db = stack.add(Database(name=f"{prefix}_DB"))
    pool = stack.add(ComputePool(name=f"{prefix}_POOL", instance_family="CPU_X64_XS"))
    repo = stack.add(ImageRepository(name="REPO", database=db))
    img = stack.add(Image(name="b", repository=repo, context=str(write_app(root / "b", APP_B)),
                          build_args={"BASE_IMAGE": BASE_IMAGE}))
    for schema_name in schemas:
        schema = stack.add(Schema(name=schema_name, database=db))
        stack.add(Service(name="WEB", database=db, schema=schema, compute_pool=pool, spec={"spec": {
            "containers": [{"name": "main", "image": img, "readinessProbe": {"port": 8080, "path": "/hello"}}],
            "endpoints": [{"name": "web", "port": 8080, "public": public}]}}))
    return stack, db.name
