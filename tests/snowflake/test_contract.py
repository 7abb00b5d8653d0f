"""The contract run (``spcs-iac contract``) against the emulator, and the emulator scenarios against a real
Snowflake account (``pytest -m contract``).

Runs only when SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and a credential (SNOWFLAKE_PASSWORD,
SNOWFLAKE_PRIVATE_KEY_PATH or SNOWFLAKE_TOKEN) are set; the connecting user needs ACCOUNTADMIN (or set
SPCS_IAC_CONTRACT_ADMIN_ROLE). Every object name carries a random prefix and everything is destroyed
at the end. Scenarios that start compute pools and services cost credits and need Docker: they run
only with SPCS_IAC_CONTRACT_SPCS=1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import (
    ComputePool,
    Database,
    FunctionArgument,
    Image,
    ImageRepository,
    Service,
    ServiceFunction,
)
from spcs_iac.drivers import api
from spcs_iac.drivers.contract import Contract, Options
from spcs_iac.model.kinds import KINDS
from spcs_iac.targets.images import DockerImages
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.snowflake.support import every_kind, generated, spec

ROOT = Path(__file__).resolve().parents[2]


def _missing() -> str | None:
    env = os.environ
    if not env.get("SNOWFLAKE_ACCOUNT") or not env.get("SNOWFLAKE_USER"):
        return "set SNOWFLAKE_ACCOUNT and SNOWFLAKE_USER (and a credential) to run contract tests on a real account"
    if not any(env.get(k) for k in ("SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY_PATH", "SNOWFLAKE_TOKEN")):
        return "set SNOWFLAKE_PASSWORD, SNOWFLAKE_PRIVATE_KEY_PATH or SNOWFLAKE_TOKEN to run contract tests"
    return None


def ON_ACCOUNT(test: Any) -> Any:  # noqa: N802 - reads as a mark
    """Runs against a real account (``pytest -m contract``), when credentials are set."""
    return pytest.mark.contract(pytest.mark.skipif(bool(_missing()), reason=_missing() or "")(test))
ADMIN = os.environ.get("SPCS_IAC_CONTRACT_ADMIN_ROLE", "ACCOUNTADMIN")


# ---- `spcs-iac contract`: the same run against the emulator (always) and a real account (credentials) ---------
def test_contract_run_passes_against_the_emulator(emu: Any, provider: Any) -> None:
    emu.emulator.execute(emu.emulator.login("admin"), "CREATE DATABASE SCRATCH_DB")
    lines: list[str] = []
    contract = Contract(lambda: provider(), Options(database="SCRATCH_DB"), say=lines.append)
    contract.run()
    failed = [line for line in lines if line.startswith("FAIL")]
    assert not failed, "\n".join(lines)
    for kind in KINDS:
        assert any(line.split()[1] == kind and line.startswith("PASS") for line in lines), kind
    shapes = {(line.split()[1], line.split()[2]) for line in lines if line.startswith("PASS")}
    assert ("warehouse", "alter") in shapes and ("stage", "replace") in shapes and ("role", "drop") in shapes
    # Cleaned up: nothing of the run is left.
    left = emu.emulator.dump_state()["objects"]
    assert not [o for o in left if any(contract.o.prefix in str(part) for part in o["key"])], left
    assert emu.rows("SHOW SCHEMAS IN DATABASE SCRATCH_DB") and not [
        r for r in emu.rows("SHOW SCHEMAS IN DATABASE SCRATCH_DB") if contract.o.prefix in r["name"]]


@ON_ACCOUNT
def test_contract_run_passes_on_a_real_account() -> None:
    database = os.environ.get("SPCS_IAC_CONTRACT_DATABASE", "SPCS_IAC_SCRATCH")
    spcs = os.environ.get("SPCS_IAC_CONTRACT_SPCS") == "1"
    made: list[SnowflakeProvider] = []
    options = Options(database=database, admin=ADMIN, spcs=spcs,
                      service_image=os.environ.get("SPCS_IAC_CONTRACT_SERVICE_IMAGE"))
    try:
        contract = Contract(lambda: _provider(made), options)
        contract.run()
        assert contract.ok, "\n".join(line.render() for line in contract.lines if line.outcome == "FAIL")
    finally:
        for p in made:
            p.close()


@pytest.fixture
def prefix() -> str:
    return f"SPCSIAC_T{secrets.token_hex(3).upper()}_"


@pytest.fixture
def providers() -> Iterator[list[SnowflakeProvider]]:
    made: list[SnowflakeProvider] = []
    yield made
    for p in made:
        p.close()


def _provider(made: list[SnowflakeProvider], **kw: object) -> SnowflakeProvider:
    made.append(SnowflakeProvider("contract", role=ADMIN, **kw))  # type: ignore[arg-type]
    return made[-1]


@ON_ACCOUNT
def test_lifecycle_and_hand_change(tmp_path: Path, prefix: str, providers: list[SnowflakeProvider]) -> None:
    stack = every_kind(tmp_path, prefix=prefix, admin=ADMIN, spcs=False)
    state = str(tmp_path / "state")
    try:
        first = api.plan(stack, target="snowflake", provider=_provider(providers), state_dir=state)
        assert first.has_changes
        result = api.apply(stack, target="snowflake", provider=_provider(providers), state_dir=state)
        assert result.ok, result.failed
        again = api.plan(stack, target="snowflake", provider=_provider(providers), state_dir=state)
        assert not again.has_changes, [(c.address, c.changed_fields) for c in again.actionable]

        other = _provider(providers)
        other._query(f"ALTER WAREHOUSE {prefix}APP_WH SET AUTO_SUSPEND = 999")
        drift = api.plan(stack, target="snowflake", provider=_provider(providers), state_dir=state)
        assert [(c.action.value, c.address) for c in drift.actionable] == [("update", f"warehouse.{prefix}APP_WH")]
        assert api.apply(stack, target="snowflake", provider=_provider(providers), state_dir=state).ok

        changed = every_kind(tmp_path, prefix=prefix, admin=ADMIN, spcs=False, comment="second", secret="rotated")
        assert api.apply(changed, target="snowflake", provider=_provider(providers), state_dir=state).ok
        final = api.plan(changed, target="snowflake", provider=_provider(providers), state_dir=state)
        assert not final.has_changes, [(c.address, c.changed_fields) for c in final.actionable]
    finally:
        result = api.destroy(stack, target="snowflake", provider=_provider(providers), state_dir=state)
        assert result.ok, result.failed


@ON_ACCOUNT
def test_plan_query_budget(tmp_path: Path, providers: list[SnowflakeProvider]) -> None:
    stack = generated(2000, tmp_path)
    p = _provider(providers)
    plan = api.plan(stack, target="snowflake", provider=p, state_dir=str(tmp_path / "state"))
    assert plan.has_changes
    assert p.query_count <= 30, p.query_log


@ON_ACCOUNT
@pytest.mark.skipif(os.environ.get("SPCS_IAC_CONTRACT_SPCS") != "1",
                    reason="starts a compute pool and a service (costs credits): set SPCS_IAC_CONTRACT_SPCS=1")
def test_service_and_function_round_trip(tmp_path: Path, prefix: str, providers: list[SnowflakeProvider]) -> None:
    owner = f"{prefix}APP_ROLE"
    base = every_kind(tmp_path, prefix=prefix, admin=ADMIN, spcs=False)
    role = base.get(f"role.{owner}")
    db = base.get(f"database.{prefix}APP_DB")
    repo = base.get(f"image_repository.{prefix}APP_DB.PUBLIC.REPO")
    assert isinstance(db, Database) and isinstance(repo, ImageRepository)
    build_args = {"BASE_IMAGE": os.environ["SPCS_IAC_BASE_IMAGE"]} if os.environ.get("SPCS_IAC_BASE_IMAGE") else {}
    image = base.add(Image(name="convert-api", tag="contract", repository=repo,
                           context=str(ROOT / "examples" / "convert-api"), build_args=build_args))
    pool = base.add(ComputePool(name=f"{prefix}POOL", instance_family="CPU_X64_XS", auto_suspend_secs=300,
                                owner=role))
    svc = base.add(Service(name="CONVERT", database=db, compute_pool=pool, spec=spec(image, port=9090), owner=role))
    base.add(ServiceFunction(name="CONVERT_UDF", database=db, arguments=[FunctionArgument(name="c", datatype="REAL")],
                             returns="REAL", service=svc, endpoint="api", path="/convert", owner=role))
    state = str(tmp_path / "state")
    try:
        result = api.apply(base, target="snowflake", provider=_provider(providers, image_tool=DockerImages()),
                            state_dir=state)
        assert result.ok, result.failed
        again = api.plan(base, target="snowflake", provider=_provider(providers), state_dir=state)
        assert not again.has_changes, [(c.address, c.changed_fields) for c in again.actionable]
        p = _provider(providers)
        assert p.call_function(f"{prefix}APP_DB.PUBLIC.CONVERT_UDF", [[100.0]], role=owner) == [pytest.approx(212.0)]
        assert p.status(f"{prefix}APP_DB.PUBLIC.CONVERT", role=owner)
    finally:
        result = api.destroy(base, target="snowflake", provider=_provider(providers), state_dir=state)
        assert result.ok, result.failed
