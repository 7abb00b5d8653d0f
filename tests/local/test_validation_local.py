"""What SPCS would refuse is caught before anything runs on the local target (real Docker engine): port
collisions, secrets / stages / integrations the stack does not declare, a missing build context. The
messages name the object, the field and what was given, without tracebacks, pydantic URLs or internal
paths; `validate` and `plan` fail and nothing is created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spcs_iac.targets.local import naming
from spcs_iac.targets.local.registry import LocalRegistry
from tests.local.conftest import cli, labelled, unique

pytestmark = [pytest.mark.docker]

HEAD = """\
from spcs_iac import *
stack = Stack({name!r})
db = stack.add(Database(name="{prefix}_DB"))
stack.add(Secret(name="API_KEY", database=db, type="GENERIC_STRING", secret_string="s3cr3t"))
stack.add(Stage(name="DATA", database=db))
pool = stack.add(ComputePool(name="{prefix}_POOL", instance_family="CPU_X64_XS"))
repo = stack.add(ImageRepository(name="REPO", database=db))
img = stack.add(Image(name="app", repository=repo, context={context!r}))
"""


def write_stack(tmp_path: Path, name: str, body: str, context: Path | None = None) -> str:
    if context is None:
        context = tmp_path / "ctx"
        context.mkdir(exist_ok=True)
        (context / "Dockerfile").write_text("FROM scratch\n")
    path = tmp_path / f"{name}.py"
    path.write_text(HEAD.format(name=name, prefix=name.upper().replace("-", "_"), context=str(context)) + body)
    return str(path)


def service(containers: str, extra: str = "", endpoints: str = "[]", volumes: str = "[]") -> str:
    return (f'stack.add(Service(name="WEB", database=db, compute_pool=pool{extra}, spec={{"spec": {{'
            f'"containers": {containers}, "endpoints": {endpoints}, "volumes": {volumes}}}}}))\n')


def clean(output: str) -> None:
    """No traceback, no pydantic URL, no path inside the package."""
    assert "Traceback" not in output and "pydantic.dev" not in output and "site-packages" not in output
    assert "spcs_iac/" not in output


def refused(state: Path, stack_file: str, *commands: str) -> str:
    out = ""
    try:
        for command in commands or ("validate", "plan"):
            done = cli(command, stack_file, "--state-dir", str(state))
            assert done.exit_code == 1, done.output
            clean(done.output)
            out = done.output
    finally:
        LocalRegistry(naming.local_dir(state)).stop()  # reading the images started this state dir's registry
    return " ".join(out.split())


def test_names_the_stack_does_not_declare_fail_validate_and_plan(tmp_path: Path, docker_client: Any) -> None:
    name = unique("vl-names")
    body = service(
        '[{"name": "main", "image": img, "secrets": [{"snowflakeSecret": "API_KEYY", "envVarName": "KEY", '
        '"secretKeyRef": "secret_string"}], "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]',
        extra=', external_access_integrations=["NO_SUCH_EAI"]',
        volumes='[{"name": "data", "source": "@NO_SUCH_STAGE/sub"}]',
    )
    stack_file = write_stack(tmp_path, name, body)
    text = refused(tmp_path / "state", stack_file)
    fqn = f"{name.upper().replace('-', '_')}_DB.PUBLIC"
    assert (f"Service {fqn}.WEB: spec.containers[0].secrets[0].snowflakeSecret: names secret {fqn}.API_KEYY, "
            "which the stack does not declare") in text and "(given: 'API_KEYY')" in text
    assert f"spec.volumes[0].source: names stage {fqn}.NO_SUCH_STAGE" in text
    assert "external_access_integrations: names external access integration NO_SUCH_EAI" in text
    # Nothing ran: no containers, no networks, no stage directory for the misspelled stage.
    assert labelled(docker_client, name) == {"containers": [], "networks": [], "volumes": []}
    assert not list((tmp_path / "state").rglob("NO_SUCH_STAGE"))


def test_port_collisions_and_a_missing_context_fail_validate(tmp_path: Path, docker_client: Any) -> None:
    name = unique("vl-ports")
    body = service(
        '[{"name": "main", "image": img, "readinessProbe": {"port": 8080, "path": "/"}}, '
        '{"name": "sidecar", "image": img, "readinessProbe": {"port": 8080, "path": "/health"}}]',
        endpoints='[{"name": "api", "port": 8080, "public": True}, {"name": "admin", "port": 8080}]',
    )
    stack_file = write_stack(tmp_path, name, body, context=tmp_path / "no-such-dir")
    text = refused(tmp_path / "state", stack_file)
    fqn = f"{name.upper().replace('-', '_')}_DB.PUBLIC.WEB"
    assert (f"Service {fqn}: spec.endpoints[1].port: endpoint admin uses port 8080, which endpoint api already "
            "uses") in text
    assert (f"Service {fqn}: spec.containers[1].readinessProbe.port: container sidecar declares port 8080, which "
            "container main declares too") in text
    assert "context: does not exist; the image is built from this directory" in text
    assert str(tmp_path / "no-such-dir") in text
    assert labelled(docker_client, name) == {"containers": [], "networks": [], "volumes": []}


def test_declaration_errors_name_the_service_and_the_container(tmp_path: Path) -> None:
    name = unique("vl-decl")
    body = service('[{"name": "main", "image": img, "readinessProbe": {"port": 0, "path": "/"}, "bogus": 1}]')
    text = refused(tmp_path / "state", write_stack(tmp_path, name, body), "validate")
    assert "Service 'WEB': spec.containers[main].readinessProbe.port: Input should be greater than or equal to 1" in text
    assert "Service 'WEB': spec.containers[main].bogus: unknown field" in text


def test_places_the_stack_does_not_declare_fail_validate_and_plan(tmp_path: Path, docker_client: Any) -> None:
    """A schema in a missing database (which the local target made anyway, where Snowflake refuses it), and a
    service on a missing pool, owned by a missing role, with a missing query warehouse: all named before
    anything runs, where the apply used to create the database and schema and then fail on the service."""
    name = unique("vl-places")
    prefix = name.upper().replace("-", "_")
    body = (
        'stack.add(Schema(name="S", database="NO_SUCH_DB"))\n'
        'stack.add(Service(name="WEB", database=db, compute_pool="NO_SUCH_POOL", owner="NO_SUCH_ROLE", '
        'query_warehouse="NO_SUCH_WH", spec={"spec": {"containers": [{"name": "main", "image": img}]}}))\n'
        'stack.add(ServiceFunction(name="F", database=db, service="NO_SUCH_SVC", endpoint="api", '
        'path="/f", returns="TEXT"))\n'
    )
    text = refused(tmp_path / "state", write_stack(tmp_path, name, body))
    assert ("Schema NO_SUCH_DB.S: database: names database NO_SUCH_DB, which the stack does not declare and the "
            "local target does not have") in text and "(given: 'NO_SUCH_DB')" in text
    web = f"Service {prefix}_DB.PUBLIC.WEB"
    assert f"{web}: compute_pool: names compute pool NO_SUCH_POOL" in text
    assert f"{web}: owner: names role NO_SUCH_ROLE" in text
    assert f"{web}: query_warehouse: names warehouse NO_SUCH_WH" in text
    assert f"service: names service {prefix}_DB.PUBLIC.NO_SUCH_SVC" in text
    # system roles and the database's own PUBLIC schema are never missing
    assert "ACCOUNTADMIN" not in text and "names schema" not in text
    assert labelled(docker_client, name) == {"containers": [], "networks": [], "volumes": []}


def test_places_another_stack_of_the_state_directory_declares_are_found(tmp_path: Path) -> None:
    """The shared-infrastructure pattern: one stack owns the database, pool and role, another names them."""
    state = tmp_path / "state"
    base, app = unique("vl-base"), unique("vl-app")
    prefix = base.upper().replace("-", "_")
    base_file = tmp_path / f"{base}.py"
    base_file.write_text(
        "from spcs_iac import *\n"
        f"stack = Stack({base!r})\n"
        f'role = stack.add(Role(name="{prefix}_OWNER"))\n'
        f'db = stack.add(Database(name="{prefix}_DB", owner=role))\n'
        f'stack.add(Schema(name="APP", database=db, owner=role))\n'
        f'stack.add(Warehouse(name="{prefix}_WH", warehouse_size="XSMALL"))\n')
    app_file = tmp_path / f"{app}.py"
    app_file.write_text(
        "from spcs_iac import *\n"
        f"stack = Stack({app!r})\n"
        f'stack.add(Stage(name="FILES", database="{prefix}_DB", schema="APP", owner="{prefix}_OWNER"))\n'
        f'stack.add(Schema(name="MORE", database="{prefix}_DB", owner="SYSADMIN"))\n')
    try:
        before = cli("plan", str(app_file), "--state-dir", str(state))
        assert before.exit_code == 1 and f"names database {prefix}_DB" in before.output, before.output
        assert cli("apply", str(base_file), "--state-dir", str(state), "--yes").exit_code == 0
        after = cli("plan", str(app_file), "--state-dir", str(state))
        assert after.exit_code == 0, after.output
        assert "2 to create" in after.output
    finally:
        cli("destroy", str(base_file), "--state-dir", str(state), "--yes")
        LocalRegistry(naming.local_dir(state)).stop()
