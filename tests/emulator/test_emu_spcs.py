"""Compute pools, services, job services, service functions and the simulated runtime."""

from __future__ import annotations

import json
import time

import pytest
from emu_fixtures import READY, SPEC

POOL_COLUMNS = ["name", "state", "min_nodes", "max_nodes", "instance_family", "num_services", "num_jobs",
                "auto_suspend_secs", "auto_resume", "active_nodes", "idle_nodes", "target_nodes", "created_on",
                "resumed_on", "updated_on", "owner", "comment", "is_exclusive", "application", "placement_group",
                "backup_instance_families"]
SERVICE_COLUMNS = ["name", "status", "database_name", "schema_name", "owner", "compute_pool", "dns_name",
                   "current_instances", "target_instances", "min_ready_instances", "min_instances",
                   "max_instances", "auto_resume", "external_access_integrations", "created_on", "updated_on",
                   "resumed_on", "suspended_on", "auto_suspend_secs", "comment", "owner_role_type",
                   "query_warehouse", "is_job", "is_async_job", "spec_digest", "is_upgrading",
                   "managing_object_domain", "managing_object_name"]


def create_service(sf, name="DB.PUBLIC.SVC", spec=SPEC, extra=""):
    return sf.run(f"CREATE SERVICE {name} IN COMPUTE POOL POOL FROM SPECIFICATION $${spec}$$ {extra}")


def test_compute_pool_lifecycle(sf):
    sf.run("CREATE COMPUTE POOL IF NOT EXISTS P MIN_NODES = 1 MAX_NODES = 3 INSTANCE_FAMILY = CPU_X64_XS "
           "AUTO_RESUME = FALSE AUTO_SUSPEND_SECS = 600 COMMENT = 'pool'")
    assert sf.columns("SHOW COMPUTE POOLS") == POOL_COLUMNS
    row = sf.one("SHOW COMPUTE POOLS LIKE 'P'")
    assert row["state"] == "STARTING" and row["auto_resume"] == "false" and row["auto_suspend_secs"] == 600
    time.sleep(READY * 2)
    assert sf.one("SHOW COMPUTE POOLS")["state"] == "IDLE"
    desc = sf.one("DESC COMPUTE POOL P")
    assert list(desc)[-2:] == ["error_code", "status_message"] and desc["instance_family"] == "CPU_X64_XS"
    sf.run("ALTER COMPUTE POOL P SET MIN_NODES = 2 MAX_NODES = 4 AUTO_RESUME = TRUE COMMENT = 'c2'")
    row = sf.one("SHOW COMPUTE POOLS")
    assert (row["min_nodes"], row["max_nodes"], row["auto_resume"], row["comment"]) == (2, 4, "true", "c2")
    sf.run("ALTER COMPUTE POOL P UNSET AUTO_SUSPEND_SECS, COMMENT")
    row = sf.one("SHOW COMPUTE POOLS")
    assert row["auto_suspend_secs"] == 3600 and row["comment"] is None
    e = sf.err("ALTER COMPUTE POOL P SET INSTANCE_FAMILY = CPU_X64_S")
    assert "must be suspended" in e.msg
    assert sf.err("ALTER COMPUTE POOL P SET MIN_NODES = 9").errno == 1003
    sf.run("ALTER COMPUTE POOL P SUSPEND")
    assert sf.one("SHOW COMPUTE POOLS")["state"] == "SUSPENDED"
    sf.run("ALTER COMPUTE POOL P SET INSTANCE_FAMILY = CPU_X64_S")
    sf.run("ALTER COMPUTE POOL P RESUME")
    row = sf.one("SHOW COMPUTE POOLS")
    assert row["state"] == "STARTING" and row["instance_family"] == "CPU_X64_S"
    assert sf.err("CREATE COMPUTE POOL P MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS").errno == 2002
    assert sf.err("CREATE COMPUTE POOL Q MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = NOPE").errno == 1003
    assert sf.err("CREATE COMPUTE POOL Q MIN_NODES = 1 MAX_NODES = 1").errno == 1003
    sf.run("DROP COMPUTE POOL P")
    sf.run("DROP COMPUTE POOL IF EXISTS P")
    assert sf.run("SHOW COMPUTE POOLS") == []


