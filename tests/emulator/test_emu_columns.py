"""Every SHOW / DESCRIBE the emulator answers returns the documented columns in the documented order, as
listed (with sources) in the one table spcs_emulator/columns.py."""

from __future__ import annotations

import pytest

from spcs_emulator.columns import OUTPUTS
from spcs_emulator.registry import HANDLERS

# One statement per command of the table, run after SETUP + OBJECTS (as the service's owner where needed).
STATEMENTS = {
    "SHOW ROLES": "SHOW ROLES",
    "SHOW WAREHOUSES": "SHOW WAREHOUSES",
    "SHOW DATABASES": "SHOW DATABASES",
    "SHOW SCHEMAS": "SHOW SCHEMAS IN ACCOUNT",
    "SHOW STAGES": "SHOW STAGES IN ACCOUNT",
    "LIST": "LIST @DB.PUBLIC.ST",
    "SHOW SECRETS": "SHOW SECRETS IN ACCOUNT",
    "DESC SECRET": "DESC SECRET DB.PUBLIC.SEC",
    "SHOW NETWORK RULES": "SHOW NETWORK RULES IN ACCOUNT",
    "DESC NETWORK RULE": "DESC NETWORK RULE DB.PUBLIC.RULE",
    "SHOW INTEGRATIONS": "SHOW INTEGRATIONS",
    "SHOW EXTERNAL ACCESS INTEGRATIONS": "SHOW EXTERNAL ACCESS INTEGRATIONS",
    "DESC INTEGRATION": "DESC INTEGRATION EAI",
    "DESC EXTERNAL ACCESS INTEGRATION": "DESC EXTERNAL ACCESS INTEGRATION EAI",
    "SHOW COMPUTE POOLS": "SHOW COMPUTE POOLS",
    "DESC COMPUTE POOL": "DESC COMPUTE POOL POOL",
    "SHOW IMAGE REPOSITORIES": "SHOW IMAGE REPOSITORIES IN ACCOUNT",
    "SHOW IMAGES": "SHOW IMAGES IN IMAGE REPOSITORY DB.PUBLIC.REPO",
    "SHOW SERVICES": "SHOW SERVICES IN ACCOUNT",
    "SHOW JOB SERVICES": "SHOW JOB SERVICES IN ACCOUNT",
    "DESC SERVICE": "DESC SERVICE DB.PUBLIC.SVC",
    "DESC JOB SERVICE": "DESC JOB SERVICE DB.PUBLIC.JOB",
    "SHOW SERVICE CONTAINERS": "SHOW SERVICE CONTAINERS IN SERVICE DB.PUBLIC.SVC",
    "SHOW SERVICE INSTANCES": "SHOW SERVICE INSTANCES IN SERVICE DB.PUBLIC.SVC",
    "SHOW ENDPOINTS": "SHOW ENDPOINTS IN SERVICE DB.PUBLIC.SVC",
    "SHOW ROLES IN SERVICE": "SHOW ROLES IN SERVICE DB.PUBLIC.SVC",
    "SHOW USER FUNCTIONS": "SHOW USER FUNCTIONS IN ACCOUNT",
    "SHOW FUNCTIONS": "SHOW FUNCTIONS IN SCHEMA DB.PUBLIC",
    "DESC FUNCTION": "DESC FUNCTION DB.PUBLIC.FN(NUMBER)",
    "SHOW GRANTS TO": "SHOW GRANTS TO ROLE DEPLOYER",
    "SHOW GRANTS ON": "SHOW GRANTS ON COMPUTE POOL POOL",
    "SHOW GRANTS OF": "SHOW GRANTS OF ROLE DEPLOYER",
    "SHOW PARAMETERS": "SHOW PARAMETERS IN DATABASE DB",
}
OBJECTS = [
    "USE ROLE ACCOUNTADMIN",
    "CREATE WAREHOUSE WH",
    "CREATE STAGE DB.PUBLIC.ST",
    "CREATE SECRET DB.PUBLIC.SEC TYPE = GENERIC_STRING SECRET_STRING = 'x'",
    "CREATE NETWORK RULE DB.PUBLIC.RULE TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ('a.com')",
    "CREATE EXTERNAL ACCESS INTEGRATION EAI ALLOWED_NETWORK_RULES = (DB.PUBLIC.RULE) ENABLED = TRUE",
    "USE ROLE DEPLOYER",
    "CREATE SERVICE DB.PUBLIC.SVC IN COMPUTE POOL POOL FROM SPECIFICATION "
    "$$spec: {containers: [{name: main, image: /db/public/repo/a:1}], endpoints: [{name: api, port: 80}]}$$",
    "EXECUTE JOB SERVICE IN COMPUTE POOL POOL FROM SPECIFICATION "
    "$$spec: {containers: [{name: main, image: /db/public/repo/a:1}]}$$ NAME = DB.PUBLIC.JOB ASYNC = TRUE",
    "CREATE FUNCTION DB.PUBLIC.FN(x NUMBER) RETURNS NUMBER SERVICE = DB.PUBLIC.SVC ENDPOINT = api AS '/fn'",
]
AS_ADMIN = {"DESC SECRET", "DESC NETWORK RULE"}  # need ownership: ACCOUNTADMIN created them
OTHER_HANDLERS = {"SHOW TABLES", "SHOW COLUMNS"}  # the tables' owner keeps their columns beside them


def test_every_show_and_describe_has_a_cited_entry() -> None:
    handled = {" ".join(k) for k in HANDLERS if k[0] in ("SHOW", "DESC")} - OTHER_HANDLERS
    table = {k for k in OUTPUTS} | {"SHOW GRANTS"}
    assert handled <= table, f"answered without a documented column list: {sorted(handled - table)}"
    assert set(STATEMENTS) == set(OUTPUTS), "run every command of the table"
    for key, output in OUTPUTS.items():
        assert output.source.startswith(("D:", "TF:")), key


@pytest.mark.parametrize("command", sorted(STATEMENTS))
def test_documented_columns_in_documented_order(spcs, command: str) -> None:  # type: ignore[no-untyped-def]
    for sql in OBJECTS:
        spcs.run(sql)
    if command in AS_ADMIN:
        spcs.run("USE ROLE ACCOUNTADMIN")
    assert spcs.columns(STATEMENTS[command]) == OUTPUTS[command].names
