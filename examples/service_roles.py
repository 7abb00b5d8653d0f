"""Let another role reach a service's endpoint: a service role declared in the spec, granted with
``ServiceRoleGrant`` (``GRANT SERVICE ROLE <service>!<role> TO ROLE ...``).

Only the service's owner may grant its roles, so the grant runs as that role. Callers also need USAGE on
the service's database and schema. ``spcs-iac plan examples/service_roles.py --target snowflake
--assume-empty`` shows the statements.
"""

import os
from pathlib import Path

from spcs_iac import (
    ComputePool,
    Database,
    Grant,
    Image,
    ImageRepository,
    Role,
    RoleGrant,
    Schema,
    Service,
    ServiceRoleGrant,
    ServiceSpec,
    Stack,
)

EXAMPLES = Path(__file__).resolve().parent
BUILD_ARGS = {"BASE_IMAGE": os.environ["SPCS_IAC_BASE_IMAGE"]} if os.environ.get("SPCS_IAC_BASE_IMAGE") else {}
ADMIN = "ACCOUNTADMIN"

stack = Stack("service-roles")
owner = stack.add(Role(name="CONVERT_OWNER", owner=ADMIN))
stack.add(RoleGrant(role=owner, to_role=ADMIN, owner=ADMIN))
stack.add(Grant(to=owner, on="ACCOUNT", privileges=["CREATE DATABASE", "CREATE COMPUTE POOL"], owner=ADMIN))
analysts = stack.add(Role(name="ANALYSTS", owner=ADMIN))
stack.add(RoleGrant(role=analysts, to_role=ADMIN, owner=ADMIN))

db = stack.add(Database(name="CONVERT_DB", owner=owner))
stack.add(Grant(to=analysts, on=db, privileges=["USAGE"], owner=owner))
public = stack.add(Schema(name="PUBLIC", database=db, owner=owner))  # adopts the database's PUBLIC schema
stack.add(Grant(to=analysts, on=public, privileges=["USAGE"], owner=owner))
pool = stack.add(ComputePool(name="CONVERT_POOL", instance_family="CPU_X64_XS", owner=owner))
repo = stack.add(ImageRepository(name="IMAGES", database=db, owner=owner))
image = stack.add(Image(name="convert-api", tag="dev", repository=repo, context=str(EXAMPLES / "convert-api"),
                        build_args=BUILD_ARGS))
service = stack.add(Service(name="CONVERT_API", database=db, compute_pool=pool, owner=owner,
                            spec=ServiceSpec.model_validate({
                                "spec": {
                                    "containers": [{"name": "convert-api", "image": image}],
                                    "endpoints": [{"name": "convert-api", "port": 9090}],
                                },
                                # Who may call which endpoints; granted to account roles below.
                                "serviceRoles": [{"name": "converter_users", "endpoints": ["convert-api"]}],
                            })))
stack.add(ServiceRoleGrant(service=service, service_role="CONVERTER_USERS", to_role=analysts))