def test_accountadmin_cannot_create_service(sf):
    sf.run("CREATE DATABASE DB")
    sf.run("CREATE COMPUTE POOL POOL MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS")
    e = sf.err(f"CREATE SERVICE DB.PUBLIC.SVC IN COMPUTE POOL POOL FROM SPECIFICATION $${SPEC}$$")
    assert e.errno == 3001 and "ACCOUNTADMIN" in e.msg
    sf.run("USE ROLE SECURITYADMIN")
    assert sf.err(f"CREATE SERVICE DB.PUBLIC.SVC IN COMPUTE POOL POOL FROM SPECIFICATION $${SPEC}$$").errno == 3001
    e = sf.err(f"EXECUTE JOB SERVICE IN COMPUTE POOL POOL FROM SPECIFICATION $${SPEC}$$ NAME = DB.PUBLIC.J")
    assert e.errno == 3001


def test_service_lifecycle(spcs):
    sf = spcs
    sf.run("USE ROLE ACCOUNTADMIN")
    sf.run("CREATE NETWORK RULE DB.PUBLIC.R TYPE = HOST_PORT VALUE_LIST = ('a.com') MODE = EGRESS")
    sf.run("CREATE EXTERNAL ACCESS INTEGRATION EAI ALLOWED_NETWORK_RULES = (DB.PUBLIC.R) ENABLED = TRUE")
    sf.run("GRANT USAGE ON INTEGRATION EAI TO ROLE DEPLOYER")  # the service's owner uses it
    sf.run("CREATE WAREHOUSE WH")
    sf.run("USE ROLE DEPLOYER")
    create_service(sf, extra="AUTO_SUSPEND_SECS = 600 EXTERNAL_ACCESS_INTEGRATIONS = (EAI) AUTO_RESUME = TRUE "
                             "MIN_INSTANCES = 2 MIN_READY_INSTANCES = 1 MAX_INSTANCES = 3 QUERY_WAREHOUSE = WH "
                             "COMMENT = 'svc'")
    assert sf.columns("SHOW SERVICES") == SERVICE_COLUMNS
    row = sf.one("SHOW SERVICES IN SCHEMA DB.PUBLIC")
    assert row["status"] == "PENDING" and row["owner"] == "DEPLOYER" and row["compute_pool"] == "POOL"
    assert row["dns_name"].startswith("svc.") and row["dns_name"].endswith(".svc.spcs.internal")
    assert (row["min_instances"], row["min_ready_instances"], row["max_instances"]) == (2, 1, 3)
    assert row["external_access_integrations"] == '["EAI"]' and row["query_warehouse"] == "WH"
    assert row["auto_suspend_secs"] == 600 and row["comment"] == "svc" and row["is_job"] == "false"
    digest = row["spec_digest"]
    sf.wait_ready()
    row = sf.one("SHOW SERVICES EXCLUDE JOBS IN COMPUTE POOL POOL")
    assert row["status"] == "RUNNING" and row["current_instances"] == 2 and "is_job" not in row
    pool = sf.one("SHOW COMPUTE POOLS")
    assert pool["state"] == "ACTIVE" and pool["num_services"] == 1
    containers = sf.run("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.SVC")
    assert len(containers) == 4
    c0 = containers[0]
    assert (c0["status"], c0["instance_status"], c0["restart_count"], c0["service_status"]) == (
        "READY", "READY", 0, "RUNNING")
    assert c0["image_digest"].startswith("sha256:") and len(c0["image_digest"]) == 71
    same = [c["image_digest"] for c in containers if c["container_name"] == "main"]
    assert len(set(same)) == 1
    instances = sf.run("SHOW SERVICE INSTANCES IN SERVICE DB.PUBLIC.SVC")
    assert [(i["instance_id"], i["status"]) for i in instances] == [("0", "READY"), ("1", "READY")]
    endpoints = {e["name"]: e for e in sf.run("SHOW ENDPOINTS IN SERVICE DB.PUBLIC.SVC")}
    assert endpoints["api"]["is_public"] == "true" and endpoints["api"]["ingress_url"].endswith(".app")
    assert endpoints["internal"]["is_public"] == "false" and endpoints["internal"]["ingress_url"] is None
    desc = sf.one("DESC SERVICE DB.PUBLIC.SVC")
    assert "GREETING: hello" in desc["spec"] and desc["status"] == "RUNNING"

    # upgrade
    new_spec = SPEC.replace("echo:1.0", "echo:1.1")
    sf.run(f"ALTER SERVICE DB.PUBLIC.SVC FROM SPECIFICATION $${new_spec}$$")
    row = sf.one("SHOW SERVICES")
    assert row["is_upgrading"] == "true" and row["spec_digest"] != digest and row["status"] == "RUNNING"
    sf.wait_ready()
    assert sf.one("SHOW SERVICES")["is_upgrading"] == "false"
    logs = sf.scalar("SELECT SYSTEM$GET_SERVICE_LOGS('DB.PUBLIC.SVC', 0, 'main')")
    assert "starting main from /db/public/repo/echo:1.1" in logs and "upgraded to spec" in logs
    assert sf.scalar("SELECT SYSTEM$GET_SERVICE_LOGS('DB.PUBLIC.SVC', 1, 'main', 1)").count("\n") == 1

    # set / unset
    sf.run("ALTER SERVICE DB.PUBLIC.SVC SET MIN_INSTANCES = 3 COMMENT = 'c2' AUTO_RESUME = FALSE")
    row = sf.one("SHOW SERVICES")
    assert (row["min_instances"], row["comment"], row["auto_resume"]) == (3, "c2", "false")
    sf.run("ALTER SERVICE DB.PUBLIC.SVC UNSET COMMENT, EXTERNAL_ACCESS_INTEGRATIONS, QUERY_WAREHOUSE")
    row = sf.one("SHOW SERVICES")
    assert row["comment"] is None and row["external_access_integrations"] is None and row["query_warehouse"] is None
    assert sf.err("ALTER SERVICE DB.PUBLIC.SVC SET MAX_INSTANCES = 1").errno == 1003

    # suspend / resume
    sf.run("ALTER SERVICE DB.PUBLIC.SVC SUSPEND")
    row = sf.one("SHOW SERVICES")
    assert row["status"] == "SUSPENDED" and row["suspended_on"] is not None and row["current_instances"] == 0
    assert sf.run("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.SVC") == []
    assert sf.err("SELECT SYSTEM$GET_SERVICE_LOGS('DB.PUBLIC.SVC', 0, 'main')").errno == 395020
    sf.run("ALTER SERVICE DB.PUBLIC.SVC RESUME")
    assert sf.one("SHOW SERVICES")["status"] == "PENDING"
    sf.wait_ready()
    assert sf.one("SHOW SERVICES")["status"] == "RUNNING"

    # drop
    assert sf.err("CREATE SERVICE DB.PUBLIC.SVC IN COMPUTE POOL POOL FROM SPECIFICATION $$x$$").errno in (2002, 395018)
    assert "already exists" in create_service(sf, name="IF NOT EXISTS DB.PUBLIC.SVC")[0]["status"]
    sf.run("DROP SERVICE DB.PUBLIC.SVC FORCE")
    sf.run("DROP SERVICE IF EXISTS DB.PUBLIC.SVC")
    assert sf.run("SHOW SERVICES IN ACCOUNT") == []


def test_desc_service_spec_only_for_owner(spcs):
    sf = spcs
    create_service(sf)
    assert sf.one("DESC SERVICE DB.PUBLIC.SVC")["spec"] is not None
    sf.run("USE ROLE SECURITYADMIN")  # does not inherit DEPLOYER
    assert sf.one("DESC SERVICE DB.PUBLIC.SVC")["spec"] is None
    sf.run("USE ROLE ACCOUNTADMIN")  # DEPLOYER -> SYSADMIN -> ACCOUNTADMIN
    assert sf.one("DESC SERVICE DB.PUBLIC.SVC")["spec"] is not None


def test_service_privileges(spcs):
    sf = spcs
    create_service(sf)
    sf.run("USE ROLE ACCOUNTADMIN")
    sf.run("CREATE ROLE OPERATOR")
    sf.run("GRANT ROLE OPERATOR TO ROLE ACCOUNTADMIN")
    sf.run("USE ROLE OPERATOR")  # nothing granted yet: the service is not even shown
    assert sf.err("ALTER SERVICE DB.PUBLIC.SVC SUSPEND").errno == 2003
    assert sf.err("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.SVC").errno == 2003
    sf.run("USE ROLE DEPLOYER")
    sf.run("GRANT MONITOR, OPERATE ON SERVICE DB.PUBLIC.SVC TO ROLE OPERATOR")
    sf.run("USE ROLE OPERATOR")
    sf.run("ALTER SERVICE DB.PUBLIC.SVC SUSPEND")
    sf.run("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.SVC")
    assert sf.err("ALTER SERVICE DB.PUBLIC.SVC SET COMMENT = 'x'").errno == 3001
    assert sf.err("DROP SERVICE DB.PUBLIC.SVC").errno == 3001
    sf.run("USE ROLE DEPLOYER")
    assert sf.err("GRANT OWNERSHIP ON SERVICE DB.PUBLIC.SVC TO ROLE OPERATOR").errno == 2120


def test_failing_image_hook(spcs):
    sf = spcs
    create_service(sf, spec=SPEC.replace("echo:1.0", "echo:fail"))
    sf.wait_ready()
    assert sf.one("SHOW SERVICES")["status"] == "FAILED"
    containers = {c["container_name"]: c for c in sf.run("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.SVC")}
    assert containers["main"]["status"] == "FAILED" and containers["main"]["message"] == "image pull failed"
    assert containers["sidecar"]["status"] == "READY"
    logs = sf.scalar("SELECT SYSTEM$GET_SERVICE_LOGS('DB.PUBLIC.SVC', 0, 'main')")
    assert "image pull failed" in logs
    status = json.loads(sf.scalar("SELECT SYSTEM$GET_SERVICE_STATUS('DB.PUBLIC.SVC')"))
    assert {s["containerName"]: s["status"] for s in status} == {"main": "FAILED", "sidecar": "READY"}


def test_pool_drop_blocked_and_stop_all(spcs):
    sf = spcs
    create_service(sf)
    sf.run("USE ROLE ACCOUNTADMIN")
    e = sf.err("DROP COMPUTE POOL POOL")
    assert "Cannot drop compute pool" in e.msg
    sf.run("ALTER COMPUTE POOL POOL SUSPEND")
    assert sf.one("SHOW SERVICES IN ACCOUNT")["status"] == "SUSPENDED"
    sf.run("ALTER COMPUTE POOL POOL RESUME")
    sf.run("ALTER COMPUTE POOL POOL STOP ALL")
    assert sf.run("SHOW SERVICES IN ACCOUNT") == []
    sf.run("DROP COMPUTE POOL POOL")


def test_service_from_stage_file(spcs):
    sf = spcs
    sf.run("USE ROLE ACCOUNTADMIN")
    sf.run("CREATE STAGE DB.PUBLIC.SPECS")
    sf.run("USE ROLE DEPLOYER")
    sf.emu.put_stage_file("DB.PUBLIC.SPECS", "svc/spec.yaml", SPEC)
    sf.run("CREATE SERVICE DB.PUBLIC.S1 IN COMPUTE POOL POOL FROM @DB.PUBLIC.SPECS SPECIFICATION_FILE = "
           "'svc/spec.yaml'")
    sf.run("CREATE SERVICE DB.PUBLIC.S2 IN COMPUTE POOL POOL FROM @DB.PUBLIC.SPECS/svc SPECIFICATION_FILE = "
           "'spec.yaml'")
    sf.run("CREATE SERVICE DB.PUBLIC.S3 IN COMPUTE POOL POOL FROM @DB.PUBLIC.SPECS SPECIFICATION_FILE = "
           "'missing.yaml'")
    s1 = sf.emu.cat.get("SERVICE", ("DB", "PUBLIC", "S1")).props
    assert s1["stage"] == ["DB", "PUBLIC", "SPECS"] and s1["specification_file"] == "svc/spec.yaml"
    assert sf.emu.cat.get("SERVICE", ("DB", "PUBLIC", "S2")).props["specification_file"] == "svc/spec.yaml"
    sf.wait_ready()
    assert len(sf.run("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.S1")) == 2
    assert sf.run("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.S3") == []
    assert sf.err("CREATE SERVICE DB.PUBLIC.S4 IN COMPUTE POOL POOL FROM @DB.PUBLIC.NOPE "
                  "SPECIFICATION_FILE = 'x'").errno == 2003


