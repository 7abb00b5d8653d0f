"""Service names on the real engine resolve as in Snowflake: a bare service name finds the service of the
caller's own schema, and the full DNS name finds any service on the pool. Two schemas (say DEV and
STAGING) sharing a pool, each with a service WEB, used to share the bare alias ``web``: a caller in DEV
reached either one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spcs_iac.drivers import api
from spcs_iac.targets.local import naming
from tests.local.apps import same_name_services
from tests.local.conftest import unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _addresses(container: Any, name: str) -> set[str]:
    result = container.exec_run(["getent", "ahostsv4", name])
    return {line.split()[0] for line in result.output.decode().splitlines() if line.strip()}


def test_a_bare_service_name_resolves_within_the_callers_schema(state_dir: Path, docker_client: Any,
                                                                 tmp_path: Path) -> None:
    stack, db = same_name_services(unique("dns"), tmp_path, ("DEV", "STAGING"), public=False)
    sd = str(state_dir)
    try:
        result = api.apply(stack, target="local", state_dir=sd)
        assert result.ok, result.failed
        outputs = api.plan(stack, target="local", state_dir=sd).outputs
        full: dict[str, set[str]] = {}
        for schema_name in ("DEV", "STAGING"):
            address = f"service.{db}.{schema_name}.WEB"
            [main] = docker_client.containers.list(filters={"label": [
                f"{naming.LABEL_OBJECT}={address}", f"{naming.LABEL_ROLE}={naming.ROLE_MEMBER}"]})
            own = _addresses(main, str(outputs[address]["dns_name"]))
            assert len(own) == 1, (address, own)
            assert _addresses(main, "web") == own, f"{address}: 'web' resolves to another schema's service"
            full[schema_name] = own
        assert full["DEV"] != full["STAGING"]
        # The full name still reaches the other schema's service.
        [dev_main] = docker_client.containers.list(filters={"label": [
            f"{naming.LABEL_OBJECT}=service.{db}.DEV.WEB", f"{naming.LABEL_ROLE}={naming.ROLE_MEMBER}"]})
        staging_dns = str(outputs[f"service.{db}.STAGING.WEB"]["dns_name"])
        assert _addresses(dev_main, staging_dns) == full["STAGING"]
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok
