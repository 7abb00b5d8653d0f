"""User text the model accepts reaches Snowflake intact and reads back unchanged: quoted names (spaces,
case, embedded quotes, dots, unicode), literals with quotes, backslashes, newlines, '$$', '--', '/*',
comments with their own trailing whitespace, specs uploaded to quoted stages, and secrets that never
show, whatever whitespace they hold (real connector, emulated account)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
    Stack,
    Stage,
    Table,
    TableColumn,
    Warehouse,
)
from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from tests.snowflake.support import spec

TRICKY = "it's a \\ back\\slash\nnew line $$ -- dash /* c */ ünï 🚀 $"
Make = Callable[..., SnowflakeProvider]


def _apply_then_plan(stack: Stack, provider: Make, state: Path) -> None:
    result = api.apply(stack, target="snowflake", provider=provider(), state_dir=str(state))
    assert result.ok, result.failed
    again = api.plan(stack, target="snowflake", provider=provider(), state_dir=str(state))
    assert not again.has_changes, [(c.address, c.action, c.changed_fields) for c in again.actionable]


def names_stack(comment: str) -> Stack:
    """Quoted names and tricky literals on every kind that takes them (no compute)."""
    s = Stack("quoting")
    admin = "ACCOUNTADMIN"
    role = s.add(Role(name='"my ""role"" x.y"', comment=comment, owner=admin))
    s.add(RoleGrant(role=role, to_role=admin, owner=admin))
    s.add(Grant(to=role, on="ACCOUNT", owner=admin,
                privileges=["CREATE DATABASE", "CREATE WAREHOUSE", "CREATE INTEGRATION"]))
    db = s.add(Database(name='"My DB.ünï"', comment=comment, owner=role))
    sch = s.add(Schema(name='"sch ""q"""', database=db, comment=comment, owner=role))
    s.add(Grant(to=role, on=sch, privileges=["USAGE"], owner=role))
    s.add(Stage(name='"st age"', database=db, schema=sch, comment=comment, owner=role))
    sec = s.add(Secret(name='"sec.ret"', database=db, schema=sch, type="GENERIC_STRING", secret_string=TRICKY,
                       comment=comment, owner=role))
    rule = s.add(NetworkRule(name='"ru le"', database=db, schema=sch, type="HOST_PORT", mode="EGRESS",
                             value_list=["example.com:443", "a-b.example.com"], comment=comment, owner=role))
    s.add(ExternalAccessIntegration(name='"e ai"', allowed_network_rules=[rule], allowed_authentication_secrets=[sec],
                                    comment=comment, owner=admin))
    s.add(Warehouse(name='"w h"', comment=comment, initially_suspended=True, owner=role))
    s.add(Table(name='"t ""a"" b"', database=db, schema=sch, comment=comment, owner=role,
                columns=[TableColumn(name='"col ""1"""', datatype="VARCHAR", comment=comment, default=TRICKY)]))
    return s


def test_quoted_names_and_tricky_literals_round_trip(emu: Any, provider: Make, tmp_path: Path) -> None:
    _apply_then_plan(names_stack(TRICKY), provider, tmp_path)


@pytest.mark.parametrize("comment", ["trailing space ", "ends with a newline\n", "tab at the end\t"])
def test_a_comment_ending_in_whitespace_reads_back_unchanged(emu: Any, provider: Make, tmp_path: Path,
                                                             comment: str) -> None:
    # The stack marker follows the user's comment after one space; the user's own whitespace stays theirs.
    _apply_then_plan(names_stack(comment), provider, tmp_path)


def spcs_stack(context: Path, stage_name: str | None) -> Stack:
    s = Stack("quoting-spcs")
    s.add(Grant(to="SYSADMIN", on="ACCOUNT", privileges=["CREATE COMPUTE POOL"], owner="ACCOUNTADMIN"))
    db = s.add(Database(name="Q_DB", owner="SYSADMIN"))
    stage = s.add(Stage(name=stage_name, database=db, owner="SYSADMIN")) if stage_name else None
    pool = s.add(ComputePool(name="Q_POOL", instance_family="CPU_X64_XS", comment=TRICKY, owner="SYSADMIN"))
    repo = s.add(ImageRepository(name="REPO", database=db, owner="SYSADMIN"))
    image = s.add(Image(name="app", tag="v1", repository=repo, context=str(context)))
    where = {"spec_stage": stage} if stage is not None else {}
    svc = s.add(Service(name="SVC", database=db, compute_pool=pool, spec=spec(image, env={"A": TRICKY, "$$K": "v"}),
                        comment=TRICKY, owner="SYSADMIN", **where))
    s.add(JobService(name="JOB", database=db, compute_pool=pool, spec=spec(image, env={"A": TRICKY}), comment=TRICKY,
                     owner="SYSADMIN", **where))
    fn = s.add(ServiceFunction(name='"my fn ""x"""', database=db, arguments=[FunctionArgument(name="x", datatype="VARCHAR")],
                               returns="VARCHAR", service=svc, endpoint="api", path="/echo", comment=TRICKY,
                               owner="SYSADMIN"))
    s.add(Grant(to="PUBLIC", on=fn, privileges=["USAGE"], owner="SYSADMIN"))
    return s


def test_inline_specs_functions_and_grants_with_tricky_text_round_trip(emu: Any, provider: Make, context: Path,
                                                                       tmp_path: Path) -> None:
    _apply_then_plan(spcs_stack(context, None), provider, tmp_path)


@pytest.mark.parametrize("stage_name", ['"spec stage"', '"spec st\\age\'s"'])
def test_a_spec_uploads_to_a_stage_with_a_quoted_name(emu: Any, provider: Make, context: Path, tmp_path: Path,
                                                      stage_name: str) -> None:
    # PUT takes a location with special characters only as a single-quoted string.
    _apply_then_plan(spcs_stack(context, stage_name), provider, tmp_path)
    stored = stage_name[1:-1]
    assert {path for (stage, path) in emu.emulator.stage_files if stage[-1] == stored} == {"svc.yaml", "job.yaml"}


@pytest.mark.parametrize("value", ["qx-tab\tqx-sep\tqx-value", "qx-two  qx-spaces  qx-in"])
def test_a_secret_holding_whitespace_runs_never_shows_in_an_error(emu: Any, provider: Make, tmp_path: Path,
                                                                  value: str) -> None:
    # The failure quotes the statement with its whitespace folded, as error messages and query logs do.
    s = Stack("quoting-secret")
    db = s.add(Database(name="S_DB", owner="SYSADMIN"))
    s.add(Secret(name="SEC", database=db, type="GENERIC_STRING", secret_string=value, owner="SYSADMIN"))
    emu.emulator.inject(fail_matching="CREATE SECRET")
    logs: list[str] = []
    result = api.apply(s, target="snowflake", provider=provider(), state_dir=str(tmp_path), log=logs.append)
    assert not result.ok
    shown = repr(result.failed) + "\n".join(logs)
    assert "simulated failure" in shown
    for word in value.split():
        assert word not in shown, shown