def test_invalid_specs_rejected(spcs):
    sf = spcs
    assert sf.err("CREATE SERVICE DB.PUBLIC.S IN COMPUTE POOL POOL FROM SPECIFICATION $$spec: {}$$").errno == 395018
    assert sf.err("CREATE SERVICE DB.PUBLIC.S IN COMPUTE POOL POOL FROM SPECIFICATION $$: : :$$").errno == 395018
    assert sf.err(f"CREATE SERVICE DB.PUBLIC.S IN COMPUTE POOL NOPE FROM SPECIFICATION $${SPEC}$$").errno == 2003


def test_job_sync_async_replicas(spcs):
    sf = spcs
    start = time.time()
    res = sf.one(f"EXECUTE JOB SERVICE IN COMPUTE POOL POOL FROM SPECIFICATION $${SPEC}$$ NAME = DB.PUBLIC.J1 "
                 "REPLICAS = 3 COMMENT = 'job'")
    assert time.time() - start >= READY * 2 * 0.9
    assert "DONE" in res["status"]
    job = sf.one("SHOW JOB SERVICES")
    assert (job["name"], job["status"], job["is_async_job"], job["comment"]) == ("J1", "DONE", "false", "job")
    containers = sf.run("SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.J1")
    assert len(containers) == 6 and {c["status"] for c in containers} == {"DONE"}
    assert {c["last_exit_code"] for c in containers} == {0}
    logs = sf.scalar("SELECT SYSTEM$GET_SERVICE_LOGS('DB.PUBLIC.J1', 2, 'main')")
    assert "job replica 2 of 3" in logs and "exited with code 0" in logs
    # async: TF-style clause order (properties before FROM)
    sf.run(f"EXECUTE JOB SERVICE IN COMPUTE POOL POOL NAME = DB.PUBLIC.J2 ASYNC = TRUE FROM SPECIFICATION $${SPEC}$$")
    row = [r for r in sf.run("SHOW SERVICES") if r["name"] == "J2"][0]
    assert row["status"] == "PENDING" and row["is_job"] == "true" and row["is_async_job"] == "true"
    time.sleep(READY * 1.5)
    assert sf.one("SHOW JOB SERVICES LIKE 'J2'")["status"] == "RUNNING"
    time.sleep(READY * 1.5)
    assert sf.one("SHOW JOB SERVICES LIKE 'J2'")["status"] == "DONE"
    assert [r["name"] for r in sf.run("SHOW SERVICES EXCLUDE JOBS")] == []
    assert sf.err("ALTER SERVICE DB.PUBLIC.J1 SUSPEND").errno == 1003
    e = sf.err(f"EXECUTE JOB SERVICE IN COMPUTE POOL POOL FROM SPECIFICATION $${SPEC}$$ NAME = DB.PUBLIC.J1")
    assert e.errno == 2002


def test_failing_job(spcs):
    sf = spcs
    bad = SPEC.replace("echo:1.0", "echo:fail")
    e = sf.err(f"EXECUTE JOB SERVICE IN COMPUTE POOL POOL FROM SPECIFICATION $${bad}$$ NAME = DB.PUBLIC.JF")
    assert e.errno == 395001 and "image pull failed" in e.msg
    assert sf.one("SHOW JOB SERVICES")["status"] == "FAILED"
    sf.run(f"EXECUTE JOB SERVICE IN COMPUTE POOL POOL FROM SPECIFICATION $${bad}$$ NAME = DB.PUBLIC.JA ASYNC = TRUE")
    time.sleep(READY * 2.5)
    assert sf.one("SHOW JOB SERVICES LIKE 'JA'")["status"] == "FAILED"


