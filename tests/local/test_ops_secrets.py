"""Commands on one object (`logs`, `status`, `resume`) never show a secret value the service was given, even
from a fresh process that never saw the stack: the local target knows the values its containers hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, Database, Secret, Service, Stack
from spcs_iac.drivers import api
from spcs_iac.targets.local.provider import LocalProvider
from tests.local.conftest import BASE_IMAGE, cli, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]

IMAGE = f"docker.io/{BASE_IMAGE}"  # a full reference: used as it is, no build
IN_ENV = "TopSecretZebra789"
IN_FILE = "Quokka-Hidden-4412"


def secret_stack(name: str, command: str) -> tuple[Stack, Service]:
    stack = Stack(name)
    prefix = name.upper().replace("-", "_")
    db = stack.add(Database(name=f"{prefix}_DB"))
    pool = stack.add(ComputePool(name=f"{prefix}_POOL", instance_family="CPU_X64_XS"))
    stack.add(Secret(name="APP_TOKEN", database=db, type="GENERIC_STRING", secret_string=IN_ENV))
    stack.add(Secret(name="FILE_TOKEN", database=db, type="GENERIC_STRING", secret_string=IN_FILE))
    svc = stack.add(Service(name="SEC", database=db, compute_pool=pool, spec={"spec": {"containers": [{
        "name": "app", "image": IMAGE, "command": ["sh", "-c", command],
        "secrets": [{"snowflakeSecret": "APP_TOKEN", "secretKeyRef": "secret_string", "envVarName": "APP_TOKEN"},
                    {"snowflakeSecret": "FILE_TOKEN", "directoryPath": "/secrets"}]}]}}))
    return stack, svc


def no_secret(text: str) -> bool:
    return IN_ENV.upper() not in text.upper() and IN_FILE.upper() not in text.upper()


def test_logs_and_status_redact_the_secret_values_of_the_service(state_dir: Path, docker_client: Any) -> None:
    stack, svc = secret_stack(unique("ops-sec"),
                              "echo failing with $APP_TOKEN and $(cat /secrets/secret_string); exit 3")
    sd = str(state_dir)
    try:
        error = api.apply(stack, target="local", state_dir=sd).failed[svc.address]
        assert "failing with (sensitive) and (sensitive)" in error and no_secret(error)  # as it already was
        logs = cli("logs", svc.fqn, "--state-dir", sd)
        assert logs.exit_code == 0, logs.output
        assert "failing with (sensitive) and (sensitive)" in logs.stdout and no_secret(logs.output), logs.output
        status = cli("status", svc.fqn, "--state-dir", sd)
        assert status.exit_code == 0, status.output
        assert "last log line: failing with (sensitive)" in status.stdout and no_secret(status.output), status.output
        as_json = cli("status", svc.fqn, "--state-dir", sd, "--json")
        assert json.loads(as_json.stdout)["problems"] and no_secret(as_json.output), as_json.output
        provider = LocalProvider(stack_name=stack.name, state_dir=sd)  # a process that never saw the stack
        followed = provider.logs("SEC", follow=True, lines=5)
        first = next(iter(followed))  # type: ignore[arg-type]
        followed.close()  # type: ignore[union-attr]
        assert first.startswith("failing with (sensitive)") and no_secret(first)
        # A resume that fails quotes the logs too.
        provider.suspend("service", "SEC")
        with pytest.raises(Exception) as failed:
            LocalProvider(stack_name=stack.name, state_dir=sd, ready_timeout=20).resume("service", "SEC")
        assert "failing with (sensitive)" in str(failed.value) and no_secret(str(failed.value)), str(failed.value)
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok
