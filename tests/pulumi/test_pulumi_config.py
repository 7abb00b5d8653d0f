"""The provider's configuration is checked at preview (CheckConfig): an unknown target, connection options
that are not a JSON object, a flag that is neither true nor false, each refused in one line naming the key,
the value and what is allowed. Real Pulumi CLI and provider plugin."""

from __future__ import annotations

import pytest

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
