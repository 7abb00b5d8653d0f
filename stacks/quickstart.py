"""The Snowpark Container Services quickstart, declared once.

Everything the quickstart builds step by step with imperative calls: the role and its account
privileges, database, warehouse, stages, network rule and external access integration, compute pool,
image repository, the two images, the notebook and convert services, the WEATHER table and the
CONVERT_UDF service function. ``spcs-iac apply stacks/quickstart.py`` brings it up locally (Docker) or, with
``--target snowflake``, on an account; ``spcs-iac destroy`` removes it.

Set SPCS_IAC_BASE_IMAGE to build the images from another base (the tests use an offline image).
"""

import os
from pathlib import Path

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    FunctionArgument,
    Grant,
    Image,
    ImageRepository,
    NetworkRule,
    Role,
    RoleGrant,
    Service,
    ServiceFunction,
    ServiceSpec,
    Stack,
    Stage,
    Table,
    TableColumn,
    Warehouse,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BUILD_ARGS = {"BASE_IMAGE": os.environ["SPCS_IAC_BASE_IMAGE"]} if os.environ.get("SPCS_IAC_BASE_IMAGE") else {}

stack = Stack("quickstart")

# --- account setup, as ACCOUNTADMIN (seed: 00_setup.py) ------------------------------------------
ADMIN = "ACCOUNTADMIN"
role = stack.add(Role(name="CONTAINER_USER_ROLE", comment="My role to use container", owner=ADMIN))
stack.add(Grant(
    to=role, on="ACCOUNT", owner=ADMIN,
    privileges=["CREATE DATABASE", "CREATE WAREHOUSE", "CREATE COMPUTE POOL", "CREATE INTEGRATION",
                "MONITOR USAGE", "BIND SERVICE ENDPOINT"],
))
stack.add(Grant(to=role, on="SNOWFLAKE", on_type="DATABASE", privileges=["IMPORTED PRIVILEGES"], owner=ADMIN))
stack.add(RoleGrant(role=role, to_role=ADMIN, owner=ADMIN))

# --- objects the role owns ------------------------------------------------------------------------
db = stack.add(Database(name="CONTAINER_HOL_DB", comment="This is a Container Quick Start Guide database",
                        owner=role))
stack.add(Warehouse(
    name="CONTAINER_HOL_WH", warehouse_size="XSMALL", auto_suspend=120, auto_resume=True,
    comment="This is a Container Quick Start Guide warehouse", owner=role,
))
specs = stack.add(Stage(name="SPECS", database=db, encryption="SNOWFLAKE_SSE", owner=role))
volumes = stack.add(Stage(name="VOLUMES", database=db, encryption="SNOWFLAKE_SSE", directory_table=True,
                          owner=role))

# --- egress, as ACCOUNTADMIN (seed: 01_snowpark_container_services_setup.py) ----------------------
rule = stack.add(NetworkRule(
    name="ALLOW_ALL_RULE", database=db, type="HOST_PORT", mode="EGRESS",
    value_list=["0.0.0.0:443", "0.0.0.0:80"], owner=ADMIN,
))
eai = stack.add(ExternalAccessIntegration(name="ALLOW_ALL_EAI", allowed_network_rules=[rule], enabled=True,
                                          owner=ADMIN))
stack.add(Grant(to=role, on=eai, privileges=["USAGE"], owner=ADMIN))

# --- compute and images ---------------------------------------------------------------------------
pool = stack.add(ComputePool(name="CONTAINER_HOL_POOL", min_nodes=1, max_nodes=1, instance_family="CPU_X64_XS",
                             owner=role))
repo = stack.add(ImageRepository(name="IMAGE_REPO", database=db, owner=role))
jupyter_image = stack.add(Image(
    name="python-jupyter-snowpark", tag="dev", repository=repo,
    context=str(EXAMPLES / "jupyter-snowpark"), build_args=BUILD_ARGS,
))
convert_image = stack.add(Image(
    name="convert-api", tag="dev", repository=repo, context=str(EXAMPLES / "convert-api"), build_args=BUILD_ARGS,
))

# --- services and the service function (seed: 02_jupyter_service.py, 03_rest_service.py) ----------
# As in the seed, each spec is uploaded to @specs and the service is created from that file.
stack.add(Service(
    name="JUPYTER_SNOWPARK_SERVICE", database=db, compute_pool=pool,
    spec=ServiceSpec.from_file(str(EXAMPLES / "specs" / "jupyter-snowpark.yaml")),
    spec_stage=specs, spec_file="jupyter-snowpark.yaml", external_access_integrations=[eai], owner=role,
))
convert_api = stack.add(Service(
    name="CONVERT_API", database=db, compute_pool=pool,
    spec=ServiceSpec.from_file(str(EXAMPLES / "specs" / "convert-api.yaml")),
    spec_stage=specs, spec_file="convert-api.yaml", external_access_integrations=[eai], owner=role,
))
# --- the data the function converts (seed: CREATE OR REPLACE TABLE WEATHER, in 03_rest_service.py) ---
stack.add(Table(
    name="WEATHER", database=db, owner=role,
    columns=[TableColumn(name="DATE", datatype="DATE"), TableColumn(name="LOCATION", datatype="VARCHAR"),
             TableColumn(name="TEMP_C", datatype="NUMBER"), TableColumn(name="TEMP_F", datatype="NUMBER")],
))
stack.add(ServiceFunction(
    name="CONVERT_UDF", database=db, arguments=[FunctionArgument(name="input", datatype="REAL")],
    returns="REAL", service=convert_api, endpoint="convert-api", path="/convert", max_batch_rows=5,
    owner=role,
))
