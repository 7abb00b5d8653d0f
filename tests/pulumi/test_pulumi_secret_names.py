"""A Pulumi secret holding an object's *name* (a service naming a Secret resource, whose name travels with
its value as a Pulumi secret) is no secret value: messages and diffs name objects in full. Only the values
of sensitive fields are hidden. Real Pulumi CLI and provider plugin, in-memory target."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.pulumi]

PROGRAM = """
import pulumi
import spcs_iac.pulumi as spcs

cfg = pulumi.Config()
db = spcs.Database("db", name="CONTAINER_HOL_DB")
pool = spcs.ComputePool("pool", name="CONTAINER_HOL_POOL", instance_family="CPU_X64_XS")
token = spcs.Secret("token", name="CONTAINER_TOKEN", database=db, type="GENERIC_STRING",
                    secret_string=cfg.require_secret("token"))
spcs.Service("api", name="CONTAINER_API", database=db, compute_pool=pool, spec={
    "containers": [{"name": "main", "image": "/container_hol_db/public/repo/app:" + (cfg.get("tag") or "1"),
                    "secrets": [{"snowflakeSecret": token, "secretKeyRef": "secret_string",
                                 "envVarName": "TOKEN"}]}],
    "endpoints": [{"name": "api", "port": cfg.get_int("port") or 8080}]})
"""

VALUE = "tok-5f1c9a77e2-value"


def test_names_are_shown_in_full_and_secret_values_are_not(pulumi_project) -> None:
    p = pulumi_project(program=PROGRAM, target="memory")
    p.config("token", VALUE, secret=True)
    p.up()

    p.config("tag", "2")
    proc = p.run("preview", "--diff")
    said = proc.stdout + proc.stderr
    assert ("spec.containers[0].image: '/container_hol_db/public/repo/app:1' -> "
            "'/container_hol_db/public/repo/app:2'") in said, said
    assert "(sensitive)" not in said

    p.config("port", "99999")
    proc = p.run("preview", check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Service 'CONTAINER_API'" in said and "(sensitive)" not in said, said

    # The value itself is still never shown: a failure quoting it hides it.
    p.config("port", "8080")
    p.config("spcs-iac:target", "echo")
    p.config("spcs-iac:stateDir", str(p.state_dir / "echo"))
    proc = p.run("up", "--yes", "--skip-preview", check=False,
                 extra_env={"SPCS_IAC_TARGETS": "echo=tests.support.echoing_provider:EchoingProvider"})
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "near '(sensitive)" in said, said
    assert "5f1c9a77e2" not in said and "5F1C9A77E2" not in said
    assert VALUE not in p.run("stack", "export").stdout
