"""The provider's sessions and round trips during an apply, through the real connector against the emulator:
the pool grows to the apply's parallelism, an operation takes the first session free, a session already
under the operation's role saves its USE ROLE, and only services with public endpoints read them back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from spcs_iac import ComputePool, Database, Grant, Role, RoleGrant, Service, Stack, Warehouse
from spcs_iac.drivers import api
from spcs_iac.targets.snowflake.connection import EXTRA_LOGINS_AT_ONCE, _connect
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from spcs_iac.targets.snowflake.sql import Stmt
from tests.snowflake.support import spec

Factory = Callable[..., SnowflakeProvider]


def _borrow_all(p: SnowflakeProvider, count: int) -> list[Any]:
    """Borrow ``count`` sessions at once (in a thread: a pool too small would wait forever)."""
    got: list[Any] = []
    stack = ExitStack()

    def borrow() -> None:
        for _ in range(count):
            got.append(stack.enter_context(p.db.session()))

    worker = threading.Thread(target=borrow, daemon=True)
    worker.start()
    worker.join(timeout=60)
    stuck = worker.is_alive()
    if not stuck:
        stack.close()
    assert not stuck, f"only {len(got)} of {count} sessions could be borrowed at once"
    return got


def test_the_session_pool_grows_to_the_apply_parallelism(emu: Any, provider: Factory) -> None:
    p = provider()
    p.prepare_apply(12)
    assert len({id(s) for s in _borrow_all(p, 12)}) == 12


def test_a_session_count_given_by_the_user_is_kept(emu: Any, provider: Factory) -> None:
    p = provider(max_sessions=2)
    p.prepare_apply(12)
    assert p.db.max_sessions == 2


def test_an_operation_takes_the_first_session_free_rather_than_wait_for_its_own_login(emu: Any,
                                                                                    provider: Factory) -> None:
    p = provider()
    with p.db.session() as first:
        pass  # logged in, now idle
    emu.emulator.inject(latency_ms=300)  # a login now takes longer than handing a session over
    got: list[Any] = []
    with p.db.session() as held:
        assert held is first
        taker = threading.Thread(target=lambda: got.append(p.db._borrow()), daemon=True)
        taker.start()  # finds no idle session: logs one in, and waits for whichever is free first
    taker.join(timeout=30)
    emu.emulator.inject(latency_ms=0)
    assert got == [first]


def test_an_idle_session_under_the_wanted_role_is_lent_first(emu: Any, provider: Factory) -> None:
    admin = emu.emulator.login("setup")
    emu.emulator.execute(admin, "CREATE ROLE OPS_ROLE")
    emu.emulator.execute(admin, "GRANT ROLE OPS_ROLE TO ROLE ACCOUNTADMIN")
    p = provider()
    with p.db.session() as a, p.db.session() as b:
        p.db.use_role(a, '"OPS_ROLE"')
    # b went back last: a plain borrow gets it; one for OPS_ROLE gets a, which needs no USE ROLE.
    before = p.db.count
    with p.db.session('"OPS_ROLE"') as sess:
        assert sess is a
        p.db.run(sess, Stmt(("SELECT CURRENT_ROLE()",), '"OPS_ROLE"'))
    assert p.db.count == before + 1
    with p.db.session() as sess:
        assert sess is b


def test_a_session_lent_under_another_role_brings_one_more_logged_in_under_that_role(emu: Any,
                                                                                    provider: Factory) -> None:
    admin = emu.emulator.login("setup")
    emu.emulator.execute(admin, "CREATE ROLE OPS_ROLE")
    emu.emulator.execute(admin, "GRANT ROLE OPS_ROLE TO ROLE ACCOUNTADMIN")
    p = provider()
    p.prepare_apply(2)
    with p.db.session() as first:
        pass
    with p.db.session('"OPS_ROLE"') as lent:  # the only idle session: lent at once, and a login starts
        assert lent is first
        p.db.use_role(lent, '"OPS_ROLE"')
    with p.db._lock:
        p.db._lock.wait_for(lambda: len(p.db._idle) == 2, timeout=30)
    before = p.db.count
    with p.db.session('"OPS_ROLE"') as one, p.db.session('"OPS_ROLE"') as two:
        assert {one.role, two.role} == {'"OPS_ROLE"'}
        roles = [p.db.run(s, Stmt(("SELECT CURRENT_ROLE() AS r",), '"OPS_ROLE"'))[0]["r"] for s in (one, two)]
    assert roles == ["OPS_ROLE", "OPS_ROLE"]
    assert p.db.count == before + 2  # neither needed a USE ROLE: the new session logged in under the role
    with p.db.session() as back:  # the default role is still the pool's: a session under it switches back
        assert back.default_role == p.db.default_role == "ACCOUNTADMIN"


def test_several_sessions_lent_under_another_role_each_bring_one_more(emu: Any, provider: Factory) -> None:
    admin = emu.emulator.login("setup")
    emu.emulator.execute(admin, "CREATE ROLE OPS_ROLE")
    emu.emulator.execute(admin, "GRANT ROLE OPS_ROLE TO ROLE ACCOUNTADMIN")
    p = provider()
    p.prepare_apply(6)  # up to 12 sessions
    _borrow_all(p, 6)  # six sessions under the default role, idle
    emu.emulator.inject(latency_ms=300)  # logins under way stay under way while the six are lent
    with ExitStack() as lent:
        for _ in range(6):
            lent.enter_context(p.db.session('"OPS_ROLE"'))
        with p.db._lock:
            pending = sum(1 for s in p.db._all if s.conn is None)
        # A login for each lend, not one at a time; but no more than a few at once.
        assert pending == EXTRA_LOGINS_AT_ONCE == 4
    emu.emulator.inject(latency_ms=0)
    with p.db._lock:
        p.db._lock.wait_for(lambda: len(p.db._idle) == 10, timeout=30)
        assert sorted(str(s.role) for s in p.db._all) == ['"OPS_ROLE"'] * 4 + ["ACCOUNTADMIN"] * 6


def test_a_login_refused_under_a_role_logs_in_under_the_default_one(emu: Any, provider: Factory) -> None:
    p = provider()
    with p.db.session():
        pass  # the default role is known
    sess = p.db._connect_as('"DROPPED_MEANWHILE"')
    try:
        assert sess.role == sess.default_role == "ACCOUNTADMIN"
    finally:
        sess.conn.close()


def test_a_session_logs_in_under_a_quoted_role_name_as_written(emu: Any, provider: Factory) -> None:
    admin = emu.emulator.login("setup")
    emu.emulator.execute(admin, 'CREATE ROLE "Ops Role"')
    emu.emulator.execute(admin, 'GRANT ROLE "Ops Role" TO ROLE ACCOUNTADMIN')
    p = provider()
    with p.db.session():
        pass  # the default role is known
    sess = p.db._connect_as('"Ops Role"')
    try:
        assert sess.role == '"Ops Role"' and sess.default_role == "ACCOUNTADMIN"
        assert p.db._execute(sess, Stmt(("SELECT CURRENT_ROLE() AS r",)))[0]["r"] == "Ops Role"
    finally:
        sess.conn.close()


def test_an_apply_logs_its_sessions_in_while_it_plans(emu: Any, provider: Factory, tmp_path: Path) -> None:
    s = Stack("warm")
    for i in range(6):
        s.add(Role(name=f"WARM_{i}"))
    p = provider()
    emu.emulator.inject(latency_ms=100)
    logins_then: list[int] = []
    run = p.db._execute

    def execute(sess: Any, stmt: Stmt, **options: Any) -> Any:
        if stmt.mutating and not logins_then:
            logins_then.append(emu.emulator.stats()["round_trips_by_kind"].get("login", 0))
        return run(sess, stmt, **options)

    p.db._execute = execute  # type: ignore[method-assign]
    emu.emulator.reset_stats()
    result = api.apply(s, "snowflake", provider=p, state_dir=str(tmp_path), parallelism=6)
    emu.emulator.inject(latency_ms=0)
    assert result.ok, result.failed
    # The six operations' sessions were logged in during the plan, not one by one as operations began.
    assert logins_then and logins_then[0] >= 6, logins_then


def _service_stack(public: bool) -> Stack:
    s = Stack("endpoints")
    owner = s.add(Role(name="SVC_OWNER"))
    s.add(RoleGrant(role=owner, to_role="ACCOUNTADMIN"))
    s.add(Grant(to=owner, on="ACCOUNT", privileges=["CREATE DATABASE", "CREATE COMPUTE POOL",
                                                    "BIND SERVICE ENDPOINT"]))
    db = s.add(Database(name="EP_DB", owner=owner))
    pool = s.add(ComputePool(name="EP_POOL", instance_family="CPU_X64_XS", max_nodes=1, owner=owner))
    s.add(Service(name="EP_SVC", database=db, compute_pool=pool, owner=owner,
                  spec=spec("registry.example.com/app:1", public=public)))
    return s


def test_only_a_service_with_a_public_endpoint_reads_its_endpoints_back(emu: Any, provider: Factory,
                                                                        tmp_path: Path) -> None:
    for public in (False, True):
        emu.emulator.reset()
        emu.emulator.inject(ready_delay_s=0.0)
        state = tmp_path / str(public)
        result = api.apply(_service_stack(public), "snowflake", provider=provider(), state_dir=str(state))
        assert result.ok, result.failed
        sent = [s for s in emu.emulator.stats()["statements"] if s.upper().startswith("SHOW ENDPOINTS")]
        outputs = api.plan(_service_stack(public), "snowflake", provider=provider(),
                           state_dir=str(state)).outputs["service.EP_DB.PUBLIC.EP_SVC"]
        if public:
            assert len(sent) == 1 and outputs["endpoints"]["api"].endswith(".snowflakecomputing.app"), outputs
        else:
            assert sent == [] and "endpoints" not in outputs, (sent, outputs)


def test_close_waits_for_a_session_still_logging_in_and_logs_it_out(emu: Any, provider: Factory) -> None:
    # A session lent under another role starts one more login in the background. Closing right after must
    # not leave that login running: its session would outlive close() and be left to the connector's
    # exit-time cleanup when the process ends.
    admin = emu.emulator.login("setup")
    emu.emulator.execute(admin, "CREATE ROLE OPS_ROLE")
    emu.emulator.execute(admin, "GRANT ROLE OPS_ROLE TO ROLE ACCOUNTADMIN")
    before = set(emu.emulator.sessions)
    p = provider()
    p.prepare_apply(2)
    with p.db.session() as first:
        pass
    emu.emulator.inject(latency_ms=400)  # the background login takes a while
    with p.db.session('"OPS_ROLE"') as lent:
        assert lent is first
    p.db.close()
    emu.emulator.inject(latency_ms=0)
    assert not [t for t in threading.enumerate() if t.name == "snowflake-login" and t.is_alive()]
    assert set(emu.emulator.sessions) == before  # every session the provider opened was logged out


def test_sessions_send_no_api_usage_telemetry_although_the_account_allows_it(emu: Any) -> None:
    # The emulator's login answer enables CLIENT_TELEMETRY_ENABLED, as Snowflake's does; the connector would
    # then record every call it serves (a signature bind and a parameter read per call).
    conn = _connect(emu.connection_params())
    try:
        assert conn._server_param_telemetry_enabled()  # the account allows it ...
        assert conn.telemetry_enabled is False  # ... and the session does not use it
    finally:
        conn.close()


class _FetchSpy:
    """A connection whose cursors record which statements had their rows fetched."""

    def __init__(self, conn: Any, fetched: list[str], executed: list[str]) -> None:
        self._conn, self._fetched, self._executed = conn, fetched, executed
        self.role = conn.role

    def cursor(self) -> Any:
        spy = self
        real = self._conn.cursor()

        class Cursor:
            sql = ""

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def execute(self, sql: str, **options: Any) -> Any:
                self.sql = sql
                spy._executed.append(sql)
                return real.execute(sql, **options)

            def fetchall(self) -> Any:
                spy._fetched.append(self.sql)
                return real.fetchall()

        return Cursor()

    def close(self) -> None:
        self._conn.close()


def test_an_apply_fetches_the_rows_of_its_reads_only(emu: Any, provider: Factory, tmp_path: Path) -> None:
    fetched: list[str] = []
    executed: list[str] = []
    p = provider()
    p.db._connect = lambda params: _FetchSpy(_connect(params), fetched, executed)  # type: ignore[method-assign]
    s = Stack("fetch")
    owner = s.add(Role(name="FETCH_OWNER"))
    s.add(RoleGrant(role=owner, to_role="SYSADMIN"))
    s.add(Grant(to=owner, on="ACCOUNT", privileges=["CREATE DATABASE"]))
    s.add(Database(name="FETCH_DB", owner=owner))
    result = api.apply(s, "snowflake", provider=p, state_dir=str(tmp_path), parallelism=2)
    assert result.ok, result.failed
    changes = [sql for sql in executed if sql.split()[0] in ("CREATE", "GRANT", "USE")]
    assert changes and not set(changes) & set(fetched), (changes, fetched)
    assert any(sql.startswith("SHOW") for sql in fetched), fetched  # the plan's reads still read rows


def test_an_apply_logs_sessions_in_under_the_existing_roles_its_objects_belong_to(emu: Any, provider: Factory,
                                                                                  tmp_path: Path) -> None:
    admin = emu.emulator.login("setup")
    for sql in ("CREATE ROLE WH_OWNER", "GRANT ROLE WH_OWNER TO ROLE ACCOUNTADMIN",
                "GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE WH_OWNER"):
        emu.emulator.execute(admin, sql)
    s = Stack("by_role")
    for i in range(3):  # the pool (twice the parallelism) has room for their sessions beside the plan's
        s.add(Warehouse(name=f"BY_ROLE_{i}", owner="WH_OWNER", warehouse_size="XSMALL", initially_suspended=True))
    p = provider()

    def confirm(plan: Any) -> bool:  # as the CLI shows the plan: the sessions log in meanwhile
        with p.db._lock:
            return p.db._lock.wait_for(lambda: all(s.conn is not None for s in p.db._all), timeout=30)

    result = api.apply(s, "snowflake", provider=p, state_dir=str(tmp_path), parallelism=4, confirm=confirm)
    assert result.ok, result.failed
    creates = [sql for sql in p.db.log if sql.startswith("CREATE WAREHOUSE")]
    assert len(creates) == 3
    # The three operations ran as WH_OWNER on sessions logged in under it while the plan was shown.
    assert not [sql for sql in p.db.log if sql.startswith("USE ROLE")], p.db.log
