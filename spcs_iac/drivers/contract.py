"""The contract run (``spcs-iac contract``): on a Snowflake account, create, read back, alter, replace and drop
one object of every kind, and report a pass/fail line per kind and statement shape.

Schema-level objects live in a schema of their own inside the scratch database the user names;
account-level objects carry the run's prefix (``SPCSIAC_<run id>_``). Whatever happens, the run ends by
destroying everything it created, then dropping by name whatever a failure left behind. The kinds that
start compute (pool, service, job, function, service role) need ``spcs=True``; the image is built and
pushed only with a working image tool (Docker), else a service runs ``service_image``.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    ServiceRoleGrant,
    ServiceSpec,
    Stack,
    Stage,
    Table,
    TableColumn,
    Warehouse,
)
from spcs_iac.drivers import api
from spcs_iac.errors import SpcsIacError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.fields import Update, kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.model import Action, Plan
from spcs_iac.plan.target import Provider

SPCS_KINDS = ("compute_pool", "image", "service", "job_service", "service_function", "service_role_grant")
SHAPES = ("create", "read back", "alter", "replace", "drop")


@dataclass
class Line:
    kind: str
    shape: str
    outcome: str  # PASS, FAIL, SKIP
    detail: str = ""

    def render(self) -> str:
        return f"{self.outcome:<4}  {self.kind:<28} {self.shape:<9}  {self.detail}"


@dataclass
class Options:
    database: str  # the scratch database (must exist)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3).upper())
    admin: str = "ACCOUNTADMIN"
    spcs: bool = True
    service_image: str | None = None  # an image the account can run; else the run's Image is built and pushed
    build_images: bool = True

    @property
    def prefix(self) -> str:
        return f"SPCSIAC_{self.run_id}_"


def contract_stack(o: Options, variant: str, context: str) -> Stack:
    """One object of every kind; ``variant`` is base, altered (fields changed in place) or replaced."""
    alt, rep = variant in ("altered", "replaced"), variant == "replaced"
    p, admin = o.prefix, o.admin
    comment = "spcs-iac contract" + (" (altered)" if alt else "")
    stack = Stack(f"contract-{o.run_id.lower()}")
    role = stack.add(Role(name=f"{p}ROLE", comment=comment, owner=admin))
    stack.add(RoleGrant(role=role, to_role=admin, owner=admin))
    stack.add(Grant(to=role, on="ACCOUNT", owner=admin, grant_option=rep, privileges=[
        "CREATE DATABASE", "CREATE WAREHOUSE", "CREATE COMPUTE POOL", "BIND SERVICE ENDPOINT",
        *(["MONITOR USAGE"] if alt else [])]))
    stack.add(Grant(to=role, on=o.database, on_type="DATABASE", owner=admin, privileges=["USAGE", "CREATE SCHEMA"]))
    stack.add(Warehouse(name=f"{p}WH", warehouse_size="XSMALL", initially_suspended=True,
                        auto_suspend=120 if alt else 60, comment=comment, owner=role))
    stack.add(Database(name=f"{p}DB", comment=comment, owner=role))
    schema = stack.add(Schema(name=f"{p}SCHEMA", database=o.database, comment=comment, owner=role))
    where = {"database": o.database, "schema": schema, "owner": role}
    stack.add(Stage(name="STAGE", encryption="SNOWFLAKE_FULL" if rep else "SNOWFLAKE_SSE", directory_table=alt,
                    comment=comment, **where))
    secret = (Secret(name="SECRET", type="PASSWORD", username="u", password="p", **where) if rep else
              Secret(name="SECRET", type="GENERIC_STRING", secret_string="v2" if alt else "v1", **where))
    secret = stack.add(secret)
    rule = stack.add(NetworkRule(name="RULE", type="HOST_PORT", mode="EGRESS",
                                 value_list=["example.com:443", *(["api.example.com:443"] if alt else [])], **where))
    eai = stack.add(ExternalAccessIntegration(name=f"{p}EAI", allowed_network_rules=[rule], comment=comment,
                                              owner=admin))
    stack.add(Grant(to=role, on=eai, privileges=["USAGE"], owner=admin))
    repo = stack.add(ImageRepository(name="REPO", encryption="SNOWFLAKE_FULL" if rep else "SNOWFLAKE_SSE",
                                     comment=comment, **where))
    stack.add(Table(name="EVENTS", columns=[TableColumn(name="ID", datatype="NUMBER"),
                                            *([TableColumn(name="AT", datatype="TIMESTAMP_NTZ")] if alt else [])],
                    comment=comment, **where))
    if not o.spcs:
        return stack
    pool = stack.add(ComputePool(name=f"{p}POOL", instance_family="CPU_X64_XS", auto_suspend_secs=300,
                                 comment=comment, owner=role))
    image: Any = o.service_image
    if image is None:
        image = stack.add(Image(name="contract", tag="v1", repository=repo, context=context,
                                build_args={"VARIANT": "2"} if alt else {}))
    spec = ServiceSpec.model_validate({
        "spec": {"containers": [{"name": "main", "image": image, "env": {"VARIANT": variant}}],
                 "endpoints": [{"name": "api", "port": 8080}]},
        "serviceRoles": [{"name": "callers", "endpoints": ["api"]}]})
    svc = stack.add(Service(name="SVC", compute_pool=pool, spec=spec, min_instances=1, max_instances=2 if alt else 1,
                            external_access_integrations=[eai], comment=comment, **where))
    job_spec = ServiceSpec.model_validate({"spec": {"containers": [{"name": "main", "image": image,
                                                                     "env": {"VARIANT": variant}}]}})
    stack.add(JobService(name="JOB", compute_pool=pool, spec=job_spec, comment=comment, **where))
    stack.add(ServiceFunction(name="FN", service=svc, endpoint="api", path="/other" if rep else "/echo",
                              arguments=[FunctionArgument(name="x", datatype="VARCHAR")], returns="VARCHAR",
                              max_batch_rows=20 if alt else 10, comment=comment, **where))
    stack.add(ServiceRoleGrant(service=svc, service_role="CALLERS", to_role=role))
    return stack


class Contract:
    """Runs the five shapes in order on fresh providers from ``provider``; ``say`` prints each line."""

    def __init__(self, provider: Callable[[], Provider], options: Options, say: Callable[[str], None] = print,
                 image_tool_works: bool = True) -> None:
        self.provider = provider
        self.o = options
        self.say = say
        self.lines: list[Line] = []
        self.kinds = [k for k in KINDS if options.spcs or k not in SPCS_KINDS]
        if options.service_image is not None or not image_tool_works:
            self.kinds = [k for k in self.kinds if k != "image"]
            if options.spcs:
                self._skip("image", "no image is built: the services run --service-image" if options.service_image
                           else "no working image tool (Docker)")
        for kind in KINDS:
            if kind not in self.kinds and kind in SPCS_KINDS and not options.spcs:
                self._skip(kind, "starts compute: run with --spcs")

    def _skip(self, kind: str, why: str) -> None:
        for shape in SHAPES:
            self._line(kind, shape, "SKIP", why)

    def _line(self, kind: str, shape: str, outcome: str, detail: str = "") -> None:
        line = Line(kind, shape, outcome, detail)
        self.lines.append(line)
        self.say(line.render())

    @property
    def ok(self) -> bool:
        return all(line.outcome != "FAIL" for line in self.lines)

    def run(self) -> list[Line]:
        with tempfile.TemporaryDirectory(prefix="spcs-iac-contract-") as tmp:
            context = Path(tmp, "image")
            context.mkdir()
            (context / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /\n")
            state = str(Path(tmp, "state"))
            last = contract_stack(self.o, "base", str(context))
            try:
                self._apply_shape("create", last, state, Action.CREATE)
                self._read_back(last, state)
                altered = contract_stack(self.o, "altered", str(context))
                self._change("alter", altered, state, (Action.UPDATE,))
                last = altered
                replaced = contract_stack(self.o, "replaced", str(context))
                self._change("replace", replaced, state, (Action.REPLACE,))
                last = replaced
            except SpcsIacError as exc:
                self._line("(run)", "-", "FAIL", str(exc).splitlines()[0])
            finally:
                self._drop(last, state)
        return self.lines

    # ---- the shapes ---------------------------------------------------------------------------------
    def _plan(self, stack: Stack, state: str, **kw: Any) -> Plan:
        return api.plan(stack, target="snowflake", provider=self.provider(), state_dir=state, **kw)

    def _apply(self, stack: Stack, state: str, **kw: Any) -> Any:
        return api.apply(stack, target="snowflake", provider=self.provider(), state_dir=state, **kw)

    def _apply_shape(self, shape: str, stack: Stack, state: str, action: Action) -> None:
        p = self._plan(stack, state)
        result = self._apply(stack, state)
        for kind in self.kinds:
            changes = [c for c in p.actionable if c.kind == kind and c.action is action]
            failed = [f"{a}: {m.splitlines()[-1].strip()}" for a, m in result.failed.items() if a.startswith(kind + ".")]
            skipped = [str(a) for a in result.skipped if kind + "." in str(a)]
            if failed:
                self._line(kind, shape, "FAIL", failed[0])
            elif skipped:
                self._line(kind, shape, "FAIL", f"not run, a dependency failed: {skipped[0]}")
            elif not changes:
                self._line(kind, shape, "FAIL", "not planned")
            else:
                self._line(kind, shape, "PASS", _shape(kind, changes[0].statements))

    def _read_back(self, stack: Stack, state: str) -> None:
        p = self._plan(stack, state)
        for kind in self.kinds:
            left = [f"{c.address}: {', '.join(c.changed_fields) or c.action.value}" for c in p.actionable
                    if c.kind == kind]
            self._line(kind, "read back", "FAIL" if left else "PASS", left[0] if left else "0 changes")

    def _change(self, shape: str, stack: Stack, state: str, actions: tuple[Action, ...]) -> None:
        p = self._plan(stack, state)
        result = self._apply(stack, state)
        after = self._plan(stack, state)
        for kind in self.kinds:
            changes = [c for c in p.actionable if c.kind == kind and c.action in actions]
            failed = [m.splitlines()[-1].strip() for a, m in result.failed.items() if a.startswith(kind + ".")]
            left = [c.address for c in after.actionable if c.kind == kind]
            if not changes:
                self._line(kind, shape, "SKIP", _why_not(kind, actions[0]))
            elif failed or left:
                self._line(kind, shape, "FAIL", (failed or [f"not converged: {left[0]}"])[0])
            else:
                self._line(kind, shape, "PASS", _shape(kind, changes[0].statements))

    def _drop(self, stack: Stack, state: str) -> None:
        try:
            result = api.destroy(stack, target="snowflake", provider=self.provider(), state_dir=state)
            failed = dict(result.failed)
        except SpcsIacError as exc:
            failed = {"(destroy)": str(exc)}
        try:
            left = {c.kind for c in self._plan(stack, state).changes if c.action is not Action.CREATE}
        except SpcsIacError:
            left = set(self.kinds)  # cannot tell: sweep by name below
        for kind in self.kinds:
            problem = [m.splitlines()[-1].strip() for a, m in failed.items() if a.startswith(kind + ".")]
            if kind == "image":
                self._line(kind, "drop", "PASS" if not problem else "FAIL", "goes with its repository")
            elif problem or kind in left:
                self._line(kind, "drop", "FAIL", problem[0] if problem else "still there")
            else:
                self._line(kind, "drop", "PASS", "gone")
        if failed or left:
            self.sweep()

    def sweep(self) -> None:
        """Last resort: drop by name what carries the run's prefix or lives in its schema."""
        p = self.o.prefix
        statements = [f"DROP SERVICE IF EXISTS {ids.qualified(self.o.database, p + 'SCHEMA', 'SVC')} FORCE",
                      f"DROP SCHEMA IF EXISTS {ids.qualified(self.o.database, p + 'SCHEMA')}",
                      f"ALTER COMPUTE POOL IF EXISTS {p}POOL STOP ALL", f"DROP COMPUTE POOL IF EXISTS {p}POOL",
                      f"DROP INTEGRATION IF EXISTS {p}EAI", f"DROP WAREHOUSE IF EXISTS {p}WH",
                      f"DROP DATABASE IF EXISTS {p}DB", f"DROP ROLE IF EXISTS {p}ROLE"]
        provider = self.provider()
        run = getattr(provider, "_query", None)
        for sql in statements:
            try:
                if run is not None:
                    run(sql, self.o.admin)
            except SpcsIacError:
                continue