def test_service_function(spcs):
    sf = spcs
    create_service(sf)
    sf.run("CREATE FUNCTION DB.PUBLIC.DOUBLE_IT(x NUMBER) RETURNS NUMBER SERVICE = DB.PUBLIC.SVC "
           "ENDPOINT = 'api' MAX_BATCH_ROWS = 10 COMMENT = 'doubles' AS '/double'")
    sf.run("CREATE FUNCTION DB.PUBLIC.GREET(name VARCHAR) RETURNS VARCHAR SERVICE = DB.PUBLIC.SVC ENDPOINT = api "
           "AS '/greet'")
    assert sf.scalar("SELECT DB.PUBLIC.DOUBLE_IT(21)") is None  # no handler registered
    calls = []

    def double(body):
        calls.append(body)
        return {"data": [[row[0], row[1] * 2] for row in body["data"]]}

    sf.emu.register_endpoint("DB.PUBLIC.SVC", "api", "/double", double)
    sf.emu.register_endpoint("DB.PUBLIC.SVC", "api", "/greet", lambda b: {"data": [[0, f"hi {b['data'][0][1]}"]]})
    assert sf.scalar("SELECT DB.PUBLIC.DOUBLE_IT(21)") == 42
    assert calls == [{"data": [[0, 21]]}]
    assert sf.scalar("SELECT DB.PUBLIC.GREET('bob')") == "hi bob"
    sf.run("USE SCHEMA DB.PUBLIC")
    assert sf.scalar("SELECT double_it(5) AS d") == 10
    fns = sf.run("SHOW USER FUNCTIONS IN SCHEMA DB.PUBLIC")
    assert [(f["name"], f["arguments"]) for f in fns] == [
        ("DOUBLE_IT", "DOUBLE_IT(NUMBER) RETURN NUMBER(38,0)"), ("GREET", "GREET(VARCHAR) RETURN VARCHAR(16777216)")]
    desc = {r["property"]: r["value"] for r in sf.run("DESC FUNCTION DB.PUBLIC.DOUBLE_IT(NUMBER)")}
    assert desc["body"] == "/double" and desc["service"] == "DB.PUBLIC.SVC" and desc["service_endpoint"] == "api"
    assert desc["max_batch_rows"] == "10" and desc["signature"] == "(X NUMBER)"
    sf.run("ALTER FUNCTION DB.PUBLIC.DOUBLE_IT(NUMBER) SET MAX_BATCH_ROWS = 50")
    sf.run("ALTER FUNCTION DB.PUBLIC.DOUBLE_IT(NUMBER) SET COMMENT = 'x2'")
    sf.run("ALTER FUNCTION DB.PUBLIC.DOUBLE_IT(NUMBER) UNSET MAX_BATCH_ROWS")
    desc = {r["property"]: r["value"] for r in sf.run("DESC FUNCTION DB.PUBLIC.DOUBLE_IT(NUMBER)")}
    assert desc["max_batch_rows"] == "not set"
    assert sf.one("SHOW USER FUNCTIONS LIKE 'DOUBLE_IT'")["description"] == "x2"
    sf.run("ALTER FUNCTION DB.PUBLIC.DOUBLE_IT(NUMBER) UNSET COMMENT")
    sf.run("GRANT USAGE ON FUNCTION DB.PUBLIC.DOUBLE_IT(NUMBER) TO ROLE SYSADMIN")
    assert any(g["name"] == 'DB.PUBLIC."DOUBLE_IT(X NUMBER(38,0)):NUMBER(38,0)"' and g["granted_on"] == "FUNCTION"
               for g in sf.run("SHOW GRANTS TO ROLE SYSADMIN"))
    sf.run("CREATE OR REPLACE FUNCTION DB.PUBLIC.DOUBLE_IT(x NUMBER) RETURNS NUMBER SERVICE = DB.PUBLIC.SVC "
           "ENDPOINT = 'api' AS '/double'")
    assert sf.err("CREATE FUNCTION DB.PUBLIC.BAD(x NUMBER) RETURNS NUMBER SERVICE = DB.PUBLIC.SVC "
                  "ENDPOINT = 'nope' AS '/x'").errno == 1003
    assert sf.err("DROP FUNCTION DB.PUBLIC.DOUBLE_IT(VARCHAR)").errno == 2003
    sf.run("DROP FUNCTION DB.PUBLIC.DOUBLE_IT(INT)")
    sf.run("DROP FUNCTION IF EXISTS DB.PUBLIC.DOUBLE_IT(NUMBER)")
    assert [f["name"] for f in sf.run("SHOW FUNCTIONS IN ACCOUNT")] == ["GREET"]


