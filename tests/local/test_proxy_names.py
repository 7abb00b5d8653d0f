"""Endpoint proxies on the real engine: services whose names read alike once made DNS-safe (schemas A_B
and A$B both give ``a-b``) each keep a proxy of their own. Starting the second one used to take the first's
proxy for a leftover of its own and remove it, so the first service's public endpoint went dark."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.drivers import api
from spcs_iac.targets.local import naming
from tests.local.apps import same_name_services
from tests.local.conftest import unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_services_whose_names_read_alike_keep_a_proxy_each(state_dir: Path, docker_client: Any,
                                                            tmp_path: Path) -> None:
    name = unique("alike")
    stack, _ = same_name_services(name, tmp_path, ("A_B", "A$B"), public=True)
    sd = str(state_dir)
    try:
        result = api.apply(stack, target="local", state_dir=sd)
        assert result.ok, result.failed
        proxies = docker_client.containers.list(filters={"label": [
            f"{naming.LABEL_STACK}={name}", f"{naming.LABEL_ROLE}={naming.ROLE_PROXY}"]})
        owners = sorted(p.labels[naming.LABEL_OBJECT] for p in proxies)
        assert len(owners) == len(set(owners)) == 2, owners
        plan = api.plan(stack, target="local", state_dir=sd)
        assert not plan.has_changes
        # Each has a DNS name of its own too (A$B's domain carries a hash, as Snowflake's domains are hashes).
        names = {str(plan.outputs[address]["dns_name"]) for address in owners}
        assert len(names) == 2, names
        [member, *_] = docker_client.containers.list(filters={"label": [
            f"{naming.LABEL_STACK}={name}", f"{naming.LABEL_ROLE}={naming.ROLE_MEMBER}"]})
        found = [member.exec_run(["getent", "ahostsv4", dns]).output.split()[:1] for dns in sorted(names)]
        assert all(found) and found[0] != found[1], found
        for address in owners:
            url = str(plan.outputs[address]["endpoints"]["web"])
            url = url if "://" in url else f"http://{url}"
            with urllib.request.urlopen(f"{url.rstrip('/')}/hello", timeout=10) as answer:
                assert answer.status == 200, address
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok
