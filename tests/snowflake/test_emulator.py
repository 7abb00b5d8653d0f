"""End to end through the real snowflake.connector against the account emulator.

plan / apply / plan again (0 changes) / destroy for every kind; updates of every alterable shape; a
hand change shows as an update; faults at every statement converge on rerun; the batched read stays
within a small query budget for a 2,000-object stack.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import ComputePool, Database, Grant, JobService, RoleGrant, Service, Stack, Warehouse
from spcs_iac.apply.executor import ApplyResult
from spcs_iac.drivers import api
from spcs_iac.plan.model import Action, Plan
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.snowflake.support import OWNER, FakeImages, every_kind, generated, spec

Factory = Callable[..., SnowflakeProvider]
# SYSADMIN may not create compute pools in a new account: ACCOUNTADMIN grants it first.
SYSADMIN_POOLS = dict(to="SYSADMIN", on="ACCOUNT", privileges=["CREATE COMPUTE POOL"], owner="ACCOUNTADMIN")


def plan(stack: Stack, provider: Factory, state: Path, **kw: Any) -> Plan:
    return api.plan(stack, target="snowflake", provider=provider(), state_dir=str(state), **kw)


def apply(stack: Stack, provider: Factory, state: Path, **kw: Any) -> ApplyResult:
    return api.apply(stack, target="snowflake", provider=provider(), state_dir=str(state), **kw)


def changes(p: Plan) -> list[tuple[str, str, list[str]]]:
    return [(c.action.value, c.address, sorted(c.changed_fields)) for c in p.actionable]


def assert_converged(stack: Stack, provider: Factory, state: Path) -> None:
    again = plan(stack, provider, state)
    assert not again.has_changes, changes(again)


def test_every_kind_plan_apply_plan_destroy(emu: Any, provider: Factory, context: Path, tmp_path: Path,
                                            images: FakeImages) -> None:
    stack = every_kind(context)
    first = plan(stack, provider, tmp_path)
    kinds = {c.kind for c in first.actionable}
    assert {c.action for c in first.actionable} == {Action.CREATE}
    assert kinds == {"role", "role_grant", "grant", "warehouse", "database", "schema", "stage", "secret",
                     "network_rule", "external_access_integration", "compute_pool", "image_repository", "image",
                     "service", "job_service", "service_function", "service_role_grant", "table"}
    result = apply(stack, provider, tmp_path)
    assert result.ok, result.failed
    assert images.pushed == ["emu-account.registry.snowflakecomputing.com/app_db/public/repo/app:v1"]
    assert_converged(stack, provider, tmp_path)

    # The service runs the pushed digest; outputs Snowflake assigned were recorded.
    state = (tmp_path / "everykind.snowflake.json").read_text()
    assert "repository_url" in state and "dns_name" in state
    created = [s for s in emu.emulator.stats()["statements"] if s.startswith("CREATE SERVICE")]
    assert "/app_db/public/repo/app:v1@sha256:" in created[0]
    p = provider()
    assert p.status("APP_DB.PUBLIC.APP_SVC")[0]["status"] == "READY"

    result = api.destroy(stack, target="snowflake", provider=provider(), state_dir=str(tmp_path))
    assert result.ok, result.failed
    after = plan(stack, provider, tmp_path)
    leftovers = [c.address for c in after.changes if c.action is not Action.CREATE and c.kind != "image"]
    assert not leftovers, leftovers  # everything is gone again (images cannot be deleted one by one)


def test_updates_of_every_alterable_shape_converge(emu: Any, provider: Factory, context: Path,
                                                   tmp_path: Path) -> None:
    assert apply(every_kind(context), provider, tmp_path).ok
    changed = every_kind(context, comment="second", size="SMALL", family="CPU_X64_S", privileges=("USAGE",),
                         secret="rotated", env="two", max_batch_rows=20)
    p = plan(changed, provider, tmp_path)
    by_address = {a: (action, fields) for action, a, fields in changes(p)}
    assert by_address["warehouse.APP_WH"] == ("update", ["comment", "warehouse_size"])
    assert by_address["compute_pool.APP_POOL"] == ("update", ["comment", "instance_family"])
    assert by_address["secret.APP_DB.PUBLIC.API_KEY"] == ("update", ["comment", "secret_string"])
    assert by_address["secret.APP_DB.PUBLIC.LOGIN"] == ("update", ["password"])
    # The family change suspends the pool and its services; the plan resumes the service after it.
    assert by_address["service.APP_DB.PUBLIC.APP_SVC"] == ("update", ["comment", "spec", "suspended"])
    assert by_address["job_service.APP_DB.PUBLIC.APP_JOB"][0] == "replace"
    assert by_address["grant.PUBLIC:COMPUTE POOL:APP_POOL"] == ("update", ["privileges"])
    assert by_address["service_function.APP_DB.PUBLIC.APP_FN(VARCHAR)"] == ("update", ["comment", "max_batch_rows"])
    statements = [s for c in p.actionable for s in c.statements]
    assert "REVOKE MONITOR ON COMPUTE POOL APP_POOL FROM ROLE PUBLIC" in statements
    assert "ALTER SECRET APP_DB.PUBLIC.LOGIN SET USERNAME = '(sensitive)' PASSWORD = '(sensitive)'" in statements
    assert not any("rotated" in s for s in statements)
    upgrade = next(s for s in statements if "FROM SPECIFICATION" in s)
    assert "/app_db/public/repo/app:v1@sha256:" in upgrade  # the plan shows the spec with known digests
    result = apply(changed, provider, tmp_path)
    assert result.ok, result.failed
    assert_converged(changed, provider, tmp_path)
    assert provider().status("APP_DB.PUBLIC.APP_SVC")[0]["status"] == "READY"
    # The secret value reached the account although no plan or log showed it.
    assert any("rotated" in s for s in emu.emulator.stats()["statements"])


def test_endpoint_and_owner_changes(emu: Any, provider: Factory, context: Path, tmp_path: Path) -> None:
    assert apply(every_kind(context), provider, tmp_path).ok
    moved = every_kind(context, endpoint_port=9090)
    p = plan(moved, provider, tmp_path)
    assert ("update", "service.APP_DB.PUBLIC.APP_SVC", ["spec"]) in changes(p)
    assert apply(moved, provider, tmp_path).ok
    assert_converged(moved, provider, tmp_path)

    # Ownership moves in place where Snowflake allows it (GRANT OWNERSHIP ... COPY CURRENT GRANTS).
    stack = Stack("owners")
    stack.add(Warehouse(name="OWNED_WH", owner="SYSADMIN"))
    assert apply(stack, provider, tmp_path).ok
    stack2 = Stack("owners")
    stack2.add(Warehouse(name="OWNED_WH", owner=OWNER))
    p = plan(stack2, provider, tmp_path)
    assert changes(p) == [("update", "warehouse.OWNED_WH", ["owner"])]
    assert p.actionable[0].statements == [
        "USE ROLE SYSADMIN", "GRANT OWNERSHIP ON WAREHOUSE OWNED_WH TO ROLE APP_ROLE COPY CURRENT GRANTS"]
    assert apply(stack2, provider, tmp_path).ok
    assert_converged(stack2, provider, tmp_path)


def test_hand_change_shows_as_update(emu: Any, provider: Factory, context: Path, tmp_path: Path) -> None:
    stack = every_kind(context)
    assert apply(stack, provider, tmp_path).ok
    other = emu.connect()
    cur = other.cursor()
    cur.execute("ALTER WAREHOUSE APP_WH SET AUTO_SUSPEND = 999 WAREHOUSE_SIZE = LARGE")
    cur.execute("REVOKE USAGE ON INTEGRATION APP_EAI FROM ROLE APP_ROLE")
    cur.execute("ALTER NETWORK RULE APP_DB.PUBLIC.EGRESS_RULE SET VALUE_LIST = ('evil.example.com')")
    p = plan(stack, provider, tmp_path)
    got = {a: (action, fields) for action, a, fields in changes(p)}
    assert got["warehouse.APP_WH"] == ("update", ["auto_suspend", "warehouse_size"])
    assert got["network_rule.APP_DB.PUBLIC.EGRESS_RULE"] == ("update", ["value_list"])
    assert got["grant.APP_ROLE:INTEGRATION:APP_EAI"][0] == "create"
    wh = p.get("warehouse.APP_WH")
    assert wh.reason and "changed outside spcs-iac" in wh.reason
    assert apply(stack, provider, tmp_path).ok
    assert_converged(stack, provider, tmp_path)


def test_existing_objects_are_imported_not_created_twice(emu: Any, provider: Factory, tmp_path: Path) -> None:
    cur = emu.connect().cursor()
    cur.execute("CREATE WAREHOUSE HAND_WH AUTO_SUSPEND = 60 COMMENT = 'by hand'")
    stack = Stack("adopt")
    stack.add(Warehouse(name="HAND_WH", auto_suspend=60, comment="managed"))
    p = plan(stack, provider, tmp_path)
    assert changes(p) == [("import", "warehouse.HAND_WH", ["comment"])]
    assert apply(stack, provider, tmp_path, adopt=True).ok
    assert_converged(stack, provider, tmp_path)


def test_show_row_limit_falls_back_to_reading_per_database(emu: Any, provider: Factory, context: Path,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import spcs_iac.targets.snowflake.read as read

    stack = every_kind(context)
    assert apply(stack, provider, tmp_path).ok
    monkeypatch.setattr(read, "SHOW_LIMIT", 1)  # as if SHOW ... IN ACCOUNT had returned 10,000 rows
    emu.emulator.reset_stats()
    assert_converged(stack, provider, tmp_path)
    assert "SHOW STAGES IN DATABASE APP_DB" in emu.emulator.stats()["statements"]


def test_quoted_lower_case_names_round_trip(emu: Any, provider: Factory, tmp_path: Path) -> None:
    from spcs_iac import Role, Schema, Stage

    stack = Stack("quoted")
    owner = stack.add(Role(name='"ops team"', owner="ACCOUNTADMIN"))
    stack.add(RoleGrant(role=owner, to_role="SYSADMIN", owner="ACCOUNTADMIN"))
    stack.add(Grant(to=owner, on="ACCOUNT", privileges=["CREATE DATABASE"], owner="ACCOUNTADMIN"))
    db = stack.add(Database(name='"my db"', comment="it's a \\ test $$", owner=owner))
    sc = stack.add(Schema(name='"Mixed.Case"', database=db, owner=owner))
    stack.add(Stage(name="st", database=db, schema=sc, comment="x\ny", owner=owner))
    stack.add(Grant(to="PUBLIC", on=db, privileges=["USAGE"], owner=owner))
    result = apply(stack, provider, tmp_path)
    assert result.ok, result.failed
    assert_converged(stack, provider, tmp_path)
    assert api.destroy(stack, target="snowflake", provider=provider(), state_dir=str(tmp_path)).ok


def test_failing_service_reports_status_and_logs(emu: Any, provider: Factory, tmp_path: Path) -> None:
    stack = Stack("failing")
    stack.add(Grant(**SYSADMIN_POOLS))
    pool = stack.add(ComputePool(name="FAIL_POOL", instance_family="CPU_X64_XS", owner="SYSADMIN"))
    db = stack.add(Database(name="FAIL_DB", owner="SYSADMIN"))
    stack.add(Service(name="BROKEN", database=db, compute_pool=pool, owner="SYSADMIN",
                      spec=spec("registry.example.com/x/app:fail")))
    result = apply(stack, provider, tmp_path)
    message = result.failed["service.FAIL_DB.PUBLIC.BROKEN"]
    assert "did not become READY" in message or "failed" in message
    assert "container main (instance 0): FAILED - image pull failed" in message
    assert "last log lines of main (instance 0)" in message and "back-off pulling image" in message


def test_failed_job_reports_logs_and_reruns(emu: Any, provider: Factory, tmp_path: Path) -> None:
    def job_stack(tag: str) -> Stack:
        stack = Stack("jobs")
        stack.add(Grant(**SYSADMIN_POOLS))
        pool = stack.add(ComputePool(name="JOB_POOL", instance_family="CPU_X64_XS", owner="SYSADMIN"))
        db = stack.add(Database(name="JOB_DB", owner="SYSADMIN"))
        stack.add(JobService(name="NIGHTLY", database=db, compute_pool=pool, owner="SYSADMIN",
                             spec=spec(f"registry.example.com/x/app:{tag}")))
        return stack

    result = apply(job_stack("fail"), provider, tmp_path)
    message = result.failed["job_service.JOB_DB.PUBLIC.NIGHTLY"]
    assert "ended FAILED" in message and "image pull failed" in message
    # The failed job exists but was not recorded: the next plan replaces it (it cannot be altered).
    p = plan(job_stack("fixed"), provider, tmp_path)
    assert changes(p) == [("replace", "job_service.JOB_DB.PUBLIC.NIGHTLY", ["outcome", "spec"])]
    result = apply(job_stack("fixed"), provider, tmp_path)
    assert result.ok, result.failed
    assert_converged(job_stack("fixed"), provider, tmp_path)


def test_operations_helpers(emu: Any, provider: Factory, context: Path, tmp_path: Path) -> None:
    assert apply(every_kind(context), provider, tmp_path).ok
    emu.emulator.register_endpoint("APP_DB.PUBLIC.APP_SVC", "api", "/echo",
                                   lambda body: {"data": [[row[0], f"echo:{row[1]}"] for row in body["data"]]})
    p = provider()
    assert p.call_function("APP_DB.PUBLIC.APP_FN", [["it's $$ \\ odd"]]) == ["echo:it's $$ \\ odd"]
    assert [e["name"] for e in p.endpoints("APP_DB.PUBLIC.APP_SVC")] == ["api"]
    assert "starting main" in p.logs("APP_DB.PUBLIC.APP_SVC", lines=10)
    p.suspend("service", "APP_DB.PUBLIC.APP_SVC")
    assert p.status("APP_DB.PUBLIC.APP_SVC") == []
    p.resume("service", "APP_DB.PUBLIC.APP_SVC")
    p.resume("warehouse", "APP_WH")  # created INITIALLY_SUSPENDED
    p.suspend("warehouse", "APP_WH")
    with pytest.raises(Exception, match="cannot suspend"):
        p.suspend("database", "APP_DB")


@pytest.mark.slow
def test_planning_2000_objects_takes_a_bounded_number_of_queries(emu: Any, provider: Factory, context: Path,
                                                                 tmp_path: Path) -> None:
    stack = generated(2000, context)
    assert len(stack) >= 2000
    emu.emulator.reset_stats()
    fresh = plan(stack, provider, tmp_path)
    fresh_queries = emu.emulator.stats()["total"]
    assert len(fresh.actionable) == len(stack)
    assert fresh_queries <= 30, emu.emulator.stats()["by_keyword"]

    result = apply(stack, provider, tmp_path, parallelism=8)
    assert result.ok, list(result.failed.items())[:3]
    emu.emulator.reset_stats()
    p = provider()
    again = api.plan(stack, target="snowflake", provider=p, state_dir=str(tmp_path))
    stats = emu.emulator.stats()
    assert not again.has_changes, changes(again)[:5]
    assert stats["total"] <= 30, stats["by_keyword"]
    assert p.query_count == stats["total"]
    print(f"\n2,000-object plan: {fresh_queries} queries empty, {stats['total']} after apply")
