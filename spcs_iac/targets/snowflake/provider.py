"""The Snowflake target: translates planned changes into SQL (and Docker pushes) and runs them.

Providers translate; they do not decide. The planner hands over changes with actions and changed
fields; this module asks :mod:`.statements` for the steps, runs them in one borrowed session under
the object's owner role (``USE ROLE`` only when it differs), waits where Snowflake is asynchronous,
and reports what Snowflake assigned (repository URLs, DNS names, ingress URLs, image digests).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spcs_iac.errors import Issue, ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource
from spcs_iac.model.validate import named_references
from spcs_iac.plan.model import Action, Change
from spcs_iac.plan.target import ApplyContext, Observed, Provider, ReadRequest
from spcs_iac.targets.images import DockerImages, ImageTool
from spcs_iac.targets.snowflake import references, runtime, timeouts
from spcs_iac.targets.snowflake.adapters import ADAPTERS
from spcs_iac.targets.snowflake.connection import Db, Session, _short
from spcs_iac.targets.snowflake.contents import unmanaged_contents
from spcs_iac.targets.snowflake.images import SnowflakeImages, registry_auth
from spcs_iac.targets.snowflake.params import resolve_params
from spcs_iac.targets.snowflake.read import Reader
from spcs_iac.targets.snowflake.sql import Step, Stmt, Upload, Wait, ident, literal, marking, owner_role
from spcs_iac.targets.snowflake.statements import (
    change_steps,
    create_steps,
    delete_steps,
    update_steps,
    with_role_switches,
)

# Options the provider itself takes; everything else is a snowflake.connector parameter.
PROVIDER_OPTIONS = ("image_tool", "ready_timeout", "pool_timeout", "log_lines", "max_sessions",
                    "read_parallelism", "registry_username", "registry_password", "check_names")


class SnowflakeProvider(Provider):
    target = "snowflake"

    def __init__(self, stack_name: str = "", state_dir: str | None = None, connect: bool = True,
                 connection: str | None = None, **connection_options: Any) -> None:
        opts = {k: connection_options.pop(k) for k in PROVIDER_OPTIONS if k in connection_options}
        self.stack_name = stack_name
        self.state_dir = state_dir
        try:
            params = resolve_params(connection, connection_options)
        except ProviderError:
            if connect:
                raise
            params = dict(connection_options)  # planning without a connection needs no configuration
        self.ready_timeout = float(opts.get("ready_timeout", 900.0))
        self.pool_timeout = float(opts.get("pool_timeout", 600.0))
        self.log_lines = int(opts.get("log_lines", 50))
        # Sessions grow with apply's parallelism (prepare_apply) unless their number is given.
        self._sessions_given = "max_sessions" in opts
        self.db = Db(params, allowed=connect, max_sessions=int(opts.get("max_sessions", 8)),
                     read_parallelism=int(opts.get("read_parallelism", 4)))
        auth_params = {**params, **{k: opts[k] for k in ("registry_username", "registry_password") if k in opts}}
        tool: ImageTool = opts.get("image_tool") or DockerImages()
        self.images = SnowflakeImages(self.db, tool, registry_auth(auth_params))
        self.reader = Reader(self.db, self.images)
        self._display_role: str | None = self.db.default_role
        # Look up what declared objects name without declaring (one SHOW per kind, in the first batch); a
        # driver reading one object at a time (Pulumi) turns it off: the lookup would cost it a batch each.
        self.checks_names = bool(opts.get("check_names", True))
        self._unresolved: dict[str, list[Issue]] = {}

    # ---- counters -----------------------------------------------------------------------------------
    @property
    def query_count(self) -> int:
        """Statements sent to Snowflake by this provider (USE ROLE and polling included)."""
        return self.db.count

    @property
    def query_log(self) -> list[str]:
        return list(self.db.log)

    # ---- reading --------------------------------------------------------------------------------------
    def read(self, requests: list[ReadRequest]) -> dict[str, Observed]:
        self.db.forget_reads()  # a read starts a run: never answer it from an earlier run's cache
        declared = [r.resource for r in requests if r.resource is not None]
        refs = named_references(declared) if self.checks_names else []
        observed = self.reader.read(requests, also=references.shows_for(refs))
        self._unresolved = references.missing(refs, self.db.query)  # answered by the batch's cached rows
        for address, issues in references.default_owner_issues(declared, self.db.default_role).items():
            self._unresolved.setdefault(address, []).extend(issues)
        self._display_role = self.db.default_role
        return observed

    def unresolved(self) -> Mapping[str, list[Issue]]:
        return self._unresolved

    @staticmethod
    def _outputs(ctx: ApplyContext) -> dict[str, Mapping[str, Any]]:
        """Outputs to render specs with: the plan's known outputs, updated by this apply's."""
        return dict(ctx.outputs)

    # ---- the plan ---------------------------------------------------------------------------------------
    def statements(self, change: Change, outputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
        adapter = ADAPTERS.get(change.kind)  # an unknown kind fails in change_steps, with its address
        if adapter is not None and not adapter.sql:  # an image: built and pushed with Docker
            if change.action is Action.DELETE or change.resource is None:
                return ["-- images cannot be deleted one by one: they go with their repository"]
            url = self.images.repository_url(change.resource, outputs,  # type: ignore[arg-type]
                                             self.reader.repositories, fetch=False)
            if change.action is Action.IMPORT and not change.fields:
                return []
            return self.images.display(change.resource, url)  # type: ignore[arg-type]
        with marking(self.stack_name):  # what apply will run: comments carry the stack marker
            steps = change_steps(change, dict(outputs))
        steps, self._display_role = with_role_switches(steps, self._display_role, self.db.default_role)
        return [s.render(display=True) for s in steps]

    def contents(self, change: Change, managed: Mapping[str, Resource | None]) -> list[str]:
        if change.kind not in ("database", "schema", "stage") or not self.db.allowed:
            return []
        return unmanaged_contents(self.db, change.kind, change.name, managed)

    # ---- applying ---------------------------------------------------------------------------------------
    def create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        r = _resource(change)
        if not ADAPTERS[r.kind].sql:
            return self._push(r, ctx)
        with marking(self.stack_name):  # every comment it writes says which stack made it
            steps = create_steps(r, self._outputs(ctx))
        return self._apply(steps, ctx, after=r)

    def update(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        r = _resource(change)
        if not ADAPTERS[r.kind].sql:
            return self._push(r, ctx)
        outputs = self._outputs(ctx)
        with marking(self.stack_name):
            steps = update_steps(change, outputs)
        refresh = change.action is Action.IMPORT or "spec" in change.changed_fields
        return self._apply(steps, ctx, after=r if refresh else None)

    def delete(self, change: Change, ctx: ApplyContext) -> None:
        self._apply(delete_steps(change), ctx)

    def prepare_apply(self, parallelism: int, changes: Sequence[Change] = ()) -> None:
        # Each operation holds a session: none should wait for another's. Up to twice as many let the
        # owner roles keep sessions of their own (a session that changes role costs a USE ROLE round trip).
        if not self._sessions_given:
            self.db.allow_sessions(2 * parallelism)
        if self.db.allowed:
            for role, count in sessions_by_role(changes, parallelism, self.db.default_role).items():
                self.db.log_in_ahead_as(role, count)

    def warm_up(self, count: int) -> None:
        if self.db.allowed:
            self.prepare_apply(count)
            self.db.log_in_ahead(count)

    def _apply(self, steps: list[Step], ctx: ApplyContext, after: Resource | None = None) -> dict[str, Any]:
        if not steps and after is None:
            return {}  # nothing to run (an adopted object without differences, an image delete)
        # A session already under the first statement's role saves the operation a USE ROLE round trip.
        with self.db.session(steps[0].role if steps else owner_role(after) if after else None) as sess:
            for step in steps:
                if isinstance(step, Wait):
                    ctx.say("    " + step.render())
                    runtime.wait(self.db, sess, step, ready_timeout=self.ready_timeout,
                                 pool_timeout=self.pool_timeout, log_lines=self.log_lines)
                    continue
                if isinstance(step, Upload):
                    ctx.say("    " + step.render())
                    with tempfile.TemporaryDirectory(prefix="spcs-iac-spec-") as local:
                        Path(local, step.path.rpartition("/")[2]).write_text(step.content, encoding="utf-8")
                        self._run(sess, step.statement(local))
                    continue
                ctx.say("    " + _short(step.render(display=True), 300))
                self._run(sess, step)
            return runtime.outputs_after(self.db, sess, after) if after is not None else {}

    def _run(self, sess: Session, step: Stmt) -> None:
        try:
            self.db.run(sess, step, rows=False)
        except timeouts.NoAnswer:
            raise  # no job logs to fetch from an account that does not answer
        except ProviderError as exc:
            if step.parts and step.parts[0] == "EXECUTE JOB SERVICE" and "NAME =" in step.parts:
                fqn = str(step.parts[step.parts.index("NAME =") + 1])
                raise runtime.job_failure(self.db, sess, fqn, step.role, "FAILED", self.log_lines,
                                          str(exc).splitlines()[-1].strip()) from None
            raise

    def _push(self, image: Resource, ctx: ApplyContext) -> dict[str, Any]:
        url = self.images.repository_url(image, self._outputs(ctx), self.reader.repositories)  # type: ignore[arg-type]
        if not url:
            raise ProviderError(f"{image.describe()}: repository {image.repository_fqn} has no repository_url; "  # type: ignore[attr-defined]
                                "does it exist, and may the connection's role see it?")
        ctx.say(f"    docker build + push {url}/{image.name}:{image.tag}")  # type: ignore[attr-defined]
        return self.images.create(image, url, ctx.log)  # type: ignore[arg-type]

    def close(self) -> None:
        self.db.close()

    def state_sql(self) -> Any:
        """SQL on this connection for a state kept in the account (``snowflake://DATABASE.SCHEMA``)."""
        from spcs_iac.targets.snowflake.state_sql import ConnectionSql

        return ConnectionSql(self.db)

    # ---- operations used by the CLI -----------------------------------------------------------------------
    def _query(self, sql: str, role: str | None = None) -> list[dict[str, Any]]:
        with self.db.session() as sess:
            return self.db.run(sess, Stmt((sql,), _role(role)))

    def status(self, fqn: str | Resource, role: str | None = None) -> list[dict[str, Any]]:
        """One row per (instance, container): status, message, image, restarts."""
        return self._query(f"SHOW SERVICE CONTAINERS IN SERVICE {_name(fqn)}", role)

    def endpoints(self, fqn: str | Resource, role: str | None = None) -> list[dict[str, Any]]:
        return self._query(f"SHOW ENDPOINTS IN SERVICE {_name(fqn)}", role)

    def logs(self, fqn: str | Resource, container: str | None = None, instance: int = 0, lines: int = 100,
             role: str | None = None) -> str:
        name = _name(fqn)
        with self.db.session() as sess:
            if container is None:
                rows = self.db.run(sess, Stmt((f"SHOW SERVICE CONTAINERS IN SERVICE {name}",), _role(role)))
                if not rows:
                    raise ProviderError(f"service {name} has no running containers")
                container = str(rows[0].get("container_name"))
            return runtime.service_logs(self.db, sess, name, container, instance, lines, _role(role))

    def suspend(self, kind: str, fqn: str | Resource, role: str | None = None) -> None:
        self._query(f"ALTER {_suspendable(kind)} {_name(fqn)} SUSPEND", role)

    def resume(self, kind: str, fqn: str | Resource, role: str | None = None) -> None:
        self._query(f"ALTER {_suspendable(kind)} {_name(fqn)} RESUME", role)

    def sql(self, text: str, database: str | None = None, schema: str | None = None) -> list[dict[str, Any]]:
        """Run SQL through the connector as it is (``spcs-iac sql``; see query.py)."""
        from spcs_iac.targets.snowflake.query import run_sql

        return run_sql(self, text, database, schema)

    def call_function(self, fqn: str | Resource, rows: list[list[Any]], role: str | None = None) -> list[Any]:
        """One result per row of arguments: ``SELECT fqn(arg, ...)`` with escaped literals."""
        if isinstance(fqn, Resource):
            fqn = ids.qualified(*fqn.name_parts())
        out = []
        for args in rows:
            found = self._query(f"SELECT {ident(fqn)}({', '.join(literal(a) for a in args)})", role)
            out.append(next(iter(found[0].values())) if found else None)
        return out


def _resource(change: Change) -> Resource:
    if change.resource is None:
        raise ProviderError(f"{change.address}: nothing to apply (no declared object)")
    return change.resource


def _name(fqn: str | Resource) -> str:
    return ids.qualified(*fqn.name_parts()) if isinstance(fqn, Resource) else ident(fqn)


def _role(role: str | None) -> str | None:
    return ids.quote(ids.normalize(role)) if role else None


def _suspendable(kind: str) -> str:
    adapter = ADAPTERS.get(kind.lower().replace(" ", "_"))
    if adapter is None or not adapter.suspendable:
        allowed = ", ".join(k for k, a in ADAPTERS.items() if a.suspendable)
        raise ProviderError(f"cannot suspend or resume a {kind}; allowed: {allowed}")
    return adapter.cls.sql_type


def sessions_by_role(changes: Sequence[Change], parallelism: int, default_role: str | None) -> dict[str, int]:
    """How many sessions to log in ahead under each role the operations create or change objects as, in
    proportion to its share of them (at least one each). Not the default role (the pool's own sessions
    use it), nor a role this apply creates (no login can use it yet; sessions lent later log in under it)."""
    made = {ids.quote(c.resource.name) for c in changes
            if c.kind == "role" and c.resource is not None and c.action in (Action.CREATE, Action.REPLACE)}
    owners = Counter(owner_role(c.resource) for c in changes
                     if c.resource is not None and c.action in (Action.CREATE, Action.REPLACE, Action.UPDATE))
    total = sum(owners.values())
    return {role: max(1, round(parallelism * n / total)) for role, n in owners.items()
            if role is not None and role != default_role and role not in made}

