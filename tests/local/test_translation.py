"""Local target pieces that need no Docker: catalog records round-trip, runtime translation, plan text.

DOCKER_HOST points nowhere in these tests, proving records-only stacks and plans never touch Docker.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    Grant,
    Image,
    ImageRepository,
    NetworkRule,
    Role,
    RoleGrant,
    Schema,
    Secret,
    Service,
    Stack,
    Stage,
    Warehouse,
)
from spcs_iac.drivers import api
from spcs_iac.errors import ProviderError
from spcs_iac.targets.local import naming
from spcs_iac.targets.local.provider import LocalProvider
from spcs_iac.targets.local.runtime import build_runtime, local_image, parse_cpu, parse_memory


@pytest.fixture(autouse=True)
def no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")


def records_stack(comment: str = "v1", extra: bool = False) -> Stack:
    stack = Stack("records")
    role = stack.add(Role(name="APP_ROLE", comment=comment))
    stack.add(Grant(to=role, on="ACCOUNT", privileges=["CREATE DATABASE", "BIND SERVICE ENDPOINT"]))
    stack.add(RoleGrant(role=role, to_role="SYSADMIN"))
    db = stack.add(Database(name="APP_DB", owner=role))
    stack.add(Schema(name="RAW", database=db, comment=comment))
    stack.add(Warehouse(name="APP_WH", warehouse_size="SMALL", auto_suspend=60))
    stack.add(Stage(name="FILES", database=db, encryption="SNOWFLAKE_SSE", directory_table=True))
    stack.add(Secret(name="TOKEN", database=db, type="GENERIC_STRING", secret_string="hunter2"))
    rule = stack.add(NetworkRule(name="OUT", database=db, type="HOST_PORT", mode="EGRESS", value_list=["x.com:443"]))
    stack.add(ExternalAccessIntegration(name="APP_EAI", allowed_network_rules=[rule]))
    if extra:
        stack.add(Schema(name="PUBLIC", database=db, comment="adopted"))
    return stack


def test_records_round_trip_without_docker(tmp_path: Path) -> None:
    sd = str(tmp_path)
    stack = records_stack()
    result = api.apply(stack, target="local", state_dir=sd)
    assert result.ok, result.failed
    assert not api.plan(stack, target="local", state_dir=sd).has_changes
    catalog = (naming.local_dir(tmp_path) / "catalog-records.json").read_text()
    assert "hunter2" not in catalog
    objects = json.loads(catalog)["objects"]
    assert objects["schema.APP_DB.PUBLIC"]["implicit"] is True  # CREATE DATABASE made it
    assert (naming.local_dir(tmp_path) / "stages" / "APP_DB" / "PUBLIC" / "FILES").is_dir()

    changed = records_stack(comment="v2", extra=True)
    plan = api.plan(changed, target="local", state_dir=sd)
    actions = {c.address: c.action.value for c in plan.actionable}
    assert actions == {"role.APP_ROLE": "update", "schema.APP_DB.RAW": "update", "schema.APP_DB.PUBLIC": "import"}
    assert api.apply(changed, target="local", state_dir=sd).ok
    assert not api.plan(changed, target="local", state_dir=sd).has_changes

    smaller = Stack("records")
    smaller.add(Role(name="APP_ROLE", comment="v2"))
    plan = api.plan(smaller, target="local", state_dir=sd)
    assert plan.summary()["delete"] == len(changed) - 1
    assert api.destroy(changed, target="local", state_dir=sd).ok
    assert json.loads((naming.local_dir(tmp_path) / "catalog-records.json").read_text())["objects"] == {}
    assert not (naming.local_dir(tmp_path) / "stages" / "APP_DB" / "PUBLIC" / "FILES").exists()  # DROP STAGE


def test_a_secret_change_is_noticed_by_hash(tmp_path: Path) -> None:
    sd = str(tmp_path)
    stack = records_stack()
    assert api.apply(stack, target="local", state_dir=sd).ok
    other = records_stack()
    secret = next(r for r in other if r.kind == "secret")
    secret.secret_string = "changed"
    plan = api.plan(other, target="local", state_dir=sd)
    change = plan.get(secret.address)
    assert change.action.value == "update" and change.changed_fields == {"secret_string"}


def test_image_references_and_units() -> None:
    host = "127.0.0.1:5000"
    assert local_image("/db/s/repo/app:dev", host) == "127.0.0.1:5000/db/s/repo/app:dev"
    assert local_image("/db/s/repo/app:dev@sha256:abc", host) == "127.0.0.1:5000/db/s/repo/app@sha256:abc"
    assert local_image("org-acct.registry.snowflakecomputing.com/DB/S/R/app:1", host) == "127.0.0.1:5000/db/s/r/app:1"
    assert local_image("docker.io/library/python:3.11", host) == "docker.io/library/python:3.11"
    assert parse_memory("512Mi") == 512 * 1024**2 and parse_memory("1G") == 10**9
    assert parse_cpu("500m") == 0.5 and parse_cpu(2) == 2.0
    with pytest.raises(ProviderError):
        parse_memory("12")


def service(tmp_path: Path, **container: object) -> Service:
    db = Database(name="DB")
    repo = ImageRepository(name="REPO", database=db)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    img = Image(name="app", repository=repo, context=str(tmp_path))
    pool = ComputePool(name="POOL", instance_family="CPU_X64_XS")
    return Service(name="MY_SVC", database=db, compute_pool=pool, spec={"spec": {
        "containers": [{"name": "app", "image": img, **container}],
        "endpoints": [{"name": "api", "port": 8000, "public": True}, {"name": "tcp", "port": 9000, "protocol": "TCP"}],
        "volumes": [{"name": "st", "source": "@files/sub/dir", "uid": 1000}, {"name": "mem", "source": "memory",
                                                                              "size": "64Mi"}],
    }})


def test_runtime_translation(tmp_path: Path) -> None:
    svc = service(tmp_path, sessionTokenConfig={"path": "/var/run/sf", "permission": "0600"},
                  resources={"limits": {"cpu": "250m", "memory": "1Gi"}})
    outputs = {"image.DB.PUBLIC.REPO/app:latest": {"digest": "sha256:feed"}}
    kw = {"stack": "st", "registry_host": "127.0.0.1:5000", "pool_address": "compute_pool.POOL",
          "local_root": tmp_path, "account": "ACME", "snowflake_host": "sf.local"}
    rt = build_runtime(svc, outputs, egress=False, **kw)
    c = rt["containers"][0]
    assert c["image"] == "127.0.0.1:5000/db/public/repo/app@sha256:feed"
    assert rt["aliases"] == ["instances.my-svc.public.db.svc.spcs.internal", "my-svc.public.db.svc.spcs.internal"]
    assert rt["dns"] == "my-svc" and rt["public"] is True
    # A schema whose name a DNS label cannot spell (A$B reads as a-b, like A_B) gets a domain of its own.
    assert naming.domain_label("A_B") == "a-b" and naming.domain_label("A$B").startswith("a-b-")
    assert rt["env"] == {"SNOWFLAKE_ACCOUNT": "ACME", "SNOWFLAKE_HOST": "sf.local", "SNOWFLAKE_DATABASE": "DB",
                         "SNOWFLAKE_SCHEMA": "PUBLIC", "SNOWFLAKE_SERVICE_NAME": "MY_SVC"}
    assert c["token"]["target"] == "/var/run/sf" and c["token"]["permission"] == "0600"
    assert c["cpus"] == 0.25 and c["memory"] == 1024**3
    stage = next(v for v in rt["volumes"] if v["name"] == "st")
    assert stage["host_path"] == str(tmp_path / "stages" / "DB" / "PUBLIC" / "FILES" / "sub" / "dir")
    assert next(v for v in rt["volumes"] if v["name"] == "mem")["size"] == 64 * 1024**2
    # The config hash follows the spec, the pinned digest and the egress decision.
    assert build_runtime(svc, outputs, egress=True, **kw)["hash"] != rt["hash"]
    assert build_runtime(svc, {}, egress=False, **kw)["hash"] != rt["hash"]
    assert build_runtime(svc, outputs, egress=False, **kw)["hash"] == rt["hash"]
    assert build_runtime(service(tmp_path, mountSessionToken=False), outputs, egress=False, **kw)[
        "containers"][0]["token"] is None


def test_full_creation_plan_offline(tmp_path: Path) -> None:
    stack = Stack("offline")
    stack.add(service(tmp_path))
    plan = api.plan(stack, target="local", state_dir=str(tmp_path), assume_empty=True)
    text = {c.kind: c.statements for c in plan.actionable}
    assert text["compute_pool"] == ["docker network create --internal spcs-offline-pool"]
    assert text["service"][0].startswith("docker: run 1 instance(s) x 1 container(s) of my-svc, publish api")
    assert text["image"][1].startswith("docker push") and "/db/public/repo/app:latest" in text["image"][1]


def test_unknown_option_and_names(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="purge_stages"):
        LocalProvider(stack_name="x", state_dir=str(tmp_path), bogus=1)
    provider = LocalProvider(stack_name="x", state_dir=str(tmp_path), connect=False)
    with pytest.raises(ProviderError, match="no service"):
        provider.status("NOPE")
    assert naming.network_name("My.Stack", "POOL_1", "egress") == "spcs-my.stack-pool_1-egress"


def test_the_mounted_connection_config_is_valid_toml_for_any_names(tmp_path: Path) -> None:
    from spcs_iac.targets.local.containers import _write_token

    token = {"dir": str(tmp_path / "tok"), "target": "/snowflake/session", "permission": "0644",
             "connection_config": True,
             "connection": {"account": "LOCAL", "host": "snowflake.local", "database": 'a"b\\c', "schema": "My Schema"}}
    _write_token(token)
    import tomllib

    got = tomllib.loads((tmp_path / "tok" / "connections.toml").read_text())["default"]
    assert (got["database"], got["schema"], got["account"]) == ('a"b\\c', "My Schema", "LOCAL")
    assert got["token_file_path"] == "/snowflake/session/token"
