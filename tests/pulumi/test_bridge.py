"""The provider's operations without the Pulumi CLI: wire format, check, diff, read (refresh) and the
generated resource classes."""

from __future__ import annotations

import hashlib
from typing import Any

from spcs_iac.drivers.pulumi import bridge
from spcs_iac.drivers.pulumi.lookup import objects
from spcs_iac.drivers.pulumi.resources import CLASSES
from spcs_iac.drivers.pulumi.wire import UNKNOWN, Sealed, decode, encode, reveal
from spcs_iac.model.digests import forget_digests, secret_matches
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.target import Observed, Provider, ReadRequest

SERVICE = {"name": "S", "database": "D", "compute_pool": "P", "spec": {
    "containers": [{"name": "c", "image": "/d/public/r/app:v1@sha256:" + "1" * 64, "env": {"A": "1"}}]}}
JOB = {**SERVICE, "name": "J"}


class FakeTarget(Provider):
    target = "fake"

    def __init__(self, found: dict[str, Observed]) -> None:
        self.found = found
        self.created: list[str] = []

    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        return {r.address: self.found[r.address] for r in requests if r.address in self.found}

    def create(self, change: Any, ctx: Any) -> dict[str, Any]:
        self.created.append(change.address)
        return {"status": "DONE"} if change.kind == "job_service" else {}

    update = create

    def delete(self, change: Any, ctx: Any) -> None:
        pass


def applied(kind: str, inputs: dict[str, Any], target: FakeTarget | None = None) -> dict[str, Any]:
    op = bridge.Operation(target or FakeTarget({}), "st", lambda _line: None, {"target": "fake", "stack": "st"})
    return bridge.create(op, kind, inputs)


def test_the_wire_keeps_secrets_unknowns_and_integers() -> None:
    values = {"a": 1, "b": Sealed("s3cret"), "c": [UNKNOWN, {"d": Sealed({"e": 2})}], "f": None}
    back = decode(encode(values))
    assert back == values and isinstance(back["a"], int)
    assert reveal(back) == {"a": 1, "b": "s3cret", "c": [UNKNOWN, {"d": {"e": 2}}], "f": None}
    assert "s3cret" not in repr(back)


def test_every_kind_has_a_generated_resource_class() -> None:
    assert {cls.__name__ for cls in CLASSES.values()} == {cls.__name__ for cls in KINDS.values()}
    for kind, cls in CLASSES.items():
        assert bridge.kind_of(f"spcs-iac:index:{cls.__name__}") == kind


def test_check_reports_one_line_per_problem_and_accepts_repository_paths() -> None:
    bad = bridge.check("network_rule", {"name": "R", "database": "D", "type": "BOGUS", "value_list": ["x"]})
    assert bad.problems == ["NetworkRule 'R': type: Input should be 'IPV4', 'IPV6', 'AWSVPCEID', 'AZURELINKID', "
                            "'GCPPSCID', 'HOST_PORT', 'PRIVATE_HOST_PORT' or 'COMPUTE_POOL' (given: 'BOGUS')"]
    good = bridge.check("service", SERVICE)
    assert good.problems == [] and good.inputs["spec"]["containers"][0]["image"].startswith("/d/public/r/app:v1@")
    assert bridge.check("service", {**SERVICE, "spec": UNKNOWN}).problems == []  # checked when known


def test_diff_is_the_planners() -> None:
    olds = applied("service", SERVICE)
    assert not bridge.compare("service", olds, SERVICE).changed
    changed = {**SERVICE, "spec": {"containers": [{**SERVICE["spec"]["containers"][0], "env": {"A": "2"}}]}}
    verdict = bridge.compare("service", olds, changed)
    assert [f.name for f in verdict.fields] == ["spec"] and not verdict.replaces
    assert verdict.lines == ["spec.containers[0].env.A: '1' -> '2'"]
    assert verdict.detailed == {"spec.containers[0].env.A": ("update", False)}
    # A rebuilt image: its digest is unknown in the preview; the service updates, a job is replaced.
    rebuilt = {**SERVICE, "spec": {"containers": [{**SERVICE["spec"]["containers"][0], "image": UNKNOWN}]}}
    [spec] = bridge.compare("service", olds, rebuilt).fields
    assert spec.known_after_apply and not spec.forces_replace
    job = bridge.compare("job_service", applied("job_service", JOB), {**rebuilt, "name": "J"})
    assert job.replaces == ["spec"]
    # Another name is another object.
    assert bridge.compare("service", olds, {**SERVICE, "name": "T"}).replaces == ["name"]


def test_a_secret_value_change_is_an_update_and_its_value_stays_sealed() -> None:
    inputs = {"name": "K", "database": "D", "type": "GENERIC_STRING", "secret_string": Sealed("s3cr3t-one")}
    olds = applied("secret", inputs)
    assert isinstance(olds["secret_string"], Sealed) and isinstance(olds[bridge.DESIRED], Sealed)
    assert "s3cr3t-one" not in repr(olds)
    [f] = bridge.compare("secret", olds, {**inputs, "secret_string": Sealed("s3cr3t-two")}).fields
    assert f.name == "secret_string" and f.sensitive and not f.forces_replace


