"""One stack file, two environments in one account: each plans and destroys only its own objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import cli as memory_cli
from tests.cli.test_cli_snowflake import cli, emulator_env  # noqa: F401  (fixture)
from tests.support.hand import hand_connection

STACK = """
from pydantic import BaseModel

from spcs_iac import Database, Stack, Warehouse, environment


class Config(BaseModel):
    warehouse_size: str
    auto_suspend: int


env = environment()
cfg = env.config(Config)
stack = Stack("app")
stack.add(Warehouse(name=env.named("APP_WH"), warehouse_size=cfg.warehouse_size, auto_suspend=cfg.auto_suspend,
                    owner="ACCOUNTADMIN"))
stack.add(Database(name=env.named("APP_DB"), comment=env.get("comment", str, default=None), owner="ACCOUNTADMIN"))
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(STACK)
    (tmp_path / "app.dev.yaml").write_text("prefix: DEV_\nwarehouse_size: XSMALL\nauto_suspend: 60\n")
    (tmp_path / "app.prod.yaml").write_text("prefix: PROD_\nwarehouse_size: SMALL\nauto_suspend: 300\n"
                                            "comment: production\n")
    return tmp_path / "app.py"


def test_two_environments_in_one_account_never_touch_each_other(app: Path, emulator_env) -> None:  # noqa: F811
    env = emulator_env
    for name in ("dev", "prod"):
        r = cli(env, "--env", name, "apply", str(app), "-t", "snowflake", "--yes")
        assert r.returncode == 0, r.stdout + r.stderr
    r = cli(env, "--env", "dev", "plan", str(app), "-t", "snowflake", "--detailed-exitcode")
    assert r.returncode == 0 and "PROD_" not in r.stdout, r.stdout
    r = cli(dict(env, SPCS_IAC_ENV="prod"), "state", "list", str(app), "-t", "snowflake")
    assert "warehouse.PROD_APP_WH" in r.stdout and "DEV_" not in r.stdout
    (app.parent / "app.dev.yaml").write_text("prefix: DEV_\nwarehouse_size: MEDIUM\nauto_suspend: 60\n")
    r = cli(env, "--env", "dev", "plan", str(app), "-t", "snowflake")
    assert "~ warehouse.DEV_APP_WH" in r.stdout and "PROD_" not in r.stdout, r.stdout
    r = cli(env, "--env", "dev", "destroy", str(app), "-t", "snowflake", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(env, "--env", "prod", "plan", str(app), "-t", "snowflake", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout  # prod is all there, unchanged
    with hand_connection(env["SNOWFLAKE_PORT"]) as con:
        names = {row[0] for row in con.cursor().execute("SHOW WAREHOUSES").fetchall()}
    assert "PROD_APP_WH" in names and "DEV_APP_WH" not in names


def test_each_environment_has_its_own_state(app: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    for name in ("dev", "prod"):
        r = memory_cli("--env", name, "apply", str(app), "-t", "memory", "--yes", state=state)
        assert r.returncode == 0, r.stderr
    assert {p.name for p in state.glob("app.*.memory.json")} == {"app.dev.memory.json", "app.prod.memory.json"}


@pytest.mark.parametrize(("config", "message"), [
    ("warehouse_size: XSMALL\n", "auto_suspend: Field required"),
    ("warehouse_size: XSMALL\nauto_suspend: soon\n", "auto_suspend: Input should be a valid integer"),
    ("warehouse_size: XSMALL\nauto_suspend: 60\ncomment: 7\n", "comment: expected a str, given 7"),
    ("- a list\n", "expected a mapping of keys to values"),
])
def test_a_bad_config_names_the_file_the_key_and_what_is_expected(app: Path, tmp_path: Path, config: str,
                                                                   message: str) -> None:
    (app.parent / "app.dev.yaml").write_text(config)
    r = memory_cli("--env", "dev", "validate", str(app), state=tmp_path / "state")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    text = " ".join(r.stderr.split())
    assert str(app.parent / "app.dev.yaml") in text and message in text, text


def test_an_unknown_environment_lists_the_ones_there_are(app: Path, tmp_path: Path) -> None:
    r = memory_cli("--env", "staging", "validate", str(app), state=tmp_path)
    assert r.returncode == 1
    text = " ".join(r.stderr.split())
    assert "no config file" in text and "app.dev.yaml, app.prod.yaml" in text, text
