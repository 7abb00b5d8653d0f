"""Helpers for the Snowflake-target tests: a fake Docker, stacks covering every kind, a big generated stack."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    FunctionArgument,
    Grant,
    Image,
    ImageRepository,
    JobService,
    NetworkRule,
    Role,
    RoleGrant,
    Schema,
    Secret,
    Service,
    ServiceFunction,
    ServiceRoleGrant,
    ServiceSpec,
    Stack,
    Stage,
    Table,
    TableColumn,
    Warehouse,
)
from spcs_iac.targets.images import RegistryUnreachable

OWNER = "APP_ROLE"


class FakeImages:
    """An ImageTool that 'pushes' into the emulator's image list instead of running Docker.

    The registry of the emulator's account host cannot be reached, so reads fall back to
    ``SHOW IMAGES IN IMAGE REPOSITORY`` as they would when a registry is unreachable.
    """

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.pushed: list[str] = []
        self.generation = 0

    def build_and_push(self, image: Any, ref: str, auth: Any, log: Any) -> str:
        digest = "sha256:" + hashlib.sha256(f"{ref}|{image.build_inputs_hash()}|{self.generation}".encode()).hexdigest()
        images = self.emulator.images.setdefault(tuple(image.repository_fqn.split(".")), [])
        images[:] = [i for i in images if not (i["image"] == image.name and i["tag"] == image.tag)]
        self.emulator.add_image(image.repository_fqn, image.name, image.tag, digest)
        self.pushed.append(ref)
        return digest

    def remote_digest(self, ref: str, auth: Any) -> str | None:
        raise RegistryUnreachable("fake registry: use SHOW IMAGES")


def spec(image: Any, *, port: int = 8080, env: dict[str, str] | None = None, public: bool = False) -> ServiceSpec:
    return ServiceSpec.model_validate({
        "spec": {
            "containers": [{"name": "main", "image": image, **({"env": env} if env else {})}],
            "endpoints": [{"name": "api", "port": port, "public": public}],
        }
    })


def every_kind(context: Path, *, comment: str = "first", size: str = "XSMALL", family: str = "CPU_X64_XS",
               privileges: tuple[str, ...] = ("USAGE", "MONITOR"), secret: str = "s3cr3t",
               env: str = "one", max_batch_rows: int = 10, endpoint_port: int = 8080, prefix: str = "",
               admin: str = "ACCOUNTADMIN", spcs: bool = True) -> Stack:
    """One object of every kind, wired the way an SPCS deployment needs them.

    ``prefix`` keeps names apart on a shared account; ``spcs=False`` leaves out what costs credits
    (pool, image, services, job, function).
    """
    stack = Stack(f"{prefix.lower()}everykind")
    role = stack.add(Role(name=f"{prefix}{OWNER}", comment=comment, owner=admin))
    stack.add(RoleGrant(role=role, to_role=admin, owner=admin))
    stack.add(Grant(to=role, on="ACCOUNT", owner=admin, privileges=[
        "CREATE DATABASE", "CREATE WAREHOUSE", "CREATE COMPUTE POOL", "CREATE INTEGRATION", "BIND SERVICE ENDPOINT"]))
    wh = stack.add(Warehouse(name=f"{prefix}APP_WH", warehouse_size=size, auto_suspend=120, comment=comment,
                             initially_suspended=True, owner=role))
    db = stack.add(Database(name=f"{prefix}APP_DB", comment=comment, owner=role))
    stack.add(Schema(name="APP_SCHEMA", database=db, comment=comment, owner=role))
    stack.add(Stage(name="SPECS", database=db, encryption="SNOWFLAKE_SSE", directory_table=True, owner=role))
    sec = stack.add(Secret(name="API_KEY", database=db, type="GENERIC_STRING", secret_string=secret,
                           comment=comment, owner=role))
    stack.add(Secret(name="LOGIN", database=db, type="PASSWORD", username="svc", password=secret, owner=role))
    rule = stack.add(NetworkRule(name="EGRESS_RULE", database=db, type="HOST_PORT", mode="EGRESS",
                                 value_list=["example.com:443", "api.example.com"], owner=role))
    eai = stack.add(ExternalAccessIntegration(name=f"{prefix}APP_EAI", allowed_network_rules=[rule],
                                              allowed_authentication_secrets=[sec], comment=comment, owner=admin))
    stack.add(Grant(to=role, on=eai, privileges=["USAGE"], owner=admin))
    repo = stack.add(ImageRepository(name="REPO", database=db, comment=comment, owner=role))
    stack.add(Table(name="EVENTS", database=db, columns=[TableColumn(name="ID", datatype="NUMBER")], comment=comment,
                    owner=role))
    if not spcs:
        return stack
    pool = stack.add(ComputePool(name=f"{prefix}APP_POOL", instance_family=family, min_nodes=1, max_nodes=2,
                                 auto_suspend_secs=600, comment=comment, owner=role))
    stack.add(Grant(to="PUBLIC", on=pool, privileges=list(privileges), owner=role))
    image = stack.add(Image(name="app", tag="v1", repository=repo, context=str(context)))
    svc = stack.add(Service(name="APP_SVC", database=db, compute_pool=pool, spec=spec(image, env={"MODE": env},
                                                                                       port=endpoint_port),
                            external_access_integrations=[eai], query_warehouse=wh, min_instances=1,
                            max_instances=2, comment=comment, owner=role))
    stack.add(JobService(name="APP_JOB", database=db, compute_pool=pool, spec=spec(image), comment=comment,
                         owner=role))
    stack.add(ServiceFunction(name="APP_FN", database=db, arguments=[FunctionArgument(name="x", datatype="VARCHAR")],
                              returns="VARCHAR", service=svc, endpoint="api", path="/echo",
                              max_batch_rows=max_batch_rows, comment=comment, owner=role))
    stack.add(ServiceRoleGrant(service=svc, service_role="ALL_ENDPOINTS_USAGE", to_role="PUBLIC"))
    return stack


def generated(n: int, context: Path) -> Stack:
    """About ``n`` objects of the common kinds, with few roles (so grants read with few queries)."""
    stack = Stack("generated")
    admin = "ACCOUNTADMIN"
    roles = [stack.add(Role(name=f"GEN_ROLE_{i}", owner=admin)) for i in range(4)]
    for r in roles:
        stack.add(RoleGrant(role=r, to_role="SYSADMIN", owner=admin))
        stack.add(Grant(to=r, on="ACCOUNT", privileges=["CREATE DATABASE", "CREATE WAREHOUSE"], owner=admin))
    count = len(stack)
    i = 0
    while count < n:
        owner = roles[i % len(roles)]
        db = stack.add(Database(name=f"GEN_DB_{i}", comment=f"db {i}", owner=owner))
        stack.add(Grant(to=roles[(i + 1) % len(roles)], on=db, privileges=["USAGE"], owner=owner))
        for j in range(8):
            stack.add(Schema(name=f"S{j}", database=db, owner=owner))
        for j in range(8):
            stack.add(Stage(name=f"STAGE_{j}", database=db, owner=owner))
        for j in range(4):
            stack.add(Secret(name=f"SECRET_{j}", database=db, type="GENERIC_STRING", secret_string=f"v{i}-{j}",
                             owner=owner))
        stack.add(Warehouse(name=f"GEN_WH_{i}", auto_suspend=60 + i, owner=owner))
        stack.add(ImageRepository(name="REPO", database=db, owner=owner))
        i += 1
        count = len(stack)
    return stack
