"""The quickstart stack (stacks/quickstart.py) on the local target: up, CONVERT_UDF(12) = 53.6, no-op
re-apply, the notebook's stage-backed home surviving suspend/resume, destroy."""

from __future__ import annotations

import importlib.util
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.drivers import api
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.provider import LocalProvider
from tests.local.conftest import BASE_IMAGE, ROOT, labelled, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def load_quickstart(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SPCS_IAC_BASE_IMAGE", BASE_IMAGE)  # read when the module is executed
    spec = importlib.util.spec_from_file_location("quickstart_under_test", ROOT / "stacks" / "quickstart.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.stack.name = unique("quickstart")  # Docker names are global: keep parallel sessions apart
    return module.stack


def http(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - local endpoint
        return json.loads(resp.read())


def test_quickstart_end_to_end(state_dir: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = load_quickstart(monkeypatch)
    sd = str(state_dir)
    start = time.monotonic()
    result = api.apply(stack, target="local", state_dir=sd)
    took = time.monotonic() - start
    assert result.ok, (result.failed, result.skipped)
    assert not api.plan(stack, target="local", state_dir=sd).has_changes
    start = time.monotonic()
    again = api.apply(stack, target="local", state_dir=sd)
    noop = time.monotonic() - start
    assert again.ok and not again.plan.has_changes
    print(f"\nquickstart: apply {took:.1f}s, no-op re-apply {noop:.2f}s")

    provider = LocalProvider(stack_name=stack.name, state_dir=sd)
    assert provider.call_function("CONTAINER_HOL_DB.PUBLIC.CONVERT_UDF", [[12]]) == [53.6]
    assert provider.call_function("CONVERT_UDF", [0, 100, -40]) == [32.0, 212.0, -40.0]

    # The notebook's home is the @volumes stage: a notebook written there survives suspend/resume.
    base = provider.endpoints("JUPYTER_SNOWPARK_SERVICE")["jupyter-snowpark"]
    assert http("GET", base + "/api/status")["status"] == "ok"
    http("PUT", base + "/api/contents/hello.ipynb", {"content": '{"cells": []}'})
    provider.suspend("service", "JUPYTER_SNOWPARK_SERVICE")
    assert provider.status("JUPYTER_SNOWPARK_SERVICE")["status"] == "SUSPENDED"
    provider.resume("service", "JUPYTER_SNOWPARK_SERVICE")
    base = provider.endpoints("JUPYTER_SNOWPARK_SERVICE")["jupyter-snowpark"]
    assert http("GET", base + "/api/contents/hello.ipynb")["content"] == '{"cells": []}'
    home = naming.local_dir(state_dir) / "stages" / "CONTAINER_HOL_DB" / "PUBLIC" / "VOLUMES" / "jupyter-snowpark"
    assert (home / "hello.ipynb").stat().st_uid == 1000  # the spec's uid

    destroyed = api.destroy(stack, target="local", state_dir=sd)
    assert destroyed.ok, destroyed.failed
    assert labelled(docker_client, stack.name) == {"containers": [], "networks": [], "volumes": []}
    assert not provider.registry.has_path("container_hol_db/public/image_repo")
    assert not home.exists()  # dropping the stage removed its files, as in Snowflake
