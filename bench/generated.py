"""Generated stacks of any size with a realistic SPCS mix (shared by the benches).

What grows with size: schemas, stages, repositories, pools, services, warehouses and grants. What does
not: roles, network rules, integrations and service functions stay at a handful each (``fixed``), as in
real deployments — they are the kinds read one query per object (SHOW GRANTS TO ROLE, DESCRIBE).
``fixed=None`` scales them too, the worst case.
"""

from __future__ import annotations

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    FunctionArgument,
    Grant,
    ImageRepository,
    NetworkRule,
    Role,
    RoleGrant,
    Schema,
    Service,
    ServiceFunction,
    ServiceSpec,
    Stack,
    Stage,
    Warehouse,
)


def generated_stack(n: int, name: str = "bench", fixed: int | None = 5) -> Stack:
    s = Stack(name)
    owner = s.add(Role(name="BENCH_OWNER"))
    s.add(RoleGrant(role=owner, to_role="ACCOUNTADMIN"))  # the connecting user may then USE ROLE BENCH_OWNER
    s.add(Grant(to=owner, on="ACCOUNT", privileges=["CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT",
                                                    "CREATE DATABASE"]))
    db = s.add(Database(name="BENCH_DB", owner=owner))  # its schemas are the owner's: it creates them
    readers: list[Role] = []
    eais: list[ExternalAccessIntegration] = []
    functions = 0
    i = 0
    while len(s._added) < n:
        sch = s.add(Schema(name=f"S{i}", database=db, owner=owner))
        for j in range(4):
            s.add(Stage(name=f"STAGE_{j}", database=db, schema=sch, directory_table=j % 2 == 0, owner=owner))
        s.add(ImageRepository(name="REPO", database=db, schema=sch, owner=owner))
        pool = s.add(ComputePool(name=f"POOL_{i}", instance_family="CPU_X64_S", max_nodes=2, owner=owner))
        if fixed is None or len(eais) < fixed:
            rule = s.add(NetworkRule(name=f"RULE_{i}", database=db, schema=sch, type="HOST_PORT", mode="EGRESS",
                                     value_list=[f"api{i}.example.com:443"]))
            eais.append(s.add(ExternalAccessIntegration(name=f"EAI_{i}", allowed_network_rules=[rule])))
            s.add(Grant(to=owner, on=eais[-1], privileges=["USAGE"]))  # the services' owner uses it
        services = []
        for j in range(4):
            spec = ServiceSpec.model_validate({"spec": {
                "containers": [{"name": "main", "image": f"registry.example.com/app{j}:1", "env": {"N": j}}],
                "endpoints": [{"name": "api", "port": 8000 + j}]}})
            services.append(s.add(Service(name=f"SVC_{j}", database=db, schema=sch, compute_pool=pool, spec=spec,
                                          external_access_integrations=[eais[i % len(eais)]], owner=owner)))
        if fixed is None or functions < fixed * 2:
            s.add(ServiceFunction(name="SCORE", database=db, schema=sch, service=services[0], endpoint="api",
                                  path="/score", returns="FLOAT", arguments=[FunctionArgument(name="x",
                                                                                              datatype="FLOAT")],
                                  owner=owner))
            functions += 1
        for j in range(2):
            s.add(Warehouse(name=f"WH_{i}_{j}", auto_suspend=60 + j))
        if fixed is None or len(readers) < fixed:
            readers.append(s.add(Role(name=f"READER_{i}")))
        role = readers[i % len(readers)]
        s.add(Grant(to=role, on=sch, privileges=["USAGE"]))
        s.add(Grant(to=role, on=pool, privileges=["MONITOR"]))
        s.add(Grant(to=role, on=services[0], privileges=["MONITOR", "OPERATE"]))
        s.add(Grant(to=role, on=f"WH_{i}_0", on_type="WAREHOUSE", privileges=["USAGE"]))
        i += 1
    for role in readers:
        s.add(Grant(to=role, on=db, privileges=["USAGE"]))
    return s
