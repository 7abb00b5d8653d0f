"""Declaration-time and cross-object validation: every message names object, field, given, allowed."""

from __future__ import annotations

import pytest

from spcs_iac import (
    ComputePool,
    Container,
    Endpoint,
    FunctionArgument,
    Grant,
    ImageRepository,
    NetworkRule,
    Role,
    Service,
    ServiceFunction,
    ServiceSpec,
    Stack,
    Warehouse,
)
from spcs_iac.errors import DeclarationError, StackValidationError
from spcs_iac.graph.build import build_graph


def svc(name="S", image="registry.example.com/app:1", pool="P", **spec_extra):
    spec = ServiceSpec(containers=[Container(name="main", image=image)],
                       endpoints=[Endpoint(name="api", port=8080)], **spec_extra)
    return Service(name=name, database="DB", compute_pool=pool, spec=spec)


@pytest.mark.parametrize("build, field, fragment", [
    # An unknown family name passes with a warning (tests/snowflake/test_instance_families.py); a non-name does not.
    (lambda: ComputePool(name="P", instance_family="huge pool!"), "instance_family", "a family name like CPU_X64_XS"),
    (lambda: ComputePool(name="P", instance_family="CPU_X64_XS", min_nodes=3, max_nodes=2), "", "min_nodes (3)"),
    (lambda: ComputePool(name="my pool", instance_family="CPU_X64_XS"), "name", "cannot have a quoted name"),
    (lambda: Warehouse(name="W", warehouse_size="GIGANTIC"), "warehouse_size", "XSMALL"),
    (lambda: NetworkRule(name="R", database="DB", type="HOST_PORT", mode="INGRESS", value_list=["a.com"]), "",
     "allowed: EGRESS"),
    (lambda: Grant(to="R", on="ACCOUNT", privileges=["FLY"]), "", "allowed:"),
    (lambda: Service(name="S", database="DB", compute_pool="P", spec={"spec": {"containers": []}}), "spec",
     "at least one container"),
    (lambda: Service(name="S", database="DB", compute_pool="P", owner="ACCOUNTADMIN",
                     spec={"spec": {"containers": [{"name": "a", "image": "h.io/x:1"}]}}), "owner", "cannot own"),
    (lambda: svc(min_instances=0) if False else Service(name="S", database="DB", compute_pool="P", min_instances=3,
                                                         max_instances=2, spec={"spec": {"containers": [
                                                             {"name": "a", "image": "h.io/x:1"}]}}), "",
     "min_instances (3) <= max_instances (2)"),
])
def test_declaration_errors_name_object_field_and_allowed(build, field, fragment):
    with pytest.raises(DeclarationError) as err:
        build()
    issue = err.value.issues[0]
    assert fragment in str(issue)
    assert issue.field.startswith(field)


