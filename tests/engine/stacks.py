"""Small stacks for engine tests (no Docker needed: images use a temporary context directory)."""

from __future__ import annotations

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
    Secret,
    Service,
    ServiceFunction,
    ServiceSpec,
    Stack,
    Warehouse,
)


def app_stack(context: Path, *, family: str = "CPU_X64_XS", repo_encryption: str | None = None,
              warehouses: int = 0, comment: str | None = None) -> Stack:
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text("FROM scratch\n")
    s = Stack("app")
    role = s.add(Role(name="APP_ROLE", comment=comment))
    s.add(Grant(to=role, on="ACCOUNT", privileges=["CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT"]))
    db = s.add(Database(name="APP_DB", owner=role))
    rule = s.add(NetworkRule(name="EGRESS_RULE", database=db, type="HOST_PORT", mode="EGRESS",
                             value_list=["example.com:443"]))
    eai = s.add(ExternalAccessIntegration(name="APP_EAI", allowed_network_rules=[rule]))
    s.add(Grant(to=role, on=eai, privileges=["USAGE"]))
    pool = s.add(ComputePool(name="APP_POOL", instance_family=family, owner=role))
    repo = s.add(ImageRepository(name="REPO", database=db, encryption=repo_encryption, owner=role))
    image = s.add(Image(name="api", tag="v1", repository=repo, context=str(context)))
    spec = ServiceSpec.model_validate({
        "spec": {
            "containers": [{"name": "api", "image": image, "env": {"MODE": "prod", "WORKERS": 2}}],
            "endpoints": [{"name": "http", "port": 8080, "public": True}],
        }
    })
    svc = s.add(Service(name="API", database=db, compute_pool=pool, spec=spec, external_access_integrations=[eai],
                        owner=role))
    s.add(ServiceFunction(name="SCORE", database=db, arguments=[FunctionArgument(name="x", datatype="REAL")],
                          returns="REAL", service=svc, endpoint="http", path="/score", owner=role))
    s.add(Secret(name="API_KEY", database=db, type="GENERIC_STRING", secret_string="s3cr3t-value", owner=role))
    for i in range(warehouses):
        s.add(Warehouse(name=f"WH_{i}", auto_suspend=60))
    return s
