"""Read-back normalisation (reference §16.3) and connection configuration, without an account."""

from __future__ import annotations

from pathlib import Path

import pytest

from spcs_iac.errors import ProviderError
from spcs_iac.targets.snowflake import readback as rb
from spcs_iac.targets.snowflake.params import check_params, resolve_params
from spcs_iac.targets.snowflake.read import covers_all, row_target_key, target_key


def test_show_rows_map_to_declared_fields() -> None:
    row = {"name": "W", "type": "STANDARD", "size": "X-Small", "min_cluster_count": 1, "max_cluster_count": "1",
           "scaling_policy": "standard", "auto_suspend": "600", "auto_resume": "true", "comment": "", "owner": "OPS"}
    assert rb.props_of("warehouse", row) == {
        "owner": "OPS", "warehouse_type": "STANDARD", "warehouse_size": "XSMALL", "max_cluster_count": 1,
        "min_cluster_count": 1, "scaling_policy": "STANDARD", "auto_suspend": 600, "auto_resume": True,
        "comment": None}
    assert rb.props_of("warehouse", {"size": "2X-Large"})["warehouse_size"] == "XXLARGE"
    assert rb.props_of("stage", {"type": "INTERNAL NO CSE", "directory_enabled": "Y", "owner": "my role"}) == {
        "owner": '"my role"', "encryption": "SNOWFLAKE_SSE", "directory_table": True}
    assert rb.props_of("stage", {"type": "INTERNAL", "directory_enabled": "N"})["encryption"] == "SNOWFLAKE_FULL"


def test_lists_come_back_sorted_and_qualified() -> None:
    svc = rb.props_of("service", {"external_access_integrations": '["B_EAI","A_EAI"]', "compute_pool": "P",
                                  "comment": "hello [spcs-iac:spec=abc123]", "query_warehouse": None})
    assert svc == {"external_access_integrations": ["A_EAI", "B_EAI"], "compute_pool": "P", "comment": "hello",
                   "spec": "abc123", "query_warehouse": None}
    assert rb.props_of("service", {"external_access_integrations": None})["external_access_integrations"] == []
    eai = rb.props_of("external_access_integration", {
        "allowed_network_rules": "[DB.PUBLIC.R2, DB.PUBLIC.R1]", "allowed_authentication_secrets": "",
        "enabled": "false"})
    assert eai == {"allowed_network_rules": ["DB.PUBLIC.R1", "DB.PUBLIC.R2"], "allowed_authentication_secrets": [],
                   "enabled": False}
    rule = rb.props_of("network_rule", {"value_list": "b.com:443,a.com", "type": "HOST_PORT", "mode": "EGRESS"})
    assert rule["value_list"] == ["a.com", "b.com:443"]


def test_functions_read_from_show_and_describe() -> None:
    row = {"arguments": "F(FLOAT, VARCHAR) RETURN FLOAT", "description": "user-defined function",
           **rb.describe_row([{"property": "signature", "value": "(INPUT FLOAT, B VARCHAR)"},
                              {"property": "returns", "value": "NUMBER(38,0)"},
                              {"property": "body", "value": "/convert"},
                              {"property": "max_batch_rows", "value": "not set"},
                              {"property": "service", "value": "SVC"},
                              {"property": "service_endpoint", "value": "api"}])}
    assert rb.row_key("service_function", {"catalog_name": "DB", "schema_name": "S", "name": "F", **row}) == (
        "DB", "S", "F", "FLOAT", "VARCHAR")
    assert rb.props_of("service_function", row, ("DB", "S")) == {
        "arguments": [["INPUT", "FLOAT"], ["B", "VARCHAR"]], "returns": "NUMBER", "service": "DB.S.SVC",
        "endpoint": "api", "path": "/convert", "max_batch_rows": None, "comment": "user-defined function"}


def test_job_outcome() -> None:
    for status, outcome in (("DONE", "DONE"), ("RUNNING", "DONE"), ("PENDING", "DONE"), ("FAILED", "FAILED"),
                            ("CANCELLED", "CANCELLED"), ("INTERNAL_ERROR", "FAILED")):
        assert rb.props_of("job_service", {"status": status})["outcome"] == outcome


