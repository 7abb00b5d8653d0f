"""GRANT / REVOKE and SHOW GRANTS TO / OF / ON."""

from __future__ import annotations

GRANT_COLUMNS = ["created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option",
                 "granted_by"]


def _grants(sf, role):
    return {(r["privilege"], r["granted_on"], r["name"], r["grant_option"]) for r in
            sf.run(f"SHOW GRANTS TO ROLE {role}")}


def _setup(sf):
    for sql in ["CREATE ROLE APP", "CREATE DATABASE DB", "CREATE WAREHOUSE WH",
                "CREATE COMPUTE POOL POOL MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS",
                "CREATE STAGE DB.PUBLIC.ST", "CREATE IMAGE REPOSITORY DB.PUBLIC.REPO",
                "CREATE SECRET DB.PUBLIC.SEC TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p'",
                "CREATE NETWORK RULE DB.PUBLIC.NR TYPE = HOST_PORT VALUE_LIST = ('a.com') MODE = EGRESS",
                "CREATE EXTERNAL ACCESS INTEGRATION EAI ALLOWED_NETWORK_RULES = (DB.PUBLIC.NR) ENABLED = TRUE"]:
        sf.run(sql)


def test_account_and_object_grants(sf):
    _setup(sf)
    sf.run("GRANT CREATE COMPUTE POOL, BIND SERVICE ENDPOINT ON ACCOUNT TO ROLE APP WITH GRANT OPTION")
    sf.run("GRANT USAGE ON DATABASE DB TO ROLE APP")
    sf.run("GRANT USAGE, CREATE SERVICE ON SCHEMA DB.PUBLIC TO ROLE APP")
    sf.run("GRANT USAGE, OPERATE ON WAREHOUSE WH TO ROLE APP")
    sf.run("GRANT USAGE, MONITOR ON COMPUTE POOL POOL TO ROLE APP")
    sf.run("GRANT USAGE ON INTEGRATION EAI TO ROLE APP")
    sf.run("GRANT READ, WRITE ON STAGE DB.PUBLIC.ST TO ROLE APP")
    sf.run("GRANT READ ON IMAGE REPOSITORY DB.PUBLIC.REPO TO ROLE APP")
    sf.run("GRANT READ ON SECRET DB.PUBLIC.SEC TO ROLE APP")
    sf.run("GRANT USAGE ON NETWORK RULE DB.PUBLIC.NR TO ROLE APP")
    sf.run("GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE TO ROLE APP")
    assert sf.columns("SHOW GRANTS TO ROLE APP") == GRANT_COLUMNS
    got = _grants(sf, "APP")
    assert got == {
        ("CREATE COMPUTE POOL", "ACCOUNT", "EMU", "true"), ("BIND SERVICE ENDPOINT", "ACCOUNT", "EMU", "true"),
        ("USAGE", "DATABASE", "DB", "false"), ("USAGE", "SCHEMA", "DB.PUBLIC", "false"),
        ("CREATE SERVICE", "SCHEMA", "DB.PUBLIC", "false"), ("USAGE", "WAREHOUSE", "WH", "false"),
        ("OPERATE", "WAREHOUSE", "WH", "false"), ("USAGE", "COMPUTE_POOL", "POOL", "false"),
        ("MONITOR", "COMPUTE_POOL", "POOL", "false"), ("USAGE", "INTEGRATION", "EAI", "false"),
        ("READ", "STAGE", "DB.PUBLIC.ST", "false"), ("WRITE", "STAGE", "DB.PUBLIC.ST", "false"),
        ("READ", "IMAGE_REPOSITORY", "DB.PUBLIC.REPO", "false"), ("READ", "SECRET", "DB.PUBLIC.SEC", "false"),
        ("USAGE", "NETWORK_RULE", "DB.PUBLIC.NR", "false"), ("IMPORTED PRIVILEGES", "DATABASE", "SNOWFLAKE", "false"),
    }
    row = sf.run("SHOW GRANTS TO ROLE APP")[0]
    assert row["granted_to"] == "ROLE" and row["grantee_name"] == "APP" and row["granted_by"] == "ACCOUNTADMIN"
    # idempotent re-grant
    sf.run("GRANT USAGE ON DATABASE DB TO ROLE APP")
    assert len(sf.run("SHOW GRANTS TO ROLE APP")) == len(got)


def test_revoke(sf):
    _setup(sf)
    sf.run("GRANT USAGE, MONITOR ON COMPUTE POOL POOL TO ROLE APP WITH GRANT OPTION")
    sf.run("REVOKE GRANT OPTION FOR MONITOR ON COMPUTE POOL POOL FROM ROLE APP")
    assert ("MONITOR", "COMPUTE_POOL", "POOL", "false") in _grants(sf, "APP")
    sf.run("REVOKE USAGE, MONITOR ON COMPUTE POOL POOL FROM ROLE APP")
    sf.run("GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE APP")
    sf.run("REVOKE CREATE WAREHOUSE ON ACCOUNT FROM ROLE APP")
    sf.run("REVOKE USAGE ON DATABASE DB FROM ROLE APP")  # not granted: no-op
    assert _grants(sf, "APP") == set()


def test_all_privileges_expand(sf):
    _setup(sf)
    sf.run("GRANT ALL PRIVILEGES ON COMPUTE POOL POOL TO ROLE APP")
    assert {g[0] for g in _grants(sf, "APP")} == {"USAGE", "MONITOR", "OPERATE", "MODIFY"}
    sf.run("REVOKE ALL ON COMPUTE POOL POOL FROM ROLE APP")
    assert _grants(sf, "APP") == set()