def test_service_function_auto_resumes_service(spcs):
    sf = spcs
    create_service(sf)
    sf.run("CREATE FUNCTION DB.PUBLIC.F(x VARCHAR) RETURNS VARIANT SERVICE = DB.PUBLIC.SVC ENDPOINT = 'api' AS '/f'")
    sf.emu.register_endpoint("DB.PUBLIC.SVC", "api", "/f", lambda b: {"data": [[0, {"echo": b["data"][0][1]}]]})
    sf.run("ALTER SERVICE DB.PUBLIC.SVC SUSPEND")
    assert json.loads(sf.scalar("SELECT DB.PUBLIC.F('a')")) == {"echo": "a"}
    assert sf.one("SHOW SERVICES")["status"] in ("PENDING", "RUNNING")


def test_service_roles(spcs):
    sf = spcs
    spec = SPEC + "serviceRoles:\n- name: api_users\n  endpoints: [api]\n"
    create_service(sf, spec=spec)
    assert [r["name"] for r in sf.run("SHOW ROLES IN SERVICE DB.PUBLIC.SVC")] == ["ALL_ENDPOINTS_USAGE", "API_USERS"]
    sf.run("GRANT SERVICE ROLE DB.PUBLIC.SVC!API_USERS TO ROLE SYSADMIN")
    sf.run("GRANT SERVICE ROLE DB.PUBLIC.SVC!all_endpoints_usage TO ROLE SYSADMIN")
    rows = [r for r in sf.run("SHOW GRANTS TO ROLE SYSADMIN") if r["granted_on"] == "SERVICE_ROLE"]
    assert sorted(r["name"] for r in rows) == ["DB.PUBLIC.SVC!ALL_ENDPOINTS_USAGE", "DB.PUBLIC.SVC!API_USERS"]
    assert sf.err("GRANT SERVICE ROLE DB.PUBLIC.SVC!NOPE TO ROLE SYSADMIN").errno == 2003
    sf.run("REVOKE SERVICE ROLE DB.PUBLIC.SVC!API_USERS FROM ROLE SYSADMIN")
    sf.run("DROP SERVICE DB.PUBLIC.SVC")
    assert [r for r in sf.run("SHOW GRANTS TO ROLE SYSADMIN") if r["granted_on"] == "SERVICE_ROLE"] == []


def test_put_uploads_a_file_that_a_service_is_created_from(tmp_path):
    from spcs_emulator.testing import running_emulator

    spec = tmp_path / "app.yaml"
    spec.write_text("spec:\n  containers:\n  - name: main\n    image: /db/public/repo/app:1\n")
    with running_emulator(ready_delay_s=0.0) as emu:
        admin = emu.connect().cursor()  # SYSADMIN may not create compute pools in a new account
        admin.execute("CREATE COMPUTE POOL UP_POOL MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS")
        admin.execute("GRANT USAGE ON COMPUTE POOL UP_POOL TO ROLE SYSADMIN")
        cur = emu.connect(role="SYSADMIN").cursor()
        cur.execute("CREATE DATABASE UP_DB")
        cur.execute("CREATE STAGE UP_DB.PUBLIC.SPECS")
        rows = cur.execute(f"PUT 'file://{spec}' @UP_DB.PUBLIC.SPECS/dir AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
                           ).fetchall()
        assert rows[0][0] == "app.yaml" and rows[0][6] == "UPLOADED"
        cur.execute("CREATE SERVICE UP_DB.PUBLIC.APP IN COMPUTE POOL UP_POOL "
                    "FROM @UP_DB.PUBLIC.SPECS SPECIFICATION_FILE = 'dir/app.yaml'")
        described = emu.rows("DESC SERVICE UP_DB.PUBLIC.APP", role="SYSADMIN")[0]["spec"]
        assert "/db/public/repo/app:1" in described
        with pytest.raises(Exception, match="does not exist"):
            cur.execute(f"PUT 'file://{spec}' @UP_DB.PUBLIC.NOPE")
