"""Generated stacks of any size with a realistic SPCS mix (shared by the benches)."""

from __future__ import annotations

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    Grant,
    ImageRepository,
    NetworkRule,
    Role,
    Schema,
    Service,
    ServiceSpec,
    Stack,
    Stage,
    Warehouse,
)


def generated_stack(n: int, name: str = "bench") -> Stack:
    """About `n` objects: per block of 20 — a schema, 4 stages, a repository, a pool, 4 services,
    2 warehouses, a role with 5 grants, and a network rule + integration every other block."""
    s = Stack(name)
    db = s.add(Database(name="BENCH_DB"))
    owner = s.add(Role(name="BENCH_OWNER"))
    s.add(Grant(to=owner, on="ACCOUNT", privileges=["CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT"]))
    i = 0
    while len(s._added) < n:
        sch = s.add(Schema(name=f"S{i}", database=db, owner=owner))
        for j in range(4):
            s.add(Stage(name=f"STAGE_{j}", database=db, schema=sch, directory_table=j % 2 == 0, owner=owner))
        s.add(ImageRepository(name="REPO", database=db, schema=sch, owner=owner))
        pool = s.add(ComputePool(name=f"POOL_{i}", instance_family="CPU_X64_S", max_nodes=2, owner=owner))
        eais = []
        if i % 2 == 0:
            rule = s.add(NetworkRule(name=f"RULE_{i}", database=db, schema=sch, type="HOST_PORT", mode="EGRESS",
                                     value_list=[f"api{i}.example.com:443"]))
            eais = [s.add(ExternalAccessIntegration(name=f"EAI_{i}", allowed_network_rules=[rule]))]
        for j in range(4):
            spec = ServiceSpec.model_validate({"spec": {
                "containers": [{"name": "main", "image": f"registry.example.com/app{j}:1", "env": {"N": j}}],
                "endpoints": [{"name": "api", "port": 8000 + j}]}})
            s.add(Service(name=f"SVC_{j}", database=db, schema=sch, compute_pool=pool, spec=spec,
                          external_access_integrations=eais, owner=owner))
        for j in range(2):
            s.add(Warehouse(name=f"WH_{i}_{j}", auto_suspend=60 + j))
        role = s.add(Role(name=f"READER_{i}"))
        s.add(Grant(to=role, on=db, privileges=["USAGE"]))
        s.add(Grant(to=role, on=sch, privileges=["USAGE"]))
        s.add(Grant(to=role, on=pool, privileges=["MONITOR"]))
        s.add(Grant(to=role, on=f"BENCH_DB.S{i}.SVC_0", on_type="SERVICE", privileges=["MONITOR", "OPERATE"]))
        s.add(Grant(to=role, on=f"WH_{i}_0", on_type="WAREHOUSE", privileges=["USAGE"]))
        i += 1
    return s
