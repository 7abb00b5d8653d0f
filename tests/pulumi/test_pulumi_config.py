"""The provider's configuration is checked at preview (CheckConfig): an unknown target, connection options
that are not a JSON object, a flag that is neither true nor false, each refused in one line naming the key,
the value and what is allowed. Real Pulumi CLI and provider plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spcs_emulator.testing import running_emulator
from tests.pulumi.conftest import on_emulator

pytestmark = [pytest.mark.pulumi]

PROGRAM = """
import spcs_iac.pulumi as spcs

spcs.Database("db", name="CFG_DB")
"""


def refused(p) -> str:
    """The provider's line saying what is wrong (Pulumi's Python SDK adds the program's traceback of the
    registration the engine cancelled: its own, as for any provider whose configuration is refused)."""
    proc = p.run("preview", check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0, said
    [line] = {line.split("has a problem: ", 1)[1].strip() for line in said.splitlines()
              if "has a problem: provider configuration" in line}
    return line


def test_a_bad_configuration_is_refused_at_preview(pulumi_project) -> None:
    p = pulumi_project(program=PROGRAM, target="snowflak")
    said = refused(p)
    assert said == "provider configuration spcs-iac:target 'snowflak' is not a known target; allowed: local, " \
                   "snowflake, memory"

    p.config("spcs-iac:target", "snowflake")
    p.config("spcs-iac:snowflake", '{"account": "emu", ')
    said = refused(p)
    assert said.startswith("provider configuration spcs-iac:snowflake must be a JSON object of Snowflake "
                           "connection options (account, user, host, ...): "), said
    assert "emu" not in said  # the text is not repeated: it may hold a password

    p.run("config", "rm", "spcs-iac:snowflake")
    p.config("spcs-iac:destroyAdopted", "yes")
    said = refused(p)
    assert said == "provider configuration spcs-iac:destroyAdopted must be true or false, got 'yes'"

    p.config("spcs-iac:target", "memory")
    p.config("spcs-iac:destroyAdopted", "false")
    assert p.preview() == {"create": ["db"]}


LOCAL = """
import spcs_iac.pulumi as spcs

spcs.Role("role", name="MV_ROLE")
spcs.Database("db", name="MV_DB")
"""


def failed_line(p, needle: str) -> str:
    proc = p.run("preview", check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0, said
    lines = {line[line.index(needle):].strip() for line in said.splitlines() if needle in line}
    assert len(lines) == 1, said
    return lines.pop()


def test_the_local_state_directory_of_a_stack_moves_only_with_its_data(tmp_path, pulumi_project) -> None:
    """Local objects are records and Docker objects named by stack: another directory under the same stack
    name cannot hold them again beside the old ones, so it is refused, unless the directory moved there."""
    p = pulumi_project(program=LOCAL, target="local")
    p.up()  # records only: nothing runs on Docker
    other = tmp_path / "other"
    p.config("spcs-iac:stateDir", str(other))
    line = failed_line(p, "provider configuration spcs-iac:stateDir")
    assert line == (f"provider configuration spcs-iac:stateDir: moving stack 'test' from {p.state_dir} to {other} "
                    "cannot make its objects again there (the local target names containers and networks by stack, "
                    "not directory); move the directory itself, set spcs-iac:stateDir back, or give spcs-iac:stack a "
                    "new name as well (every resource is then replaced)")

    p.state_dir.rename(other)  # moved: the objects are where the provider now points
    assert set(p.preview()) <= {"same"}
    p.up()

    p.config("spcs-iac:stack", "renamed")  # another stack: every resource is made again under the new name
    assert sorted(p.preview()["replace"]) == ["db", "role"]
    p.up()
    catalogs = {path.name: json.loads(path.read_text())["objects"] for path in (other / "local").glob("catalog-*.json")}
    assert {"database.MV_DB", "role.MV_ROLE"} <= set(catalogs["catalog-renamed.json"])
    assert not catalogs.get("catalog-test.json")


ACCOUNT = """
import spcs_iac.pulumi as spcs

spcs.Database("db", name="ACC_DB")
"""


@pytest.fixture
def emulator():
    with running_emulator(ready_delay_s=0.05) as emu:
        yield emu


def test_another_account_replaces_and_the_same_one_reached_otherwise_does_not(
        tmp_path, pulumi_project, emulator, monkeypatch) -> None:
    p = pulumi_project(program=ACCOUNT, target="snowflake")
    on_emulator(p, emulator, monkeypatch, tmp_path)
    p.up()
    p.run("config", "set", "--path", "spcs-iac:snowflake.role", "SYSADMIN")  # how to log in: no move
    assert set(p.preview()) <= {"same"}

    # The same account through a connections.toml entry instead of options.
    home = Path(p.env["SNOWFLAKE_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "connections.toml").write_text(
        f'[emu]\naccount = "EMU"\nhost = "127.0.0.1"\nport = {emulator.port}\nprotocol = "http"\nuser = "admin"\n')
    for key in ("account", "host", "port"):
        p.run("config", "rm", "--path", f"spcs-iac:snowflake.{key}")
    p.config("spcs-iac:connection", "emu")
    assert set(p.preview()) <= {"same"}

    p.run("config", "set", "--path", "spcs-iac:snowflake.account", "other")
    assert p.preview().get("replace") == ["db"]