def test_grant_rows_match_grant_targets() -> None:
    assert row_target_key({"granted_on": "COMPUTE_POOL", "name": "P"}) == target_key("COMPUTE POOL", "P")
    assert row_target_key({"granted_on": "ACCOUNT", "name": "ORG-ACCT"}) == ("ACCOUNT",)
    assert row_target_key({"granted_on": "DATABASE", "name": '"my db"'}) == target_key("DATABASE", '"my db"')
    # Snowflake shows functions as "F(ARG TYPE):RETURNS"; the bare form F(TYPE) is read too.
    fn = target_key("FUNCTION", "DB.S.F(FLOAT, VARCHAR)")
    assert row_target_key({"granted_on": "FUNCTION", "name": 'DB.S."F(X FLOAT, Y VARCHAR):FLOAT"'}) == fn
    assert row_target_key({"granted_on": "FUNCTION", "name": "DB.S.F(FLOAT,VARCHAR)"}) == fn
    assert covers_all("WAREHOUSE", ["APPLYBUDGET", "MODIFY", "MONITOR", "OPERATE", "USAGE"])
    assert not covers_all("WAREHOUSE", ["USAGE"])


# ---- connection configuration ----------------------------------------------------------------------
@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "connections.toml").write_text(
        '[dev]\naccount = "file-acct"\nuser = "file-user"\npassword = "file-pw"\nrole = "DEV_ROLE"\n'
        'private_key_path = "/keys/k.p8"\n'
    )
    (tmp_path / "config.toml").write_text(
        'default_connection_name = "cfg"\n[connections.cfg]\naccount = "cfg-acct"\nuser = "cfg-user"\n'
    )
    return tmp_path


def test_named_connection_then_environment_then_options(home: Path) -> None:
    env = {"SNOWFLAKE_HOME": str(home), "SNOWFLAKE_WAREHOUSE": "ENV_WH", "SNOWFLAKE_USER": "env-user"}
    params = resolve_params("dev", {"role": "OPT_ROLE"}, env)
    assert params == {"account": "file-acct", "user": "env-user", "password": "file-pw", "role": "OPT_ROLE",
                      "private_key_file": "/keys/k.p8", "warehouse": "ENV_WH"}
    # The default connection of config.toml; per-connection environment variables override it.
    env2 = {"SNOWFLAKE_HOME": str(home), "SNOWFLAKE_CONNECTIONS_CFG_PASSWORD": "x", "SNOWFLAKE_PORT": "8443"}
    assert resolve_params(None, None, env2) == {"account": "cfg-acct", "user": "cfg-user", "password": "x",
                                                "port": 8443}


def test_unknown_connection_and_missing_parameters_are_named_not_shown(home: Path) -> None:
    with pytest.raises(ProviderError, match="'nope' is not defined"):
        resolve_params("nope", None, {"SNOWFLAKE_HOME": str(home)})
    with pytest.raises(ProviderError) as err:
        check_params({"account": "a", "password": "hunter2"})
    assert "user" in str(err.value) and "hunter2" not in str(err.value)


def test_connect_false_needs_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spcs_iac.targets.snowflake.provider import SnowflakeProvider

    monkeypatch.setenv("SNOWFLAKE_HOME", str(tmp_path))
    p = SnowflakeProvider("s", connect=False, connection="missing")
    assert p.read([]) == {} and p.query_count == 0
    with pytest.raises(ProviderError, match="connect=False"):
        p.db.query("SHOW ROLES")


def test_failed_login_does_not_echo_the_password() -> None:
    from spcs_iac.targets.snowflake.connection import _connect

    params = {"account": "acct", "user": "u", "password": "hunter2-secret", "host": "127.0.0.1", "port": 9,
              "protocol": "http", "login_timeout": 2}
    with pytest.raises(ProviderError) as err:
        _connect(params)
    assert "hunter2-secret" not in str(err.value)