def test_invalid_privilege_and_missing_objects(sf):
    _setup(sf)
    assert sf.err("GRANT READ ON COMPUTE POOL POOL TO ROLE APP").errno == 1003
    assert sf.err("GRANT USAGE ON COMPUTE POOL NOPE TO ROLE APP").errno == 2003
    assert sf.err("GRANT USAGE ON COMPUTE POOL POOL TO ROLE NOPE").errno == 2003
    assert sf.err("GRANT WRITE ON STAGE DB.PUBLIC.ST TO ROLE APP").errno == 1003  # READ must come first


def test_role_hierarchy_grants(sf):
    sf.run("CREATE ROLE CHILD")
    sf.run("CREATE ROLE PARENT")
    sf.run("GRANT ROLE CHILD TO ROLE PARENT")
    sf.run("GRANT ROLE PARENT TO ROLE SYSADMIN")
    assert ("USAGE", "ROLE", "CHILD", "false") in _grants(sf, "PARENT")
    of = sf.run("SHOW GRANTS OF ROLE CHILD")
    assert sf.columns("SHOW GRANTS OF ROLE CHILD") == ["created_on", "role", "granted_to", "grantee_name",
                                                       "granted_by"]
    assert [(r["role"], r["granted_to"], r["grantee_name"], r["granted_by"]) for r in of] == [
        ("CHILD", "ROLE", "PARENT", "ACCOUNTADMIN")]
    assert sf.err("GRANT ROLE SYSADMIN TO ROLE CHILD").errno == 1003  # cycle
    sf.run("REVOKE ROLE CHILD FROM ROLE PARENT")
    assert sf.run("SHOW GRANTS OF ROLE CHILD") == []
    system = {(r["grantee_name"]) for r in sf.run("SHOW GRANTS OF ROLE SYSADMIN")}
    assert "ACCOUNTADMIN" in system


def test_ownership_rows_and_transfer(sf):
    _setup(sf)
    sf.run("CREATE ROLE NEWOWNER")
    sf.run("GRANT USAGE ON WAREHOUSE WH TO ROLE APP")
    owned = _grants(sf, "ACCOUNTADMIN")
    assert ("OWNERSHIP", "WAREHOUSE", "WH", "true") in owned
    assert ("OWNERSHIP", "EXTERNAL_ACCESS_INTEGRATION", "EAI", "true") not in owned
    assert ("OWNERSHIP", "INTEGRATION", "EAI", "true") in owned
    sf.run("GRANT OWNERSHIP ON WAREHOUSE WH TO ROLE NEWOWNER COPY CURRENT GRANTS")
    assert sf.one("SHOW WAREHOUSES")["owner"] == "NEWOWNER"
    assert ("OWNERSHIP", "WAREHOUSE", "WH", "true") in _grants(sf, "NEWOWNER")
    assert ("USAGE", "WAREHOUSE", "WH", "false") in _grants(sf, "APP")
    sf.run("GRANT OWNERSHIP ON WAREHOUSE WH TO ROLE APP REVOKE CURRENT GRANTS")
    assert ("USAGE", "WAREHOUSE", "WH", "false") not in _grants(sf, "APP")
    sf.run("GRANT OWNERSHIP ON ROLE NEWOWNER TO ROLE SECURITYADMIN")
    assert sf.one("SHOW ROLES LIKE 'NEWOWNER'")["owner"] == "SECURITYADMIN"


def test_show_grants_on_object(sf):
    _setup(sf)
    sf.run("GRANT USAGE ON INTEGRATION EAI TO ROLE APP")
    rows = sf.run("SHOW GRANTS ON INTEGRATION EAI")
    assert [(r["privilege"], r["grantee_name"]) for r in rows] == [("OWNERSHIP", "ACCOUNTADMIN"), ("USAGE", "APP")]
    assert rows[0]["granted_by_role_type"] == "ROLE"
    sf.run("GRANT MONITOR USAGE ON ACCOUNT TO ROLE APP")
    assert [r["privilege"] for r in sf.run("SHOW GRANTS ON ACCOUNT")] == ["MONITOR USAGE"]


def test_grant_requires_ownership_or_admin(sf):
    _setup(sf)
    sf.run("CREATE ROLE LOWLY")
    sf.run("GRANT ROLE LOWLY TO ROLE ACCOUNTADMIN")
    sf.run("USE ROLE LOWLY")
    assert sf.err("GRANT USAGE ON WAREHOUSE WH TO ROLE APP").errno == 2003  # LOWLY cannot even see it
    assert sf.err("GRANT CREATE DATABASE ON ACCOUNT TO ROLE APP").errno == 3001
    sf.run("USE ROLE SECURITYADMIN")
    sf.run("GRANT USAGE ON WAREHOUSE WH TO ROLE APP")


def test_grants_removed_with_object_and_role(sf):
    _setup(sf)
    sf.run("GRANT USAGE ON WAREHOUSE WH TO ROLE APP")
    sf.run("DROP WAREHOUSE WH")
    assert _grants(sf, "APP") == set()
    sf.run("CREATE WAREHOUSE WH2")
    sf.run("GRANT USAGE ON WAREHOUSE WH2 TO ROLE APP")
    sf.run("DROP ROLE APP")
    assert sf.run("SHOW GRANTS ON WAREHOUSE WH2")[1:] == []
