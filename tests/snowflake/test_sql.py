"""Statement shapes for every kind and action (no account needed): reference §2-§13 forms."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from spcs_iac import (
    ComputePool,
    Database,
    ExternalAccessIntegration,
    FunctionArgument,
    Grant,
    ImageRepository,
    JobService,
    NetworkRule,
    Role,
    RoleGrant,
    Schema,
    Secret,
    Service,
    ServiceFunction,
    Stage,
    Warehouse,
)
from spcs_iac.model.base import Resource
from spcs_iac.plan.model import Action, Change, FieldChange
from spcs_iac.state.store import StateEntry
from spcs_iac.targets.snowflake.sql import Stmt, spec_text, split_stamp, stamp_comment
from spcs_iac.targets.snowflake.statements import (
    change_steps,
    create_steps,
    delete_steps,
    update_steps,
    with_role_switches,
)

SPEC = {"spec": {"containers": [{"name": "main", "image": "/db/public/repo/img:1"}],
                 "endpoints": [{"name": "api", "port": 8080}]}}


def sql(steps: list[Any]) -> list[str]:
    return [s.render(display=True) for s in steps]


def created(r: Resource) -> list[str]:
    return sql(create_steps(r, {}))


def update(r: Resource, before: dict[str, Any], *, observed: dict[str, Any] | None = None,
           prior_owner: str | None = None) -> list[str]:
    fields = [FieldChange(k, v, None) for k, v in before.items()]
    change = Change(r.address, r.kind, r.fqn, Action.UPDATE, fields=fields, resource=r,
                    prior=StateEntry(r.kind, r.fqn, owner=prior_owner), observed=observed or {})
    return sql(update_steps(change, {}))


def deleted(kind: str, name: str, *, owner: str | None = None, props: dict[str, Any] | None = None,
            observed: dict[str, Any] | None = None) -> list[str]:
    change = Change(f"{kind}.{name}", kind, name, Action.DELETE,
                    prior=StateEntry(kind, name, props=props or {}, owner=owner), observed=observed)
    return sql(delete_steps(change))


# ---- CREATE ------------------------------------------------------------------------------------------
def test_create_account_objects() -> None:
    assert created(Role(name="R", comment="c")) == ["CREATE ROLE R COMMENT = 'c'"]
    assert created(Database(name="D")) == ["CREATE DATABASE D"]
    assert created(Warehouse(
        name="W", warehouse_type="snowpark-optimized", warehouse_size="x-large", max_cluster_count=2,
        min_cluster_count=1, scaling_policy="economy", auto_suspend=60, auto_resume="false",
        initially_suspended=True, comment="c",
    )) == ["CREATE WAREHOUSE W WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED' WAREHOUSE_SIZE = XLARGE MAX_CLUSTER_COUNT = 2 "
           "MIN_CLUSTER_COUNT = 1 SCALING_POLICY = ECONOMY AUTO_SUSPEND = 60 AUTO_RESUME = FALSE "
           "INITIALLY_SUSPENDED = TRUE COMMENT = 'c'"]
    assert created(ComputePool(name="P", instance_family="cpu_x64_s", min_nodes=1, max_nodes=3, auto_resume=False,
                               auto_suspend_secs=300, initially_suspended=True, comment="c")) == [
        "CREATE COMPUTE POOL P MIN_NODES = 1 MAX_NODES = 3 INSTANCE_FAMILY = CPU_X64_S AUTO_RESUME = FALSE "
        "AUTO_SUSPEND_SECS = 300 INITIALLY_SUSPENDED = TRUE COMMENT = 'c'"]
    assert created(ExternalAccessIntegration(
        name="E", allowed_network_rules=["db.public.r2", "DB.PUBLIC.R1"], allowed_authentication_secrets=["DB.S.K"],
        enabled=True, comment="c",
    )) == ["CREATE EXTERNAL ACCESS INTEGRATION E ALLOWED_NETWORK_RULES = (DB.PUBLIC.R1, DB.PUBLIC.R2) "
           "ALLOWED_AUTHENTICATION_SECRETS = (DB.S.K) ENABLED = TRUE COMMENT = 'c'"]


def test_create_schema_objects() -> None:
    assert created(Schema(name="S", database="D", comment="c")) == ["CREATE SCHEMA D.S COMMENT = 'c'"]
    # PUBLIC comes with every database: declaring it adopts it.
    assert created(Schema(name="PUBLIC", database="D", comment="c")) == [
        "CREATE SCHEMA IF NOT EXISTS D.PUBLIC", "ALTER SCHEMA D.PUBLIC SET COMMENT = 'c'"]
    assert created(Stage(name="ST", database="D", encryption={"type": "snowflake_sse"}, directory_table=True)) == [
        "CREATE STAGE D.PUBLIC.ST ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE') DIRECTORY = (ENABLE = TRUE)"]
    assert created(NetworkRule(name="R", database="D", type="host_port", mode="egress",
                               value_list=["b.example.com:443", "a.example.com"])) == [
        "CREATE NETWORK RULE D.PUBLIC.R TYPE = HOST_PORT VALUE_LIST = ('a.example.com', 'b.example.com:443') "
        "MODE = EGRESS"]
    assert created(ImageRepository(name="REPO", database="D", encryption="SNOWFLAKE_SSE", comment="c")) == [
        "CREATE IMAGE REPOSITORY D.PUBLIC.REPO ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE') COMMENT = 'c'"]


def test_secret_values_are_hidden_in_display_only() -> None:
    s = Secret(name="K", database="D", type="password", username="u'ser", password="p@ss'word\\")
    steps = create_steps(s, {})
    assert sql(steps) == ["CREATE SECRET D.PUBLIC.K TYPE = PASSWORD USERNAME = '(sensitive)' PASSWORD = '(sensitive)'"]
    assert steps[0].render() == ("CREATE SECRET D.PUBLIC.K TYPE = PASSWORD USERNAME = 'u''ser' "
                                 "PASSWORD = 'p@ss''word\\\\'")
    assert "p@ss" not in repr(steps[0])
    g = Secret(name="G", database="D", type="GENERIC_STRING", secret_string="tok")
    assert sql(create_steps(g, {})) == ["CREATE SECRET D.PUBLIC.G TYPE = GENERIC_STRING SECRET_STRING = '(sensitive)'"]


def _spec_of(statement: str) -> dict[str, Any]:
    m = re.search(r"\$\$(.*?)\$\$", statement, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_create_service() -> None:
    svc = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC, external_access_integrations=["E"],
                  query_warehouse="WH", min_instances=1, max_instances=2, auto_resume=True, comment="user text",
                  min_ready_instances=1, auto_suspend_secs=600)
    steps = create_steps(svc, {})
    fp = svc.spec_fingerprint({})
    assert sql(steps) == [
        # Properties in the syntax block's order (docs: sql-reference/sql/create-service).
        "CREATE SERVICE DB.PUBLIC.SVC IN COMPUTE POOL POOL FROM SPECIFICATION $$" + json.dumps(SPEC) + "$$ "
        "AUTO_SUSPEND_SECS = 600 EXTERNAL_ACCESS_INTEGRATIONS = (E) AUTO_RESUME = TRUE MIN_INSTANCES = 1 "
        "MIN_READY_INSTANCES = 1 MAX_INSTANCES = 2 "
        f"QUERY_WAREHOUSE = WH COMMENT = 'user text [spcs-iac:spec={fp}]'",
        "-- wait until service DB.PUBLIC.SVC is READY",
    ]
    assert split_stamp(f"user text [spcs-iac:spec={fp}]") == ("user text", fp)


def test_service_spec_pins_known_digests() -> None:
    from spcs_iac import Image

    img = Image(name="img", tag="1", repository="DB.PUBLIC.REPO", context=".")
    svc = Service(name="SVC", database="DB", compute_pool="POOL",
                  spec={"spec": {"containers": [{"name": "main", "image": img}]}})
    steps = create_steps(svc, {img.address: {"digest": "sha256:abc"}})
    doc = _spec_of(steps[0].render())
    assert doc["spec"]["containers"][0]["image"] == "/db/public/repo/img:1@sha256:abc"


def test_create_job_service_in_documented_order() -> None:
    job = JobService(name="JOB", database="DB", compute_pool="POOL", spec=SPEC, replicas=2, run_async=True,
                     external_access_integrations=["E"], query_warehouse="WH", comment="c")
    fp = job.spec_fingerprint({})
    assert sql(create_steps(job, {})) == [
        "EXECUTE JOB SERVICE IN COMPUTE POOL POOL FROM SPECIFICATION $$" + json.dumps(SPEC) + "$$ "
        # The documented order, which the page says matters: NAME, ASYNC, REPLICAS, QUERY_WAREHOUSE, COMMENT,
        # EXTERNAL_ACCESS_INTEGRATIONS (https://docs.snowflake.com/en/sql-reference/sql/execute-job-service).
        f"NAME = DB.PUBLIC.JOB ASYNC = TRUE REPLICAS = 2 QUERY_WAREHOUSE = WH COMMENT = 'c [spcs-iac:spec={fp}]' "
        "EXTERNAL_ACCESS_INTEGRATIONS = (E)"]
    sync = JobService(name="JOB", database="DB", compute_pool="POOL", spec=SPEC)
    assert sql(create_steps(sync, {}))[-1] == "-- wait until job service DB.PUBLIC.JOB is DONE"


def test_create_service_function() -> None:
    fn = ServiceFunction(name="CONVERT_UDF", database="DB", arguments=[FunctionArgument(name="input", datatype="real")],
                         returns="real", service="CONVERT_API", endpoint="'convert-api'", path="/convert",
                         max_batch_rows=5, comment="c")
    assert fn.fqn == "DB.PUBLIC.CONVERT_UDF(FLOAT)"
    assert created(fn) == [
        "CREATE FUNCTION DB.PUBLIC.CONVERT_UDF(INPUT REAL) RETURNS REAL SERVICE = DB.PUBLIC.CONVERT_API "
        "ENDPOINT = 'convert-api' MAX_BATCH_ROWS = 5 COMMENT = 'c' AS '/convert'"]


def test_create_grants() -> None:
    assert created(Grant(to="R", on="ACCOUNT", privileges=["monitor usage", "CREATE_COMPUTE_POOL"])) == [
        "GRANT CREATE COMPUTE POOL, MONITOR USAGE ON ACCOUNT TO ROLE R"]
    assert created(Grant(to="R", on="P", on_type="compute_pool", privileges=["USAGE"], grant_option=True)) == [
        "GRANT USAGE ON COMPUTE POOL P TO ROLE R WITH GRANT OPTION"]
    fn = ServiceFunction(name="F", database="DB", arguments=[FunctionArgument(name="x", datatype="INT")],
                         returns="INT", service="S", endpoint="e", path="/p")
    assert created(Grant(to="R", on=fn, privileges=["USAGE"])) == ["GRANT USAGE ON FUNCTION DB.PUBLIC.F(NUMBER) TO ROLE R"]
    assert created(Grant(to="R", on="E", on_type="EXTERNAL ACCESS INTEGRATION", privileges=["usage"])) == [
        "GRANT USAGE ON INTEGRATION E TO ROLE R"]
    assert created(Grant(to="R", on="W", on_type="WAREHOUSE", privileges=["ALL PRIVILEGES"])) == [
        "GRANT ALL ON WAREHOUSE W TO ROLE R"]
    assert created(RoleGrant(role="A", to_role="B")) == ["GRANT ROLE A TO ROLE B"]


# ---- UPDATE ------------------------------------------------------------------------------------------
def test_update_groups_sets_and_unsets() -> None:
    wh = Warehouse(name="W", warehouse_size="SMALL", auto_suspend=60)
    assert update(wh, {"warehouse_size": "XSMALL", "auto_suspend": 600, "comment": "old"}) == [
        "ALTER WAREHOUSE W SET WAREHOUSE_SIZE = SMALL AUTO_SUSPEND = 60", "ALTER WAREHOUSE W UNSET COMMENT"]
    # An omitted field with a declared default goes back to that default.
    assert update(Warehouse(name="W"), {"auto_resume": False}) == ["ALTER WAREHOUSE W SET AUTO_RESUME = TRUE"]
    role = Role(name="R")
    assert update(role, {"comment": "x"}) == ["ALTER ROLE R UNSET COMMENT"]
    eai = ExternalAccessIntegration(name="E", allowed_network_rules=["DB.S.R"], enabled=False)
    assert update(eai, {"enabled": True, "allowed_authentication_secrets": ["DB.S.K"]}) == [
        "ALTER EXTERNAL ACCESS INTEGRATION E SET ENABLED = FALSE",
        "ALTER EXTERNAL ACCESS INTEGRATION E UNSET ALLOWED_AUTHENTICATION_SECRETS"]
    rule = NetworkRule(name="R", database="D", type="HOST_PORT", mode="EGRESS", value_list=["x.com"], comment="c")
    assert update(rule, {"value_list": ["y.com"], "comment": None}) == [
        "ALTER NETWORK RULE D.PUBLIC.R SET VALUE_LIST = ('x.com') COMMENT = 'c'"]


def test_update_stage_directory_is_its_own_statement() -> None:
    st = Stage(name="ST", database="D", directory_table=True, comment="c")
    assert update(st, {"directory_table": False, "comment": None}) == [
        "ALTER STAGE D.PUBLIC.ST SET DIRECTORY = (ENABLE = TRUE)", "ALTER STAGE D.PUBLIC.ST SET COMMENT = 'c'"]


def test_update_secret_values_and_comment() -> None:
    s = Secret(name="K", database="D", type="PASSWORD", username="u", password="new")
    change = update(s, {"password": "sha256:old", "comment": "gone"})
    assert change == ["ALTER SECRET D.PUBLIC.K SET USERNAME = '(sensitive)' PASSWORD = '(sensitive)' COMMENT = NULL"]
    g = Secret(name="G", database="D", type="GENERIC_STRING", secret_string="v2")
    steps = update_steps(Change(g.address, g.kind, g.fqn, Action.UPDATE, fields=[FieldChange("secret_string", 1, 2)],
                                resource=g, prior=StateEntry(g.kind, g.fqn)), {})
    assert sql(steps) == ["ALTER SECRET D.PUBLIC.G SET SECRET_STRING = '(sensitive)'"]
    assert steps[0].render() == "ALTER SECRET D.PUBLIC.G SET SECRET_STRING = 'v2'"


def test_update_compute_pool_family_suspends_first() -> None:
    pool = ComputePool(name="P", instance_family="CPU_X64_M", max_nodes=2, owner="OPS")
    assert update(pool, {"instance_family": "CPU_X64_XS", "max_nodes": 1}) == [
        "ALTER COMPUTE POOL P SUSPEND",
        "-- wait until compute pool P is SUSPENDED",
        "ALTER COMPUTE POOL P SET MAX_NODES = 2 INSTANCE_FAMILY = CPU_X64_M",
        "ALTER COMPUTE POOL P RESUME",
    ]
    assert update(pool, {"auto_suspend_secs": 60}) == ["ALTER COMPUTE POOL P SET AUTO_SUSPEND_SECS = 3600"]


def test_update_service_spec_then_restamp() -> None:
    svc = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC, min_instances=2, comment="hi")
    fp = svc.spec_fingerprint({})
    assert update(svc, {"spec": "0000", "min_instances": 1}) == [
        "ALTER SERVICE DB.PUBLIC.SVC SET MIN_INSTANCES = 2",
        "ALTER SERVICE DB.PUBLIC.SVC FROM SPECIFICATION $$" + json.dumps(SPEC) + "$$",
        "-- wait until service DB.PUBLIC.SVC is READY",
        f"ALTER SERVICE DB.PUBLIC.SVC SET COMMENT = 'hi [spcs-iac:spec={fp}]'",
    ]
    # A comment change keeps the stamp; clearing the comment leaves only the stamp.
    bare = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC)
    assert update(bare, {"comment": "hi", "auto_resume": False}) == [
        f"ALTER SERVICE DB.PUBLIC.SVC SET COMMENT = '[spcs-iac:spec={fp}]' AUTO_RESUME = TRUE"]


def test_instance_counts_change_together_to_the_values_the_plan_shows() -> None:
    # Counts left out follow MIN_INSTANCES: set to that number in the same statement, never unset (what
    # UNSET restores is not documented, and MIN above a MAX still to come is refused).
    up = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC, min_instances=3)
    assert update(up, {"min_instances": 1, "max_instances": 1, "min_ready_instances": 1}) == [
        "ALTER SERVICE DB.PUBLIC.SVC SET MIN_INSTANCES = 3 MAX_INSTANCES = 3 MIN_READY_INSTANCES = 3"]
    down = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC, max_instances=4)
    assert update(down, {"min_instances": 2, "min_ready_instances": 2}) == [
        "ALTER SERVICE DB.PUBLIC.SVC SET MIN_INSTANCES = 1 MIN_READY_INSTANCES = 1"]


def test_a_new_query_warehouse_restarts_a_running_service() -> None:
    # ALTER SERVICE: a default warehouse for queries takes effect only after the service restarts; the
    # same spec again rolls its instances one at a time.
    svc = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC, query_warehouse="WH2")
    assert update(svc, {"query_warehouse": "WH1"}) == [
        "ALTER SERVICE DB.PUBLIC.SVC SET QUERY_WAREHOUSE = WH2",
        "ALTER SERVICE DB.PUBLIC.SVC FROM SPECIFICATION $$" + json.dumps(SPEC) + "$$",
        "-- wait until service DB.PUBLIC.SVC is READY",
    ]
    bare = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC)
    assert update(bare, {"query_warehouse": "WH1"})[:2] == [
        "ALTER SERVICE DB.PUBLIC.SVC UNSET QUERY_WAREHOUSE",
        "ALTER SERVICE DB.PUBLIC.SVC FROM SPECIFICATION $$" + json.dumps(SPEC) + "$$"]
    # A service kept suspended picks the warehouse up when it resumes.
    held = Service(name="SVC", database="DB", compute_pool="POOL", spec=SPEC, query_warehouse="WH2", suspended=True)
    assert update(held, {"query_warehouse": "WH1"}) == ["ALTER SERVICE DB.PUBLIC.SVC SET QUERY_WAREHOUSE = WH2"]


def test_update_function_one_property_per_statement() -> None:
    fn = ServiceFunction(name="F", database="DB", arguments=[FunctionArgument(name="x", datatype="VARCHAR")],
                         returns="VARCHAR", service="DB.PUBLIC.SVC2", endpoint="api-2", path="/p", comment="c")
    assert update(fn, {"endpoint": "api", "max_batch_rows": 5, "comment": None}) == [
        "ALTER FUNCTION DB.PUBLIC.F(VARCHAR) SET SERVICE = 'DB.PUBLIC.SVC2' ENDPOINT = 'api-2'",
        "ALTER FUNCTION DB.PUBLIC.F(VARCHAR) SET COMMENT = 'c'",
        "ALTER FUNCTION DB.PUBLIC.F(VARCHAR) UNSET MAX_BATCH_ROWS",
    ]


def test_update_grant_privileges_grants_and_revokes_the_difference() -> None:
    g = Grant(to="R", on="P", on_type="COMPUTE POOL", privileges=["USAGE", "OPERATE"], owner="ADMIN")
    assert update(g, {"privileges": ["MONITOR", "USAGE"]}) == [
        "USE ROLE ADMIN",
        "REVOKE MONITOR ON COMPUTE POOL P FROM ROLE R",
        "GRANT OPERATE ON COMPUTE POOL P TO ROLE R",
    ][1:]
    wants_all = Grant(to="R", on="P", on_type="COMPUTE POOL", privileges=["ALL"])
    assert update(wants_all, {"privileges": ["USAGE"]}) == ["GRANT ALL ON COMPUTE POOL P TO ROLE R"]
    from_all = Grant(to="R", on="P", on_type="COMPUTE POOL", privileges=["USAGE"])
    assert update(from_all, {"privileges": ["ALL"]}) == [
        "REVOKE ALL ON COMPUTE POOL P FROM ROLE R", "GRANT USAGE ON COMPUTE POOL P TO ROLE R"]


def test_owner_change_transfers_ownership_as_the_current_owner() -> None:
    wh = Warehouse(name="W", owner="NEW_OWNER", comment="c")
    change = Change(wh.address, wh.kind, wh.fqn, Action.UPDATE,
                    fields=[FieldChange("owner", "OLD_OWNER", "NEW_OWNER"), FieldChange("comment", None, "c")],
                    resource=wh, prior=StateEntry(wh.kind, wh.fqn, owner="OLD_OWNER"), observed={"owner": "OLD_OWNER"})
    steps = update_steps(change, {})
    assert [(s.role, s.render()) for s in steps] == [
        ("OLD_OWNER", "GRANT OWNERSHIP ON WAREHOUSE W TO ROLE NEW_OWNER COPY CURRENT GRANTS"),
        ("NEW_OWNER", "ALTER WAREHOUSE W SET COMMENT = 'c'"),
    ]
    switched, current = with_role_switches(steps, "SYSADMIN", "SYSADMIN")
    assert sql(switched) == ["USE ROLE OLD_OWNER", steps[0].render(), "USE ROLE NEW_OWNER", steps[1].render()]
    assert current == "NEW_OWNER"
    eai = ExternalAccessIntegration(name="E", allowed_network_rules=["D.S.R"], owner="NEW")
    assert update(eai, {"owner": "OLD"}, prior_owner="OLD") == [
        "GRANT OWNERSHIP ON INTEGRATION E TO ROLE NEW COPY CURRENT GRANTS"]


def test_role_switches_only_when_the_role_differs() -> None:
    steps = [Stmt(("A",), "R1"), Stmt(("B",), "R1"), Stmt(("C",), None), Stmt(("D",), "R2")]
    out, current = with_role_switches(steps, None, "DEFAULT_ROLE")
    assert sql(out) == ["USE ROLE R1", "A", "B", "USE ROLE DEFAULT_ROLE", "C", "USE ROLE R2", "D"]
    assert current == "R2"
    out, _ = with_role_switches(steps[2:3], None, None)
    assert sql(out) == ["C"]  # unknown default role: run in whatever the session has


# ---- DELETE ------------------------------------------------------------------------------------------
def test_delete_forms() -> None:
    assert deleted("role", "R") == ["DROP ROLE IF EXISTS R"]
    assert deleted("warehouse", "W") == ["DROP WAREHOUSE IF EXISTS W"]
    assert deleted("database", "D") == ["DROP DATABASE IF EXISTS D"]
    assert deleted("schema", "D.S") == ["DROP SCHEMA IF EXISTS D.S"]
    assert deleted("stage", "D.S.ST") == ["DROP STAGE IF EXISTS D.S.ST"]
    assert deleted("secret", "D.S.K") == ["DROP SECRET IF EXISTS D.S.K"]
    assert deleted("network_rule", "D.S.R") == ["DROP NETWORK RULE IF EXISTS D.S.R"]
    assert deleted("image_repository", "D.S.REPO") == ["DROP IMAGE REPOSITORY IF EXISTS D.S.REPO"]
    assert deleted("external_access_integration", "E") == ["DROP EXTERNAL ACCESS INTEGRATION IF EXISTS E"]
    assert deleted("compute_pool", "P") == ["ALTER COMPUTE POOL IF EXISTS P STOP ALL", "DROP COMPUTE POOL IF EXISTS P"]
    assert deleted("service", "D.S.SVC") == ["DROP SERVICE IF EXISTS D.S.SVC FORCE"]
    assert deleted("job_service", "D.S.JOB") == ["DROP SERVICE IF EXISTS D.S.JOB FORCE"]
    assert deleted("service_function", "D.S.F(FLOAT, VARCHAR)") == ["DROP FUNCTION IF EXISTS D.S.F(FLOAT, VARCHAR)"]
    assert deleted("image", "D.S.REPO/app:v1") == []  # images cannot be deleted one by one
    assert deleted("role_grant", "A->B") == ["REVOKE ROLE A FROM ROLE B"]
    assert deleted("grant", "R:ACCOUNT", props={"privileges": ["CREATE DATABASE", "MONITOR USAGE"]}) == [
        "REVOKE CREATE DATABASE, MONITOR USAGE ON ACCOUNT FROM ROLE R"]
    # What the target has wins over what was recorded.
    assert deleted("grant", "R:COMPUTE POOL:P", props={"privileges": ["USAGE"]},
                   observed={"privileges": ["USAGE", "MONITOR"]}) == [
        "REVOKE MONITOR, USAGE ON COMPUTE POOL P FROM ROLE R"]
    assert deleted("grant", "R:FUNCTION:D.S.F(FLOAT)", props={"privileges": ["USAGE"]}) == [
        "REVOKE USAGE ON FUNCTION D.S.F(FLOAT) FROM ROLE R"]


def test_delete_runs_as_the_recorded_owner() -> None:
    change = Change("warehouse.W", "warehouse", "W", Action.DELETE, prior=StateEntry("warehouse", "W", owner="OPS"))
    steps = delete_steps(change)
    assert [s.role for s in steps] == ["OPS"]


def test_replace_is_delete_then_create() -> None:
    rule = NetworkRule(name="R", database="D", type="HOST_PORT", mode="EGRESS", value_list=["x.com"], owner="OPS")
    change = Change(rule.address, rule.kind, rule.fqn, Action.REPLACE,
                    fields=[FieldChange("type", "IPV4", "HOST_PORT", forces_replace=True)], resource=rule,
                    prior=StateEntry(rule.kind, rule.fqn, owner="OLD"))
    steps = change_steps(change, {})
    assert [(s.role, s.render()) for s in steps] == [
        ("OLD", "DROP NETWORK RULE IF EXISTS D.PUBLIC.R"),
        ("OPS", "CREATE NETWORK RULE D.PUBLIC.R TYPE = HOST_PORT VALUE_LIST = ('x.com') MODE = EGRESS"),
    ]


# ---- hostile input -----------------------------------------------------------------------------------------
HOSTILE = "x'; DROP DATABASE PROD; --\\ $$ \"q\"\nline"


def test_hostile_names_are_quoted() -> None:
    db = Database(name='"my ""odd"". db"')
    assert created(db) == ['CREATE DATABASE "my ""odd"". db"']
    st = Stage(name='"st $$ \\ \'x"', database=db, comment=HOSTILE)
    out = created(st)[0]
    assert out.startswith('CREATE STAGE "my ""odd"". db".PUBLIC."st $$ \\ \'x" COMMENT = ')
    assert out.endswith("COMMENT = 'x''; DROP DATABASE PROD; --\\\\ $$ \"q\"\nline'")
    assert deleted("stage", st.fqn) == ['DROP STAGE IF EXISTS "my ""odd"". db".PUBLIC."st $$ \\ \'x"']
    role = Role(name="select")  # a reserved word stays usable
    assert created(role) == ['CREATE ROLE "SELECT"']
    g = Grant(to=role, on=db, privileges=["USAGE"])
    assert created(g) == ['GRANT USAGE ON DATABASE "my ""odd"". db" TO ROLE "SELECT"']
    assert deleted("grant", g.fqn, props={"privileges": ["USAGE"]}) == [
        'REVOKE USAGE ON DATABASE "my ""odd"". db" FROM ROLE "SELECT"']
    rg = RoleGrant(role=role, to_role='"a->b"')
    assert deleted("role_grant", rg.fqn) == ['REVOKE ROLE "SELECT" FROM ROLE "a->b"']


def test_hostile_comments_and_spec_values_cannot_break_out() -> None:
    spec = {"spec": {"containers": [{"name": "main", "image": "/db/public/repo/img:1",
                                     "env": {"A": "$$; DROP TABLE T; $$", "B": HOSTILE, "C": "$", "D": "x$"},
                                     "args": ["$$$", "'$$'"]}]}}
    svc = Service(name="SVC", database="DB", compute_pool="POOL", spec=spec, comment=HOSTILE)
    text = create_steps(svc, {})[0].render()
    body = text.split("FROM SPECIFICATION $$", 1)[1].split("$$", 1)[0]
    assert json.loads(body)["spec"]["containers"][0]["env"] == spec["spec"]["containers"][0]["env"]
    assert json.loads(body)["spec"]["containers"][0]["args"] == ["$$$", "'$$'"]
    head, _, rest = text.partition(" COMMENT = ")
    assert head.count("$$") == 2  # only the quotes around the spec; '$$' in the comment literal is inert
    rest = " COMMENT = " + rest
    assert rest.startswith(" COMMENT = 'x''; DROP DATABASE PROD; --\\\\ $$ \"q\"\nline [spcs-iac:spec=")
    assert split_stamp(stamp_comment(HOSTILE, "abc"))[0] == HOSTILE
    assert "$$" not in spec_text({"a": "$$$$", "b": "$ $", "c": "$"})


def test_stamp_parsing_keeps_user_text() -> None:
    assert split_stamp(None) == (None, None)
    assert split_stamp("plain") == ("plain", None)
    assert split_stamp("[spcs-iac:spec=ab12]") == (None, "ab12")
    assert split_stamp("a [spcs-iac:spec=00] [spcs-iac:spec=ff]") == ("a [spcs-iac:spec=00]", "ff")


@pytest.mark.parametrize("name", ["D.S.F(FLOAT", "D.S.F(FLOAT) ; DROP", 'D.S.F("x")'])
def test_recorded_function_names_are_validated(name: str) -> None:
    from spcs_iac.errors import ProviderError

    with pytest.raises(ProviderError):
        deleted("service_function", name)
