"""`pulumi up` of a container stack on the local target: image built and pushed, service running."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from spcs_iac.targets.local import naming
from spcs_iac.targets.local.registry import LocalRegistry
from tests.local.conftest import BASE_IMAGE, labelled, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]

APP = """
import os
from flask import Flask
app = Flask(__name__)

@app.get("/hello")
def hello():
    return os.environ.get("GREETING", "?") + ":" + os.environ.get("TOKEN", "(no token)")

app.run(host="0.0.0.0", port=8080)
"""

STACK = """
import os
from spcs_iac import ComputePool, Database, Image, ImageRepository, Secret, Service, ServiceSpec, Stack

stack = Stack({name!r})
db = stack.add(Database(name="PL_DB"))
pool = stack.add(ComputePool(name="PL_POOL", instance_family="CPU_X64_XS"))
repo = stack.add(ImageRepository(name="REPO", database=db))
image = stack.add(Image(name="hello", tag="v1", repository=repo, context={context!r},
                        build_args={{"BASE_IMAGE": {base!r}}}))
stack.add(Secret(name="TOKEN", database=db, type="GENERIC_STRING", secret_string="tok-9d2f"))
stack.add(Service(name="HELLO", database=db, compute_pool=pool, spec=ServiceSpec.model_validate({{"spec": {{
    "containers": [{{"name": "main", "image": image, "env": {{"GREETING": os.environ.get("GREETING", "hi")}},
                    "secrets": [{{"snowflakeSecret": "TOKEN", "secretKeyRef": "secret_string",
                                 "envVarName": "TOKEN"}}],
                    "readinessProbe": {{"port": 8080, "path": "/hello"}}}}],
    "endpoints": [{{"name": "web", "port": 8080, "public": True}}]}}}})))
"""


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - a local endpoint
        return resp.read().decode()


def test_pulumi_on_the_local_target(tmp_path: Path, pulumi_project, docker_client) -> None:
    context = tmp_path / "app"
    context.mkdir()
    (context / "app.py").write_text(APP)
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.py /app.py\n"
                                        'CMD ["python3", "/app.py"]\n')
    name = unique("pulumi-local")
    stack_file = tmp_path / "local_stack.py"
    stack_file.write_text(STACK.format(name=name, context=str(context), base=BASE_IMAGE))
    p = pulumi_project(stack_file, "local")

    try:
        assert len(p.preview()["create"]) == 6
        out = p.up()
        assert "8 created" in out  # six objects, their provider and the Pulumi stack itself
        outputs = json.loads(p.run("stack", "output", "--json").stdout)
        url = outputs["service.PL_DB.PUBLIC.HELLO.endpoints"]["web"]
        assert get(url + "/hello") == "hi:tok-9d2f"  # the secret, named in the spec, reached the container
        assert "tok-9d2f" not in p.run("stack", "export").stdout
        assert outputs["image.PL_DB.PUBLIC.REPO/hello:v1.digest"].startswith("sha256:")
        assert set(p.preview()) <= {"same"}

        assert p.preview(extra_env={"GREETING": "hello"}).get("update") == ["service.PL_DB.PUBLIC.HELLO"]
        p.up(extra_env={"GREETING": "hello"})
        url = json.loads(p.run("stack", "output", "--json").stdout)["service.PL_DB.PUBLIC.HELLO.endpoints"]["web"]
        assert get(url + "/hello") == "hello:tok-9d2f"
    finally:
        p.destroy()
        # The registry the provider started for this state directory is a daemon: stop it with the test.
        LocalRegistry(naming.local_dir(tmp_path / "spcs")).stop()
    left = labelled(docker_client, name)
    assert not any(left.values()), left
