"""Role barriers in the dependency graph: the grants a role needs come before what the role creates; a
grant on something built from the role's own objects comes after them, and before the role's objects
that use it."""

from __future__ import annotations

from pathlib import Path

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    Grant,
    NetworkRule,
    Role,
    Service,
    ServiceSpec,
    Stack,
)
from spcs_iac.graph.build import BARRIER, build_graph
from tests.engine.stacks import app_stack

SPEC = {"spec": {"containers": [{"name": "main", "image": "registry.example.com/app:1"}]}}


def test_the_grants_a_role_needs_come_before_everything_it_creates(tmp_path: Path) -> None:
    g = build_graph(app_stack(tmp_path))
    barrier = BARRIER + "APP_ROLE"
    assert list(g.predecessors(barrier)) == ["grant.APP_ROLE:ACCOUNT"]
    assert list(g.successors(barrier)) == [  # in the order they were declared
        "database.APP_DB", "compute_pool.APP_POOL", "image_repository.APP_DB.PUBLIC.REPO",
        "service.APP_DB.PUBLIC.API", "service_function.APP_DB.PUBLIC.SCORE(FLOAT)", "secret.APP_DB.PUBLIC.API_KEY"]


def test_a_grant_on_what_the_role_built_goes_to_the_roles_objects_that_use_it() -> None:
    s = Stack("after")
    app, other = s.add(Role(name="APP")), s.add(Role(name="OTHER"))
    s.add(Grant(to=app, on="ACCOUNT", privileges=["CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT"]))
    db = s.add(Database(name="DB", owner=app))
    rule = NetworkRule(name="EGRESS", database=db, type="HOST_PORT", mode="EGRESS", value_list=["example.com:443"])
    eai = s.add(ExternalAccessIntegration(name="EAI", allowed_network_rules=[rule]))
    pool = s.add(ComputePool(name="POOL", instance_family="CPU_X64_XS", max_nodes=1, owner=app))

    def service(name: str, owner: Role, uses_eai: bool) -> Service:
        return s.add(Service(name=name, database=db, compute_pool=pool, spec=ServiceSpec.model_validate(SPEC),
                             external_access_integrations=[eai] if uses_eai else [], owner=owner))

    late, theirs, early, offline = (service("LATE", app, True), service("THEIRS", other, True),
                                    service("EARLY", app, True), service("OFFLINE", app, False))
    grant = s.add(Grant(to=app, on=eai, privileges=["USAGE"]))
    g = build_graph(s)
    # The rule lives in the role's database, so the grant cannot come first: no edge to the barrier.
    assert list(g.predecessors(BARRIER + "APP")) == ["grant.APP:ACCOUNT"]
    assert list(g.successors(grant.address)) == [late.address, early.address]  # declaration order
    assert not g.has_edge(grant.address, theirs.address) and not g.has_edge(grant.address, offline.address)
