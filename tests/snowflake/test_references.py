"""Names a stack uses without declaring them are looked up in the account (emulator, real connector)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spcs_iac import ComputePool, Database, Service, Stack
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
