"""Access control as Snowflake enforces it, with its error codes: no administrator bypass, CREATE
privileges from the primary role, USAGE on what a service uses, BIND SERVICE ENDPOINT for public
endpoints, USE ROLE only for the user's roles, secondary roles; plus object parameters."""

from __future__ import annotations

import pytest
from emu_fixtures import SETUP
from snowflake.connector.errors import DatabaseError

from spcs_emulator.testing import running_emulator

SERVICE = ("CREATE SERVICE DB.PUBLIC.S IN COMPUTE POOL POOL FROM SPECIFICATION "
           "$$spec: {{containers: [{{name: main, image: /db/public/repo/a:1}}], "
           "endpoints: [{{name: api, port: 80, public: {public}}}]}}$$")


def test_create_needs_the_privilege_on_the_container(sf) -> None:  # type: ignore[no-untyped-def]
    sf.run("CREATE ROLE DEV")
    sf.run("GRANT ROLE DEV TO ROLE SYSADMIN")
    sf.run("USE ROLE DEV")
    e = sf.err("CREATE DATABASE D1")
    assert (e.errno, e.sqlstate) == (3001, "42501")
    assert "SQL access control error:\nInsufficient privileges to operate on account 'EMU'." in e.msg
    sf.run("USE ROLE SYSADMIN")  # SYSADMIN holds CREATE DATABASE in a new account, not CREATE COMPUTE POOL
    sf.run("CREATE DATABASE D1")
    assert sf.err("CREATE COMPUTE POOL P1 MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS").errno == 3001
    sf.run("GRANT USAGE ON DATABASE D1 TO ROLE DEV")
    sf.run("GRANT USAGE ON SCHEMA D1.PUBLIC TO ROLE DEV")
    sf.run("USE ROLE DEV")
    e = sf.err("CREATE STAGE D1.PUBLIC.ST")
    assert e.errno == 3001 and "Insufficient privileges to operate on schema 'D1.PUBLIC'" in e.msg
    sf.run("USE ROLE SYSADMIN")
    sf.run("GRANT CREATE STAGE ON SCHEMA D1.PUBLIC TO ROLE DEV")
    sf.run("USE ROLE DEV")
    sf.run("CREATE STAGE D1.PUBLIC.ST")
    assert sf.one("SHOW STAGES IN SCHEMA D1.PUBLIC")["owner"] == "DEV"  # the primary role owns what it creates


def test_a_service_needs_usage_on_its_pool_and_bind_for_public_endpoints(sf) -> None:  # type: ignore[no-untyped-def]
    for sql in SETUP:
        if "BIND SERVICE ENDPOINT" not in sql and "ON COMPUTE POOL" not in sql:
            sf.run(sql)
    sf.run("USE ROLE DEPLOYER")
    assert sf.err(SERVICE.format(public="false")).errno == 2003  # no privilege on the pool: not even seen
    sf.run("USE ROLE ACCOUNTADMIN")
    sf.run("GRANT USAGE ON COMPUTE POOL POOL TO ROLE DEPLOYER")
    sf.run("USE ROLE DEPLOYER")
    e = sf.err(SERVICE.format(public="true"))
    assert e.errno == 3001 and "account 'EMU'" in e.msg  # BIND SERVICE ENDPOINT
    sf.run(SERVICE.format(public="false"))


def test_use_role_only_for_the_users_roles() -> None:
    with running_emulator(users={"ANALYST": ["READER"]}) as emu:
        admin = emu.connect().cursor()
        admin.execute("CREATE ROLE READER")
        admin.execute("CREATE ROLE WRITER")
        admin.execute("CREATE ROLE BASE")
        admin.execute("GRANT ROLE BASE TO ROLE READER")
        cur = emu.connect(role="READER", user="analyst").cursor()
        cur.execute("USE ROLE BASE")  # below a granted role
        with pytest.raises(DatabaseError) as info:
            cur.execute("USE ROLE WRITER")
        assert info.value.errno == 3013
        assert "Requested role 'WRITER' is not assigned to the executing user." in info.value.msg
        cur.execute("SELECT CURRENT_AVAILABLE_ROLES()")
        assert sorted(__import__("json").loads(cur.fetchone()[0])) == ["BASE", "PUBLIC", "READER"]
        with pytest.raises(DatabaseError):
            emu.connect(role="WRITER", user="analyst")
        admin.execute("GRANT ROLE WRITER TO USER ANALYST")
        cur.execute("USE ROLE WRITER")


