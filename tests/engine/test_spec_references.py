"""A spec field naming a secret or a stage takes the declared object, as ``image`` takes an Image: the spec
says the object's qualified name (as if the user had written it), and the object is a dependency of the
service, for the graph and the validator alike. A name denoting a declared object is linked to it the same way."""

from __future__ import annotations

from typing import Any

import pytest

from spcs_iac import (
    ComputePool,
    Container,
    Database,
    JobService,
    Schema,
    Secret,
    Service,
    ServiceSpec,
    Stack,
    Stage,
)
from spcs_iac.errors import DeclarationError
from spcs_iac.graph.build import build_graph
from spcs_iac.model.spec import ContainerSecret, StageConfig, Volume
from spcs_iac.model.validate import named_references

IMAGE = "registry.example.com/app:1"


def objects() -> tuple[Database, ComputePool, Secret, Stage]:
    db = Database(name="APP_DB")
    schema = Schema(name="FILES", database=db)
    pool = ComputePool(name="POOL", instance_family="CPU_X64_XS")
    secret = Secret(name="AUD_SECRET", database=db, type="GENERIC_STRING", secret_string="s3cr3t")
    stage = Stage(name="VOL", database=db, schema=schema)
    return db, pool, secret, stage


def spec(secret: Any, source: Any, config: Any = None) -> ServiceSpec:
    volumes = [Volume(name="data", source=source) if not isinstance(source, dict) else Volume(name="data", **source)]
    if config is not None:
        volumes.append(Volume(name="more", source="stage", stage_config=StageConfig(name=config)))
    return ServiceSpec(
        containers=[Container(name="main", image=IMAGE, volume_mounts=[{"name": "data", "mountPath": "/data"}],
                              secrets=[ContainerSecret(snowflake_secret=secret, env_var_name="TOKEN",
                                                       secret_key_ref="secret_string")])],
        volumes=volumes)


def service(kind: type, db: Database, pool: ComputePool, s: ServiceSpec) -> Any:
    return kind(name="API", database=db, compute_pool=pool, spec=s)


def test_a_declared_secret_or_stage_renders_as_its_qualified_name() -> None:
    db, pool, secret, stage = objects()
    from_objects = service(Service, db, pool, spec(secret, stage, stage))
    # A Stage as a volume's source mounts it the current way: source "stage" and stageConfig.name (the
    # "@stage" source is the deprecated stage mount).
    current = {"source": "stage", "stage_config": StageConfig(name="@APP_DB.FILES.VOL")}
    from_names = service(Service, db, pool, spec("APP_DB.PUBLIC.AUD_SECRET", current, "@APP_DB.FILES.VOL"))
    assert from_objects.spec_document() == from_names.spec_document()
    assert from_objects.spec_fingerprint() == from_names.spec_fingerprint()
    document = from_objects.spec_document()["spec"]
    assert document["containers"][0]["secrets"][0]["snowflakeSecret"] == "APP_DB.PUBLIC.AUD_SECRET"
    assert [v.get("source") for v in document["volumes"]] == ["stage", "stage"]
    assert document["volumes"][0]["stageConfig"] == document["volumes"][1]["stageConfig"] == {
        "name": "@APP_DB.FILES.VOL"}
    # A name needing quotes is written quoted, as the user would have to write it.
    quoted = Secret(name='"api key"', database=db, type="GENERIC_STRING", secret_string="x")
    assert ContainerSecret(snowflake_secret=quoted, directory_path="/s").dump()["snowflakeSecret"] \
        == 'APP_DB.PUBLIC."api key"'


@pytest.mark.parametrize("kind", [Service, JobService])
@pytest.mark.parametrize("by", ["object", "name"])
def test_the_secret_and_the_stage_come_before_the_service(kind: type, by: str) -> None:
    db, pool, secret, stage = objects()
    stack = Stack("refs")
    if by == "name":  # declared, and named in the spec as a user of a YAML spec would
        stack.extend([secret, stage])
        s = spec("AUD_SECRET", "@APP_DB.FILES.VOL/sub", "@APP_DB.FILES.VOL")
    else:  # only the service is added: the objects come with it, as an Image does
        s = spec(secret, stage, stage)
    svc = stack.add(service(kind, db, pool, s))
    graph = build_graph(stack)
    for dependency in (secret, stage):
        assert graph.has_edge(dependency.address, svc.address), dependency.address
        assert graph.edges[dependency.address, svc.address]["fields"][0] == "spec"
    assert named_references(stack.resources().values()) == []
    stack.validate()