def test_an_unchanged_secret_keeps_its_digest_in_pulumis_state_and_no_plain_value_is_kept() -> None:
    inputs = {"name": "K", "database": "D", "type": "GENERIC_STRING", "secret_string": Sealed("s3cr3t-one"),
              "comment": "a"}
    olds = applied("secret", inputs)
    digest = reveal(olds[bridge.DESIRED])["secret_string"]
    assert digest.startswith("scrypt:") and secret_matches(digest, "s3cr3t-one")
    forget_digests()  # Pulumi starts the provider again for the next preview
    assert not bridge.compare("secret", olds, inputs).changed
    op = bridge.Operation(FakeTarget({}), "st", lambda _line: None)
    state = bridge.update(op, "secret", olds, {**inputs, "comment": "b"})
    assert reveal(state[bridge.DESIRED])["secret_string"] == digest  # written again, same digest
    plain = [v for k, v in state.items() if k != "secret_string" and not isinstance(v, Sealed)]
    assert "s3cr3t-one" not in repr(plain) and isinstance(state["secret_string"], Sealed)
    # A digest an earlier version kept still verifies, and the next write replaces it.
    legacy = "sha256:" + hashlib.sha256(b"secret.D.PUBLIC.K\x00s3cr3t-one").hexdigest()
    old = {**state, bridge.DESIRED: Sealed({**reveal(state[bridge.DESIRED]), "secret_string": legacy})}
    forget_digests()
    assert not bridge.compare("secret", old, {**inputs, "comment": "b"}).changed
    renewed = reveal(bridge.update(op, "secret", old, inputs)[bridge.DESIRED])["secret_string"]
    assert renewed.startswith("scrypt:") and secret_matches(renewed, "s3cr3t-one")


def test_refresh_of_unchanged_objects_changes_nothing_and_drift_is_what_the_planner_sees() -> None:
    olds = applied("service", SERVICE)
    address = olds["address"]
    desired = reveal(olds[bridge.DESIRED])
    op = bridge.Operation(FakeTarget({address: Observed(dict(desired), {})}), "st", lambda _l: None)
    state, inputs = bridge.read(op, "service", olds, None)  # type: ignore[misc]
    assert state == olds and not bridge.compare("service", state, inputs).changed

    drifted = {**desired, "spec": "drifted: instance 0: containers missing"}
    op = bridge.Operation(FakeTarget({address: Observed(drifted, {})}), "st", lambda _l: None)
    state, inputs = bridge.read(op, "service", olds, None)  # type: ignore[misc]
    assert state[bridge.OBSERVED] == {"props": {"spec": drifted["spec"]}, "outputs": {}}
    verdict = bridge.compare("service", state, inputs)
    assert [f.name for f in verdict.fields] == ["spec"] and bridge.OBSERVED in verdict.detailed

    gone = bridge.Operation(FakeTarget({}), "st", lambda _l: None)
    assert bridge.read(gone, "service", olds, None) is None
    # A job that finished is history: its containers going away does not make it run again.
    job = applied("job_service", JOB)
    assert bridge.read(gone, "job_service", job, None) == (job, bridge._old_inputs(job, None))


def test_pulumi_stack_lookup_reads_the_exported_state() -> None:
    olds = applied("service", SERVICE)
    res = {"urn": "urn:pulumi:dev::proj::spcs-iac:index:Service::svc", "type": "spcs-iac:index:Service",
           "outputs": {k: reveal(v) for k, v in olds.items()}}
    [found] = objects({"deployment": {"resources": [res, {"type": "pulumi:pulumi:Stack"}]}})
    assert (found.stack, found.address, found.entry.kind, found.entry.name) == (
        "st", "service.D.PUBLIC.S", "service", "D.PUBLIC.S")


def test_a_spec_waiting_for_a_rebuilt_image_leaves_the_services_identity_known_in_a_preview() -> None:
    # Only the image reference is unknown (the image is being rebuilt): the service's address, name and
    # reference stay known, so a function calling it is not shown as changing; an unknown name still is.
    spec = {"spec": {"containers": [{"name": "main", "image": UNKNOWN}], "endpoints": [{"name": "api", "port": 80}]}}
    inputs = {"name": "API", "database": "DB", "compute_pool": "POOL", "spec": spec}
    state = bridge.preview_state("service", inputs)
    assert (state["address"], state["fqn"], state["ref"]) == ("service.DB.PUBLIC.API", "DB.PUBLIC.API",
                                                              "DB.PUBLIC.API")
    assert state["spec"] is spec  # what the engine shows is what it gave: still unknown inside
    unknown_name = bridge.preview_state("service", {**inputs, "name": UNKNOWN})
    assert unknown_name["address"] is UNKNOWN and unknown_name["ref"] is UNKNOWN


def test_pulumi_import_says_it_is_not_supported_and_what_to_do_instead() -> None:
    # `pulumi import` reads an object by its id alone: before, the message was "name: required field is missing".
    try:
        bridge.read(None, "compute_pool", {}, None)  # type: ignore[arg-type]
    except bridge.BadInputs as exc:
        text = str(exc)
    else:
        raise AssertionError("a read with nothing known of the object succeeded")
    assert "pulumi import is not supported" in text and "spcs-iac apply --adopt" in text, text
    assert "required field" not in text


def test_a_diff_names_the_inputs_a_change_comes_from(tmp_path: Any) -> None:
    # A replace forced by another repository names "repository", not "name"; an image whose context files
    # changed names "context", not its build hash (which is no input).
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    image = {"name": "app", "tag": "v1", "repository": "D.PUBLIC.R", "context": str(tmp_path)}
    olds = applied("image", image)
    moved = bridge.compare("image", olds, {**image, "repository": "D.PUBLIC.OTHER"})
    assert moved.replaces == ["repository"] and "repository" in moved.detailed and "name" not in moved.detailed
    (tmp_path / "app.py").write_text("print(2)\n")
    rebuilt = bridge.compare("image", olds, image)
    assert rebuilt.changed and set(rebuilt.detailed) == {"context"}, rebuilt.detailed
