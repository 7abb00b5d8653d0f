"""``plan --assume-empty`` of stacks/quickstart.py on Snowflake: a valid order, the seed's statements."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from spcs_iac.drivers import api
from spcs_iac.plan.model import Action, Plan
from spcs_iac.targets.snowflake.provider import SnowflakeProvider

ROOT = Path(__file__).resolve().parents[2]

# The SQL of the seed quickstart (its comments), as written there.
SEED = [
    "CREATE ROLE CONTAINER_USER_ROLE COMMENT = 'My role to use container'",
    "GRANT CREATE DATABASE ON ACCOUNT TO ROLE CONTAINER_USER_ROLE",
    "GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE CONTAINER_USER_ROLE",
    "GRANT CREATE COMPUTE POOL ON ACCOUNT TO ROLE CONTAINER_USER_ROLE",
    "GRANT CREATE INTEGRATION ON ACCOUNT TO ROLE CONTAINER_USER_ROLE",
    "GRANT MONITOR USAGE ON ACCOUNT TO  ROLE  CONTAINER_USER_ROLE",
    "GRANT BIND SERVICE ENDPOINT ON ACCOUNT TO ROLE CONTAINER_USER_ROLE",
    "GRANT IMPORTED PRIVILEGES ON DATABASE snowflake TO ROLE CONTAINER_USER_ROLE",
    "grant role CONTAINER_USER_ROLE to role ACCOUNTADMIN",
    "CREATE OR REPLACE DATABASE CONTAINER_HOL_DB",
    "CREATE OR REPLACE WAREHOUSE CONTAINER_HOL_WH WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 120 AUTO_RESUME = TRUE",
    "CREATE STAGE IF NOT EXISTS specs ENCRYPTION = (TYPE='SNOWFLAKE_SSE')",
    "CREATE STAGE IF NOT EXISTS volumes ENCRYPTION = (TYPE='SNOWFLAKE_SSE') DIRECTORY = (ENABLE = TRUE)",
    "CREATE OR REPLACE NETWORK RULE ALLOW_ALL_RULE TYPE = 'HOST_PORT' MODE = 'EGRESS' "
    "VALUE_LIST= ('0.0.0.0:443', '0.0.0.0:80')",
    "CREATE EXTERNAL ACCESS INTEGRATION ALLOW_ALL_EAI ALLOWED_NETWORK_RULES = (ALLOW_ALL_RULE) ENABLED = true",
    "GRANT USAGE ON INTEGRATION ALLOW_ALL_EAI TO ROLE CONTAINER_USER_ROLE",
    # The seed's comment says INSTANCE_FAMILY = standard_1; its code (and the stack) use CPU_X64_XS.
    "CREATE COMPUTE POOL IF NOT EXISTS CONTAINER_HOL_POOL MIN_NODES = 1 MAX_NODES = 1 INSTANCE_FAMILY = CPU_X64_XS",
    "CREATE IMAGE REPOSITORY CONTAINER_HOL_DB.PUBLIC.IMAGE_REPO",
    "create service CONTAINER_HOL_DB.PUBLIC.JUPYTER_SNOWPARK_SERVICE in compute pool CONTAINER_HOL_POOL "
    "from @specs specification_file='jupyter-snowpark.yaml' external_access_integrations = (ALLOW_ALL_EAI)",
    "create service CONTAINER_HOL_DB.PUBLIC.convert_api in compute pool CONTAINER_HOL_POOL "
    "from @specs specification_file='convert-api.yaml' external_access_integrations = (ALLOW_ALL_EAI)",
    "CREATE OR REPLACE FUNCTION convert_udf (input float) RETURNS float SERVICE=CONVERT_API "
    "ENDPOINT='convert-api' MAX_BATCH_ROWS=5 AS '/convert'",
]

_PAIR = re.compile(r"([A-Z_]+)\s*=\s*(\([^)]*\)|'[^']*'|[^\s,]+)")
_TYPES = {"FLOAT": "REAL"}  # the stack spells the function's types REAL, the seed float


def _canon(text: str) -> str:
    text = " ".join(text.replace("//", " ").split()).upper()
    text = text.replace("CREATE OR REPLACE", "CREATE").replace("IF NOT EXISTS ", "")
    return re.sub(r"\s*=\s*", " = ", text)


def _head(text: str) -> str:
    """The statement up to its first property: the verb, type and (unqualified) name."""
    head = _PAIR.split(_canon(text))[0]
    head = re.sub(r"[A-Z_]+\.[A-Z_]+\.([A-Z_]+)", r"\1", head)
    for a, b in _TYPES.items():
        head = head.replace(a, b)
    return " ".join(head.replace("(", " ( ").replace(")", " ) ").split())


def _pairs(text: str) -> set[tuple[str, str]]:
    out = set()
    for key, value in _PAIR.findall(_canon(text)):
        value = re.sub(r"\s*\[spcs-iac:[^\]]*\]", "", value.strip("'"), flags=re.I)  # our stack marker is ours alone
        value = re.sub(r"[A-Z_]+\.[A-Z_]+\.([A-Z_]+)", r"\1", value).replace("TYPE = ", "TYPE = ")
        out.add((key, " ".join(value.replace("'", "").split())))
    return out


def _privileges(text: str) -> tuple[str, set[str]] | None:
    m = re.match(r"GRANT (.+) ON (.+)$", _canon(text))
    if not m or m.group(1).startswith("ROLE "):
        return None
    return m.group(2), {p.strip() for p in m.group(1).split(",")}


def covered(seed: str, ours: list[str]) -> bool:
    """Whether one of our statements does what the seed statement does (same object, same properties)."""
    grant = _privileges(seed)
    for stmt in ours:
        if grant is not None:
            mine = _privileges(stmt)
            if mine and mine[0] == grant[0] and grant[1] <= mine[1]:
                return True
            continue
        if _head(stmt).startswith(_head(seed)) and _pairs(seed) <= _pairs(stmt):
            return True
    return False


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    stack = runpy.run_path(str(ROOT / "stacks" / "quickstart.py"))["stack"]
    provider = SnowflakeProvider("quickstart", connect=False)
    return api.plan(stack, target="snowflake", provider=provider, assume_empty=True,
                      state_dir=str(tmp_path_factory.mktemp("state")))


def test_assume_empty_plans_every_object_as_a_create(plan: Plan) -> None:
    assert plan.actionable and all(c.action is Action.CREATE for c in plan.actionable)
    assert all(c.statements for c in plan.actionable)


def test_order_respects_dependencies(plan: Plan) -> None:
    position = {c.address: i for i, c in enumerate(plan.actionable)}
    for c in plan.actionable:
        for dep in c.depends_on:
            assert position[dep] < position[c.address], f"{c.address} planned before {dep}"


def test_plan_contains_the_seed_statements(plan: Plan) -> None:
    ours = [s for c in plan.actionable for s in c.statements]
    missing = [s for s in SEED if not covered(s, ours)]
    assert not missing, "\n".join(missing)


def _script(plan: Plan) -> list[str]:
    return [s for c in plan.actionable for s in c.statements]


def _role_at(script: list[str], prefix: str) -> str | None:
    role = None
    for s in script:
        if s.startswith("USE ROLE "):
            role = s.split()[-1]
        elif s.startswith(prefix):
            return role
    raise AssertionError(f"no statement starts with {prefix!r}")


def test_statements_run_under_the_owner_roles(plan: Plan) -> None:
    script = _script(plan)
    assert _role_at(script, "CREATE ROLE CONTAINER_USER_ROLE") == "ACCOUNTADMIN"
    assert _role_at(script, "CREATE NETWORK RULE") == "ACCOUNTADMIN"
    assert _role_at(script, "CREATE EXTERNAL ACCESS INTEGRATION") == "ACCOUNTADMIN"
    for prefix in ("CREATE DATABASE", "CREATE WAREHOUSE", "CREATE COMPUTE POOL", "CREATE SERVICE",
                   "CREATE FUNCTION", "CREATE IMAGE REPOSITORY"):
        assert _role_at(script, prefix) == "CONTAINER_USER_ROLE", prefix
    # USE ROLE appears only where the role changes.
    uses = [s for s in script if s.startswith("USE ROLE")]
    assert all(a != b for a, b in zip(uses, uses[1:], strict=False))


def test_images_show_their_spec_reference_without_a_connection(plan: Plan) -> None:
    image = next(c for c in plan.actionable if c.kind == "image" and "convert-api" in c.address)
    assert image.statements[0].startswith("docker build --platform linux/amd64")
    assert "-t /container_hol_db/public/image_repo/convert-api:dev" in image.statements[0]
    assert image.statements[1] == "docker push /container_hol_db/public/image_repo/convert-api:dev"


def test_service_specs_are_uploaded_to_the_specs_stage_first(plan: Plan) -> None:
    svc: Any = next(c for c in plan.actionable if c.address.endswith("CONVERT_API"))
    put = next(i for i, s in enumerate(svc.statements) if s.startswith("PUT "))
    create = next(i for i, s in enumerate(svc.statements) if s.startswith("CREATE SERVICE"))
    assert put < create
    assert svc.statements[put] == ("PUT 'file://<rendered spec>/convert-api.yaml' @CONTAINER_HOL_DB.PUBLIC.SPECS "
                                   "AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
    assert "FROM @CONTAINER_HOL_DB.PUBLIC.SPECS SPECIFICATION_FILE = 'convert-api.yaml'" in svc.statements[create]
    assert svc.statements[-1] == "-- wait until service CONTAINER_HOL_DB.PUBLIC.CONVERT_API is READY"
