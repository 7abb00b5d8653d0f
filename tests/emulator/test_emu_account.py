"""Roles, warehouses, databases, schemas; ownership checks; USE."""

from __future__ import annotations

ROLE_COLUMNS = ["created_on", "name", "is_default", "is_current", "is_inherited", "assigned_to_users",
                "granted_to_roles", "granted_roles", "owner", "comment"]


def test_builtin_roles_present(sf):
    names = {r["name"] for r in sf.run("SHOW ROLES")}
    assert {"ACCOUNTADMIN", "SYSADMIN", "SECURITYADMIN", "USERADMIN", "PUBLIC"} <= names


def test_role_create_show_alter_drop(sf):
    sf.run("CREATE ROLE app_role COMMENT = 'first'")
    assert sf.columns("SHOW ROLES LIKE 'APP_ROLE'") == ROLE_COLUMNS
    row = sf.one("SHOW ROLES LIKE 'app_role'")
    assert row["name"] == "APP_ROLE" and row["owner"] == "ACCOUNTADMIN" and row["comment"] == "first"
    assert row["is_current"] == "N" and row["is_inherited"] == "N"
    sf.run("ALTER ROLE APP_ROLE SET COMMENT = 'second'")
    assert sf.one("SHOW ROLES LIKE 'APP_ROLE'")["comment"] == "second"
    sf.run("ALTER ROLE APP_ROLE UNSET COMMENT")
    assert sf.one("SHOW ROLES LIKE 'APP_ROLE'")["comment"] is None
    assert "already exists" in sf.one("CREATE ROLE IF NOT EXISTS APP_ROLE")["status"]
    sf.run("DROP ROLE APP_ROLE")
    assert sf.run("SHOW ROLES LIKE 'APP_ROLE'") == []
    sf.run("DROP ROLE IF EXISTS APP_ROLE")
    assert sf.err("DROP ROLE APP_ROLE").errno == 2003
    assert sf.err("DROP ROLE SYSADMIN").errno == 1003


def test_use_role_and_inheritance_flags(sf):
    sf.run("CREATE ROLE PARENT")
    sf.run("CREATE ROLE CHILD")
    sf.run("GRANT ROLE CHILD TO ROLE PARENT")
    sf.run("GRANT ROLE PARENT TO ROLE ACCOUNTADMIN")
    sf.run("USE ROLE PARENT")
    assert sf.scalar("SELECT CURRENT_ROLE()") == "PARENT"
    rows = {r["name"]: r for r in sf.run("SHOW ROLES")}
    assert rows["PARENT"]["is_current"] == "Y"
    assert rows["CHILD"]["is_inherited"] == "Y"
    assert rows["PARENT"]["granted_roles"] == 1 and rows["PARENT"]["granted_to_roles"] == 1
    assert sf.err("USE ROLE NOPE").errno == 2003


def test_warehouse_lifecycle(sf):
    sf.run("CREATE WAREHOUSE IF NOT EXISTS wh WAREHOUSE_SIZE = XSMALL WAREHOUSE_TYPE = STANDARD AUTO_SUSPEND = 60 "
           "AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE MIN_CLUSTER_COUNT = 1 MAX_CLUSTER_COUNT = 2 "
           "SCALING_POLICY = ECONOMY COMMENT = 'wh'")
    row = sf.one("SHOW WAREHOUSES LIKE 'WH'")
    assert row["name"] == "WH" and row["state"] == "SUSPENDED" and row["size"] == "X-Small"
    assert row["type"] == "STANDARD" and row["auto_suspend"] == 60 and row["auto_resume"] == "true"
    assert row["max_cluster_count"] == 2 and row["scaling_policy"] == "ECONOMY" and row["comment"] == "wh"
    sf.run("ALTER WAREHOUSE WH SET WAREHOUSE_SIZE = 'X-LARGE' AUTO_SUSPEND = NULL COMMENT = 'big'")
    row = sf.one("SHOW WAREHOUSES LIKE 'WH'")
    assert row["size"] == "X-Large" and row["auto_suspend"] is None and row["comment"] == "big"
    sf.run("ALTER WAREHOUSE WH SET WAREHOUSE_SIZE = XXLARGE")
    assert sf.one("SHOW WAREHOUSES LIKE 'WH'")["size"] == "2X-Large"
    sf.run("ALTER WAREHOUSE WH UNSET WAREHOUSE_SIZE, AUTO_SUSPEND, COMMENT")
    row = sf.one("SHOW WAREHOUSES LIKE 'WH'")
    assert row["size"] == "X-Small" and row["auto_suspend"] == 600 and row["comment"] is None
    sf.run("ALTER WAREHOUSE WH RESUME IF SUSPENDED")
    assert sf.one("SHOW WAREHOUSES LIKE 'WH'")["state"] == "STARTED"
    sf.run("ALTER WAREHOUSE WH RESUME IF SUSPENDED")
    sf.run("ALTER WAREHOUSE WH SUSPEND")
    assert sf.one("SHOW WAREHOUSES LIKE 'WH'")["state"] == "SUSPENDED"
    assert sf.err("ALTER WAREHOUSE WH SET MIN_CLUSTER_COUNT = 5").errno == 1003
    sf.run("USE WAREHOUSE WH")
    assert sf.scalar("SELECT CURRENT_WAREHOUSE()") == "WH"
    sf.run("DROP WAREHOUSE WH")
    assert sf.run("SHOW WAREHOUSES") == []
    assert sf.err("USE WAREHOUSE WH").errno == 2003


