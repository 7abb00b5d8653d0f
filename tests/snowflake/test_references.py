"""Names a stack uses without declaring them are looked up in the account (emulator, real connector)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, Database, ExternalAccessIntegration, Role, Service, Stack
from spcs_iac.drivers import api
from spcs_iac.errors import StackValidationError
from spcs_iac.targets.snowflake.references import missing_in_account


def test_undeclared_names_are_checked_in_the_account(provider: Callable[..., Any]) -> None:
    p = provider()
    for sql in ("CREATE DATABASE REF_DB", "CREATE SECRET REF_DB.PUBLIC.API_KEY TYPE = GENERIC_STRING "
                "SECRET_STRING = 'x'", "CREATE STAGE REF_DB.PUBLIC.DATA"):
        p._query(sql)
    stack = Stack("refs")
    db = stack.add(Database(name="REF_DB"))
    pool = stack.add(ComputePool(name="REF_POOL", instance_family="CPU_X64_XS"))
    stack.add(Service(name="WEB", database=db, compute_pool=pool, external_access_integrations=["NO_SUCH_EAI"],
                      spec={"spec": {
                          "containers": [{"name": "main", "image": "reg.example.com/app:1", "secrets": [
                              {"snowflakeSecret": "API_KEY", "envVarName": "K", "secretKeyRef": "secret_string"},
                              {"snowflakeSecret": "API_KEYY", "envVarName": "L", "secretKeyRef": "secret_string"}],
                              "volumeMounts": [{"name": "d", "mountPath": "/d"}, {"name": "e", "mountPath": "/e"}]}],
                          "volumes": [{"name": "d", "source": "@DATA"}, {"name": "e", "source": "@NO_SUCH_STAGE"}]}}))
    issues = [str(i) for i in missing_in_account(stack.resources().values(), p._query)]
    assert issues == [
        "Service REF_DB.PUBLIC.WEB: spec.containers[0].secrets[1].snowflakeSecret: names secret REF_DB.PUBLIC.API_KEYY, "
        "which the stack does not declare and the account does not have (SHOW shows only what the planning role may "
        "see) (given: 'API_KEYY')",
        "Service REF_DB.PUBLIC.WEB: spec.volumes[1].source: names stage REF_DB.PUBLIC.NO_SUCH_STAGE, which the stack "
        "does not declare and the account does not have (SHOW shows only what the planning role may see) "
        "(given: 'NO_SUCH_STAGE')",
        "Service REF_DB.PUBLIC.WEB: external_access_integrations: names external access integration NO_SUCH_EAI, "
        "which the stack does not declare and the account does not have (SHOW shows only what the planning role may "
        "see) (given: 'NO_SUCH_EAI')",
    ]


def _named_stack(secret: str, eai: str) -> Stack:
    stack = Stack("refs-plan")
    db = stack.add(Database(name="REFP_DB"))
    pool = stack.add(ComputePool(name="REFP_POOL", instance_family="CPU_X64_XS"))
    owner = stack.add(Role(name="REFP_OWNER"))
    stack.add(Service(name="WEB", database=db, compute_pool=pool, external_access_integrations=[eai], owner=owner,
                      spec={"spec": {"containers": [{"name": "main", "image": "reg.example.com/app:1", "secrets": [
                          {"snowflakeSecret": secret, "envVarName": "K", "secretKeyRef": "secret_string"}]}]}}))
    return stack


def test_a_plan_naming_what_the_account_lacks_is_refused_before_anything_runs(
        emu: Any, provider: Callable[..., Any], tmp_path: Path) -> None:
    """The apply used to create the database and pool, then stop at CREATE SERVICE on the misspelt secret."""
    setup = provider()
    for sql in ("CREATE DATABASE KEYS_DB", "CREATE SECRET KEYS_DB.PUBLIC.API_KEY TYPE = GENERIC_STRING "
                "SECRET_STRING = 'x'", "CREATE NETWORK RULE KEYS_DB.PUBLIC.R MODE = EGRESS TYPE = HOST_PORT "
                "VALUE_LIST = ('a.example.com')", "CREATE EXTERNAL ACCESS INTEGRATION OUT_EAI "
                "ALLOWED_NETWORK_RULES = (KEYS_DB.PUBLIC.R) ENABLED = TRUE"):
        setup._query(sql)
    state = str(tmp_path / "state")
    bad = _named_stack("KEYS_DB.PUBLIC.API_KEYY", "OUT_EAII")
    with pytest.raises(StackValidationError) as refused:
        api.apply(bad, "snowflake", provider=provider(), state_dir=state)
    text = str(refused.value)
    assert ("Service REFP_DB.PUBLIC.WEB: spec.containers[0].secrets[0].snowflakeSecret: names secret "
            "KEYS_DB.PUBLIC.API_KEYY, which the stack does not declare and the account does not have") in text
    assert "external_access_integrations: names external access integration OUT_EAII" in text
    assert not [r for r in setup._query("SHOW DATABASES") if r["name"] == "REFP_DB"]  # nothing ran

    assert api.plan(_named_stack("KEYS_DB.PUBLIC.API_KEY", "OUT_EAI"), "snowflake", provider=provider(),
                    state_dir=state).summary()["create"] == 4

    # An integration naming a rule by string: once the rule is dropped by hand, a plan that leaves the
    # integration alone still goes through, and so does the destroy; changing it is refused.
    rules = Stack("refs-rules")
    eai = rules.add(ExternalAccessIntegration(name="REFP_EAI", allowed_network_rules=["KEYS_DB.PUBLIC.R"],
                                              owner="ACCOUNTADMIN"))
    assert api.apply(rules, "snowflake", provider=provider(), state_dir=state).ok
    setup._query("DROP NETWORK RULE KEYS_DB.PUBLIC.R")
    assert not api.plan(rules, "snowflake", provider=provider(), state_dir=state).has_changes
    eai.comment = "v2"
    with pytest.raises(StackValidationError, match="names network rule KEYS_DB.PUBLIC.R, which the stack"):
        api.plan(rules, "snowflake", provider=provider(), state_dir=state)
    assert api.destroy(rules, "snowflake", provider=provider(), state_dir=state).ok


def test_looking_names_up_costs_no_round_trip_of_its_own(emu: Any, provider: Callable[..., Any],
                                                          tmp_path: Path) -> None:
    emu.emulator.execute(emu.emulator.login("admin"), "CREATE WAREHOUSE REFS_WH")
    stack = _named_stack("KEYS_DB.PUBLIC.API_KEY", "OUT_EAI")
    trips = {}
    for check in (True, False):
        p = provider(warehouse="REFS_WH", check_names=check)
        emu.emulator.reset_stats()
        try:
            api.plan(stack, "snowflake", provider=p, state_dir=str(tmp_path / f"state-{check}"))
        except StackValidationError:
            assert check  # the account has neither: only the looking provider says so
        trips[check] = emu.emulator.stats()["round_trips"]
    assert trips[True] == trips[False], trips


def test_a_service_left_to_a_connection_role_that_cannot_own_it_is_refused_by_the_plan(
        emu: Any, provider: Callable[..., Any], tmp_path: Path) -> None:
    """Connected as ACCOUNTADMIN, a service without owner= used to fail at CREATE SERVICE, after its database and
    pool were made."""
    stack = Stack("default-owner")
    db = stack.add(Database(name="DO_DB"))
    pool = stack.add(ComputePool(name="DO_POOL", instance_family="CPU_X64_XS"))
    stack.add(Service(name="WEB", database=db, compute_pool=pool,
                      spec={"spec": {"containers": [{"name": "main", "image": "reg.example.com/app:1"}]}}))
    p = provider()
    with pytest.raises(StackValidationError) as refused:
        api.apply(stack, "snowflake", provider=p, state_dir=str(tmp_path / "state"))
    assert ("Service DO_DB.PUBLIC.WEB: owner: not given, so the connection's role ACCOUNTADMIN would own it, and "
            "Snowflake does not let ACCOUNTADMIN, SECURITYADMIN, ORGADMIN own services") in str(refused.value)
    assert not [r for r in p._query("SHOW DATABASES") if r["name"] == "DO_DB"]  # nothing ran