def test_the_validator_sees_a_declared_object_as_it_sees_its_name() -> None:
    """Given only the service, the secret and the stage it uses are named the same whichever form it uses."""
    db, pool, secret, stage = objects()
    by_object = service(Service, db, pool, spec(secret, stage, stage))
    current = {"source": "stage", "stage_config": StageConfig(name="@APP_DB.FILES.VOL")}
    by_name = service(Service, db, pool, spec("APP_DB.PUBLIC.AUD_SECRET", current, "@APP_DB.FILES.VOL"))

    def seen(svc: Service) -> list[tuple[str, str, str]]:
        return [(r.field, r.kind, r.name) for r in named_references([svc])]

    assert seen(by_object) == seen(by_name) == [
        ("spec.containers[0].secrets[0].snowflakeSecret", "secret", "APP_DB.PUBLIC.AUD_SECRET"),
        ("spec.volumes[0].stageConfig.name", "stage", "APP_DB.FILES.VOL"),
        ("spec.volumes[1].stageConfig.name", "stage", "APP_DB.FILES.VOL"),
    ]
    assert {t.address for _f, _k, t in by_object.references() if not isinstance(t, str)} >= {
        secret.address, stage.address}


def test_a_plan_read_back_names_the_same_objects() -> None:
    """A saved plan carries a declaration as data: the object becomes its name, which links to it again."""
    from spcs_iac.model.declaration import declaration, rebuild
    from spcs_iac.model.kinds import KINDS

    db, pool, secret, stage = objects()
    svc = service(Service, db, pool, spec(secret, stage, stage))
    items = [(r.kind, declaration(r)) for r in (db, pool, secret, stage, stage.schema_, svc)]
    again = rebuild(items, KINDS)[svc.address]
    assert again.spec_document() == svc.spec_document()
    linked = {t.address for _f, _k, t in again.references() if not isinstance(t, str)}
    assert {secret.address, stage.address} <= linked


@pytest.mark.parametrize("build, field, fragment", [
    (lambda secret, stage: ContainerSecret(snowflake_secret=stage, directory_path="/s"), "snowflake_secret",
     "snowflakeSecret must be a Secret, a secret name or {objectName: <name>}, got a Stage APP_DB.FILES.VOL"),
    (lambda secret, stage: ContainerSecret(snowflake_secret=42, directory_path="/s"), "snowflake_secret",
     "snowflakeSecret must be a Secret, a secret name or {objectName: <name>}, got 42"),
    (lambda secret, stage: Volume(name="v", source=secret), "source",
     "source must be a Stage, local, memory, block, stage or \"@<stage>\", got a Secret APP_DB.PUBLIC.AUD_SECRET"),
    (lambda secret, stage: StageConfig(name=secret), "name",
     "stageConfig.name must be a Stage or \"@<stage>[/path]\", got a Secret APP_DB.PUBLIC.AUD_SECRET"),
])
def test_a_wrong_object_is_refused_naming_the_field_and_what_is_allowed(build: Any, field: str,
                                                                         fragment: str) -> None:
    _db, _pool, secret, stage = objects()
    with pytest.raises(ValueError) as refused:
        build(secret, stage)
    errors = refused.value.errors()  # type: ignore[attr-defined]
    assert len(errors) == 1, errors  # one message, not one per member of a union
    assert errors[0]["loc"] == (field,)
    assert fragment in errors[0]["msg"]


def test_a_wrong_object_in_a_service_spec_is_one_clear_issue() -> None:
    db, pool, secret, stage = objects()
    bad = {"containers": [{"name": "main", "image": IMAGE, "secrets": [
        {"snowflakeSecret": stage, "envVarName": "T", "secretKeyRef": "secret_string"}]}]}
    with pytest.raises(DeclarationError) as refused:
        Service(name="API", database=db, compute_pool=pool, spec=bad)
    [issue] = refused.value.issues
    assert issue.obj == "Service 'API'"
    assert issue.field == "spec.containers[main].secrets[0].snowflakeSecret"
    assert "must be a Secret, a secret name or {objectName: <name>}, got a Stage APP_DB.FILES.VOL" in issue.message
