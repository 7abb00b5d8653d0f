"""The local target's adapter registry: one adapter per kind, naming only fields the kind declares.

No Docker: DOCKER_HOST points nowhere, and nothing here reads containers, networks or the registry.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from spcs_iac import Secret
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.target import ReadRequest
from spcs_iac.targets.local.adapters import ADAPTERS, LocalAdapter
from spcs_iac.targets.local.provider import LocalProvider


@pytest.fixture(autouse=True)
def no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")


def missing(adapters: dict[str, LocalAdapter]) -> list[str]:
    """Kinds the local target cannot handle."""
    return [kind for kind in KINDS if kind not in adapters]


def misfiled(adapters: dict[str, LocalAdapter]) -> list[str]:
    """Adapters for no known kind, or filed under another kind's name."""
    return [key for key, a in adapters.items() if key not in KINDS or a.kind != key]


def undeclared(adapters: dict[str, LocalAdapter]) -> list[str]:
    """``kind.field`` for every field an adapter reads that its kind does not declare."""
    out = []
    for kind, a in adapters.items():
        declared = {d.name for d in kind_props(KINDS[kind])} if kind in KINDS else set()
        out += [f"{kind}.{name}" for name in a.props if name not in declared]
    return out


def test_every_kind_has_one_local_adapter() -> None:
    assert missing(ADAPTERS) == []
    assert misfiled(ADAPTERS) == []


def test_adapters_name_only_declared_fields() -> None:
    assert undeclared(ADAPTERS) == []


def test_the_checks_catch_a_missing_adapter_and_an_undeclared_field() -> None:
    for kind in KINDS:
        assert missing({k: a for k, a in ADAPTERS.items() if k != kind}) == [kind]
    pool = ADAPTERS["compute_pool"]
    bogus = replace(pool, props=(*pool.props, "no_such_field"))
    assert undeclared({**ADAPTERS, "compute_pool": bogus}) == ["compute_pool.no_such_field"]
    assert misfiled({**ADAPTERS, "no_such_kind": pool}) == ["no_such_kind"]


def test_secret_fields_are_the_sensitive_declarations() -> None:
    for kind, cls in KINDS.items():
        assert ADAPTERS[kind].sensitive == tuple(d.name for d in kind_props(cls) if d.prop.sensitive)
    assert ADAPTERS["secret"].sensitive  # containers get secret values through these


def test_read_keeps_sensitive_values_for_containers(tmp_path: Path) -> None:
    provider = LocalProvider(stack_name="adapters", state_dir=str(tmp_path))
    secret = Secret(name="TOKEN", database="DB", type="GENERIC_STRING", secret_string="hunter2")
    req = ReadRequest(address=secret.address, kind=secret.kind, name=secret.fqn, resource=secret, prior=None)
    assert provider.read([req]) == {}  # absent: nothing recorded, and no Docker listing for a record kind
    assert provider.services.secrets(secret.fqn) == {"secret_string": "hunter2"}