def test_secondary_roles_add_privileges_but_not_create(sf) -> None:  # type: ignore[no-untyped-def]
    sf.run("CREATE ROLE OWNER_R")
    sf.run("CREATE ROLE OTHER_R")
    sf.run("GRANT ROLE OWNER_R TO USER EMULATOR")
    sf.run("GRANT ROLE OTHER_R TO USER EMULATOR")
    sf.run("GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE OWNER_R")
    sf.run("USE ROLE OWNER_R")
    sf.run("CREATE WAREHOUSE SWH")
    sf.run("USE ROLE OTHER_R")
    assert sf.err("ALTER WAREHOUSE SWH SET COMMENT = 'x'").errno == 2003
    assert sf.scalar("SELECT CURRENT_SECONDARY_ROLES()") == '{"roles":"","value":""}'
    sf.run("USE SECONDARY ROLES ALL")
    assert '"value":"ALL"' in sf.scalar("SELECT CURRENT_SECONDARY_ROLES()")
    sf.run("ALTER WAREHOUSE SWH SET COMMENT = 'through a secondary role'")
    assert sf.err("CREATE WAREHOUSE SWH2").errno == 3001  # CREATE uses the primary role only
    sf.run("USE SECONDARY ROLES NONE")
    assert sf.err("ALTER WAREHOUSE SWH SET COMMENT = 'y'").errno == 2003


def test_manage_grants_lets_securityadmin_grant_and_move_ownership(sf) -> None:  # type: ignore[no-untyped-def]
    sf.run("CREATE ROLE APP")
    sf.run("CREATE WAREHOUSE MWH")
    sf.run("USE ROLE SECURITYADMIN")
    sf.run("GRANT USAGE ON WAREHOUSE MWH TO ROLE APP")
    sf.run("GRANT OWNERSHIP ON WAREHOUSE MWH TO ROLE APP COPY CURRENT GRANTS")
    assert sf.one("SHOW WAREHOUSES LIKE 'MWH'")["owner"] == "APP"
    e = sf.err("ALTER WAREHOUSE MWH SET COMMENT = 'x'")  # MANAGE GRANTS shows it, but does not own it
    assert e.errno == 3001


def test_object_parameters_are_set_shown_and_reset(sf) -> None:  # type: ignore[no-untyped-def]
    sf.run("CREATE DATABASE PDB MAX_DATA_EXTENSION_TIME_IN_DAYS = 20 DEFAULT_DDL_COLLATION = 'en-ci'")
    params = {r["key"]: r for r in sf.run("SHOW PARAMETERS IN DATABASE PDB")}
    assert (params["MAX_DATA_EXTENSION_TIME_IN_DAYS"]["value"], params["MAX_DATA_EXTENSION_TIME_IN_DAYS"]["level"],
            params["MAX_DATA_EXTENSION_TIME_IN_DAYS"]["type"]) == ("20", "DATABASE", "NUMBER")
    assert params["DEFAULT_DDL_COLLATION"]["value"] == "en-ci"
    sf.run("ALTER DATABASE PDB UNSET MAX_DATA_EXTENSION_TIME_IN_DAYS")
    row = sf.one("SHOW PARAMETERS LIKE 'MAX_DATA_EXTENSION%' IN DATABASE PDB")
    assert (row["value"], row["level"]) == ("14", "")
    sf.run("CREATE SCHEMA PDB.S DATA_RETENTION_TIME_IN_DAYS = 3")
    assert sf.one("SHOW PARAMETERS LIKE 'DATA_RETENTION%' IN SCHEMA PDB.S")["value"] == "3"
    sf.run("CREATE WAREHOUSE PWH STATEMENT_TIMEOUT_IN_SECONDS = 600")
    row = sf.one("SHOW PARAMETERS LIKE 'STATEMENT_TIMEOUT_IN_SECONDS' FOR WAREHOUSE PWH")
    assert (row["value"], row["level"]) == ("600", "WAREHOUSE")