def test_snowpark_optimized_default_size(sf):
    sf.run("CREATE WAREHOUSE SPW WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED'")
    row = sf.one("SHOW WAREHOUSES")
    assert row["type"] == "SNOWPARK-OPTIMIZED" and row["size"] == "Medium"


def test_database_and_schema_lifecycle(sf):
    assert [r["name"] for r in sf.run("SHOW DATABASES")] == ["SNOWFLAKE"]
    sf.run("CREATE DATABASE IF NOT EXISTS app COMMENT = 'db'")
    row = sf.one("SHOW DATABASES LIKE 'APP'")
    assert row["owner"] == "ACCOUNTADMIN" and row["comment"] == "db" and row["is_current"] == "Y"
    schemas = {r["name"] for r in sf.run("SHOW SCHEMAS IN DATABASE APP")}
    assert schemas == {"PUBLIC", "INFORMATION_SCHEMA"}
    sf.run("CREATE SCHEMA APP.CORE COMMENT = 'core'")
    assert sf.scalar("SELECT CURRENT_SCHEMA()") == "CORE"
    row = [r for r in sf.run("SHOW SCHEMAS IN ACCOUNT") if r["name"] == "CORE"][0]
    assert row["database_name"] == "APP" and row["comment"] == "core"
    sf.run("ALTER SCHEMA APP.CORE SET COMMENT = 'c2'")
    sf.run("ALTER DATABASE APP SET COMMENT = 'd2'")
    assert sf.one("SHOW DATABASES LIKE 'APP'")["comment"] == "d2"
    sf.run("ALTER SCHEMA APP.CORE UNSET COMMENT")
    assert [r for r in sf.run("SHOW SCHEMAS IN DATABASE APP") if r["name"] == "CORE"][0]["comment"] is None
    assert sf.err("CREATE SCHEMA APP.CORE").errno == 2002
    assert sf.err("CREATE SCHEMA NOPE.CORE").errno == 2003
    sf.run("USE SCHEMA APP.PUBLIC")
    assert sf.scalar("SELECT CURRENT_SCHEMA()") == "PUBLIC"
    sf.run("DROP SCHEMA APP.CORE")
    sf.run("DROP SCHEMA IF EXISTS APP.CORE")
    assert sf.err("DROP SCHEMA APP.CORE").errno == 2003
    sf.run("CREATE STAGE APP.PUBLIC.ST")
    sf.run("DROP DATABASE APP")
    assert sf.run("SHOW STAGES IN ACCOUNT") == []
    assert sf.err("DROP DATABASE SNOWFLAKE").errno == 1003


def test_ownership_required_for_alter_and_drop(sf):
    sf.run("CREATE ROLE OWNER_R")
    sf.run("CREATE ROLE OTHER_R")
    sf.run("GRANT ROLE OWNER_R TO ROLE ACCOUNTADMIN")
    sf.run("GRANT ROLE OTHER_R TO ROLE ACCOUNTADMIN")
    sf.run("GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE OWNER_R")
    sf.run("USE ROLE OWNER_R")
    sf.run("CREATE WAREHOUSE OWH")
    assert sf.one("SHOW WAREHOUSES")["owner"] == "OWNER_R"
    sf.run("USE ROLE OTHER_R")
    e = sf.err("ALTER WAREHOUSE OWH SET COMMENT = 'x'")  # no privilege at all: Snowflake does not show it
    assert e.errno == 2003 and "does not exist or not authorized" in e.msg
    assert sf.run("SHOW WAREHOUSES LIKE 'OWH'") == []
    sf.run("USE ROLE OWNER_R")
    sf.run("GRANT USAGE ON WAREHOUSE OWH TO ROLE OTHER_R")
    sf.run("USE ROLE OTHER_R")
    e = sf.err("ALTER WAREHOUSE OWH SET COMMENT = 'x'")  # seen, but not owned
    assert e.errno == 3001 and "Insufficient privileges to operate on warehouse 'OWH'" in e.msg
    assert sf.err("DROP WAREHOUSE OWH").errno == 3001
    sf.run("USE ROLE ACCOUNTADMIN")  # inherits OWNER_R
    sf.run("ALTER WAREHOUSE OWH SET COMMENT = 'admin may'")
    sf.run("CREATE ROLE PARENT_R")
    sf.run("GRANT ROLE OWNER_R TO ROLE PARENT_R")
    sf.run("GRANT ROLE PARENT_R TO ROLE SYSADMIN")
    sf.run("USE ROLE SYSADMIN")  # inherits OWNER_R via PARENT_R
    sf.run("DROP WAREHOUSE OWH")


def test_unqualified_names_need_current_database(sf):
    e = sf.err("CREATE STAGE S1")
    assert e.errno == 90105
    sf.run("CREATE DATABASE D1")
    sf.run("CREATE STAGE S1")
    assert sf.one("SHOW STAGES")["database_name"] == "D1"


def test_create_or_replace(sf):
    sf.run("CREATE ROLE RR COMMENT = 'a'")
    sf.run("CREATE OR REPLACE ROLE RR COMMENT = 'b'")
    assert sf.one("SHOW ROLES LIKE 'RR'")["comment"] == "b"