def _why_not(kind: str, action: Action) -> str:
    """Why the contract does not change a kind this way."""
    update = Update.ALTER if action is Action.UPDATE else Update.REPLACE
    decls = [d for d in kind_props(KINDS[kind]) if not d.prop.identity and d.name != "owner"]
    if not any(d.prop.update is update for d in decls) and not (
            action is Action.REPLACE and KINDS[kind].owner_change is Update.REPLACE):
        return "nothing of this kind " + ("changes in place" if update is Update.ALTER else "forces a replace")
    return "not exercised: it would replace what depends on it"


def _shape(kind: str, statements: list[str]) -> str:
    """The statement shapes a change ran, e.g. ``ALTER WAREHOUSE … SET`` or ``DROP STAGE + CREATE STAGE``."""
    typ = KINDS[kind].sql_type
    shapes: list[str] = []
    for s in statements:
        words = s.split()
        if not words or s.startswith(("USE ROLE", "--")):
            continue
        verb = words[0]
        if verb == "docker":
            shape = "docker build + push"
        elif verb in ("CREATE", "ALTER", "DROP"):
            clause = next((w for w in words[2:] if w in ("SET", "UNSET", "FROM", "ADD", "SUSPEND", "RESUME")), "")
            shape = f"{verb} {typ}" + (f" … {clause}" if clause and verb == "ALTER" else "")
        elif verb in ("GRANT", "REVOKE"):
            if words[1] in ("OWNERSHIP", "ROLE") or words[1:3] == ["SERVICE", "ROLE"]:
                shape = " ".join(words[:3] if words[1] == "SERVICE" else words[:2])
            else:
                on = words.index("ON") if "ON" in words else len(words) - 1
                shape = f"{verb} … ON {words[on + 1]}"
        else:
            shape = " ".join(words[:3])
        if shape not in shapes:
            shapes.append(shape)
    return " + ".join(shapes) or "(no statement)"