def test_spec_rules():
    with pytest.raises(ValueError, match="volumeMount 'data' names no declared volume"):
        ServiceSpec.model_validate({"spec": {"containers": [
            {"name": "a", "image": "h.io/x:1", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]}})
    with pytest.raises(ValueError, match="exactly one of port or portRange"):
        Endpoint(name="e")
    with pytest.raises(ValueError, match="lower-case"):
        Container(name="Main_1", image="h.io/x:1")
    with pytest.raises(ValueError, match="requested and limited with the same count"):
        ServiceSpec.model_validate({"spec": {"containers": [
            {"name": "a", "image": "h.io/x:1", "resources": {"requests": {"nvidia.com/gpu": 1}}}]}})
    with pytest.raises(ValueError, match="unknown field|Extra inputs"):
        ServiceSpec.from_yaml("spec:\n  containers:\n  - name: a\n    image: h.io/x:1\n    imagePullPolicy: x\n")


def test_cross_object_rules():
    s = Stack("v")
    pool = s.add(ComputePool(name="P", instance_family="CPU_X64_XS"))
    gpu_spec = {"spec": {"containers": [{"name": "a", "image": "/db/public/repo/x:1", "resources": {
        "requests": {"nvidia.com/gpu": 2}, "limits": {"nvidia.com/gpu": 2}}}], "endpoints": [
        {"name": "api", "port": 80}, {"name": "raw", "port": 9000, "protocol": "TCP"}]}}
    service = s.add(Service(name="S", database="DB", compute_pool=pool, spec=gpu_spec))
    s.add(ServiceFunction(name="F", database="DB", service=service, endpoint="nope", path="/x", returns="REAL",
                          arguments=[FunctionArgument(name="a", datatype="REAL")]))
    s.add(ServiceFunction(name="G", database="DB", service=service, endpoint="raw", path="/x", returns="REAL"))
    with pytest.raises(StackValidationError) as err:
        s.validate()
    text = str(err.value)
    assert "names no Image or repository declared" in text and "'/db/public/repo/x:1'" in text
    assert "asks for 2 GPU(s) but pool P (CPU_X64_XS) has 0" in text
    assert "has no such endpoint; it has: ['api', 'raw'] (given: 'nope')" in text
    assert "service functions need an HTTP endpoint" in text


def test_an_image_path_into_a_declared_repository_is_an_image_pushed_there():
    """An exported account names its images by path in repositories it declares: valid; any other path is not."""
    s = Stack("v")
    pool = s.add(ComputePool(name="P", instance_family="CPU_X64_XS"))
    s.add(ImageRepository(name="REPO", database="DB"))
    s.add(Service(name="S", database="DB", compute_pool=pool, spec={"spec": {"containers": [
        {"name": "a", "image": "/db/public/repo/x:1@sha256:" + "0" * 64}]}}))
    s.validate()
    s.add(Service(name="T", database="DB", compute_pool=pool, spec={"spec": {"containers": [
        {"name": "a", "image": "/db/public/other/x:1"}]}}))
    with pytest.raises(StackValidationError, match=r"Service DB.PUBLIC.T: spec.containers\[0\].image: names no "
                                                   r"Image or repository declared"):
        s.validate()


def test_duplicate_names_in_one_scope_are_rejected():
    s = Stack("d")
    s.add(Role(name="R"))
    s.add(Role(name="r"))
    with pytest.raises(StackValidationError, match="same name in one scope"):
        s.validate()


def test_dependency_cycles_list_the_cycle():
    s = Stack("c")
    a = Role(name="A")
    b = Role(name="B", owner=a)
    a.owner = b
    s.add(a)
    with pytest.raises(StackValidationError, match=r"dependency cycle: role\.[AB] -> role\.[AB] -> role\.[AB]"):
        build_graph(s)


def test_spec_yaml_round_trip_keeps_meaning():
    text = """
spec:
  containers:
  - name: main
    image: /db/public/repo/app:1
    env: {PORT: 8080, DEBUG: true}
    readinessProbe: {port: 8080, path: /health}
    volumeMounts: [{name: data, mountPath: /data}]
    resources: {requests: {memory: 1Gi, cpu: 0.5, nvidia.com/gpu: 1}, limits: {memory: 2Gi, nvidia.com/gpu: 1}}
    secrets:
    - snowflakeSecret: {objectName: db.s.key}
      envVarName: API_KEY
      secretKeyRef: secret_string
  endpoints:
  - {name: api, port: 8080, public: true, corsSettings: {Access-Control-Allow-Origin: ["https://a.com"]}}
  volumes:
  - {name: data, source: "@volumes/app", uid: 1000, gid: 1000}
  logExporters: {eventTableConfig: {logLevel: ERROR}}
  platformMonitor: {metricConfig: {groups: [system, network]}}
capabilities:
  securityContext: {executeAsCaller: true}
serviceRoles:
- {name: api_users, endpoints: [api]}
"""
    spec = ServiceSpec.from_yaml(text)
    assert spec.containers[0].env == {"PORT": "8080", "DEBUG": "true"}
    again = ServiceSpec.from_yaml(spec.to_yaml())
    assert again.to_document() == spec.to_document()
    doc = spec.to_document()
    assert doc["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert doc["capabilities"] == {"securityContext": {"executeAsCaller": True}}
    assert doc["serviceRoles"] == [{"name": "api_users", "endpoints": ["api"]}]
    assert doc["spec"]["volumes"][0]["source"] == "@volumes/app"


@pytest.mark.parametrize("grants", [
    [("A", "B"), ("B", "A")],
    [("A", "B"), ("B", "C"), ("C", "A")],
    [("A", "A")],
])
def test_a_cycle_of_role_grants_is_refused_before_anything_runs(grants):
    # Snowflake refuses the grant that would close the cycle: found at apply, the others would be half made.
    from spcs_iac import RoleGrant

    s = Stack("cyc")
    roles = {n: s.add(Role(name=n)) for n in sorted({n for pair in grants for n in pair})}
    for role, to in grants:
        s.add(RoleGrant(role=roles[role], to_role=roles[to]))
    with pytest.raises(StackValidationError) as e:
        s.validate()
    text = str(e.value)
    assert "cycle of role grants" in text and "to_role" in text, text
    assert all(n in text for n in roles), text


def test_role_grants_that_only_share_roles_are_no_cycle():
    from spcs_iac import RoleGrant

    s = Stack("diamond")
    a, b, c, d = (s.add(Role(name=n)) for n in "ABCD")
    for role, to in ((a, b), (a, c), (b, d), (c, d)):
        s.add(RoleGrant(role=role, to_role=to))
    s.validate()


@pytest.mark.parametrize("container", ["database", "schema"])
def test_a_service_in_a_declared_container_with_a_quoted_name_is_refused(container: str) -> None:
    """Snowflake supports no quoted names for a service's or repository's database and schema
    (https://docs.snowflake.com/en/sql-reference/sql/create-service, .../create-image-repository). Given as a
    name, the rule held; given as the declared Database or Schema, it did not, and locally `"dev"` and `DEV`
    then shared one endpoint proxy name and DNS alias."""
    from spcs_iac import ComputePool, Database, ImageRepository, Schema, Service

    stack = Stack("quoted-containers")
    db = stack.add(Database(name='"dev"' if container == "database" else "DEV"))
    schema = stack.add(Schema(name='"apps"' if container == "schema" else "APPS", database=db))
    pool = stack.add(ComputePool(name="P", instance_family="CPU_X64_XS"))
    spec = {"spec": {"containers": [{"name": "m", "image": "registry.example.com/a:1"}]}}
    given = '"dev"' if container == "database" else '"apps"'
    with pytest.raises(DeclarationError) as refused:
        Service(name="API", database=db, schema=schema, compute_pool=pool, spec=spec)
    assert (f"{container}: {container} name {given!r} needs quoting, which Snowflake does not support for this "
            "object") in str(refused.value)
    with pytest.raises(DeclarationError, match="needs quoting"):
        ImageRepository(name="REPO", database=db, schema=schema)
    # Objects that may have quoted names may live there.
    from spcs_iac import Stage

    assert Stage(name="FILES", database=db, schema=schema).fqn.endswith(".FILES")
