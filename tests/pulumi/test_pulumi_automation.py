"""An inline Pulumi program (Automation API) with native spcs-iac resources: driven from Python, no project
on disk; a bad input comes back as one diagnostic line naming the object and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

import spcs_iac.pulumi as spcs
from tests.pulumi.conftest import pulumi_env

pytestmark = [pytest.mark.pulumi, pytest.mark.slow]


def program(suspend: int, bad: bool = False):
    def run() -> None:
        role = spcs.Role("role", name="AUTO_ROLE")
        db = spcs.Database("db", name="AUTO_DB", owner=role)
        wh = spcs.Warehouse("wh", name="AUTO_WH", auto_suspend=suspend, owner=role)
        key = spcs.Secret("key", name="AUTO_KEY", database=db, type="GENERIC_STRING",
                          secret_string=wh.fqn.apply(lambda fqn: f"from-{fqn.lower()}"))
        if bad:
            spcs.NetworkRule("rule", name="AUTO_RULE", database=db, type="BOGUS", value_list=["example.com"])
        pulumi.export("key", key.address)
        pulumi.export("db", db.fqn)

    return run


def test_inline_program_with_the_automation_api(tmp_path: Path) -> None:
    env = pulumi_env(tmp_path, {"SPCS_IAC_TARGETS": "memory=tests.support.memory_provider:MemoryProvider"})
    settings = auto.ProjectSettings(name="spcs-auto", runtime="python",
                                    backend=auto.ProjectBackend(f"file://{tmp_path / 'backend'}"))

    def stack(fn) -> auto.Stack:
        s = auto.create_or_select_stack("auto", "spcs-auto", fn, opts=auto.LocalWorkspaceOptions(
            project_settings=settings, env_vars=env, pulumi_home=env["PULUMI_HOME"], work_dir=str(tmp_path)))
        s.set_config("spcs-iac:target", auto.ConfigValue("memory"))
        s.set_config("spcs-iac:stateDir", auto.ConfigValue(str(tmp_path / "spcs")))
        return s

    s = stack(program(60))
    assert s.preview().change_summary == {"create": 5}
    up = s.up()
    assert up.summary.result == "succeeded"
    assert up.outputs["key"].value == "secret.AUTO_DB.PUBLIC.AUTO_KEY" and up.outputs["db"].value == "AUTO_DB"
    target = json.loads((tmp_path / "spcs" / "memory-target.json").read_text())["objects"]
    assert target["warehouse.AUTO_WH"]["auto_suspend"] == 60
    # Secret in Pulumi's state: encrypted there (export_stack decrypts it: it runs with --show-secrets).
    for path in (tmp_path / "backend").rglob("*.json"):
        assert "from-auto_wh" not in path.read_text(), path
    assert s.preview().change_summary == {"same": 5}

    s = stack(program(300))
    assert s.preview().change_summary == {"same": 4, "update": 1}
    s.up()
    assert json.loads((tmp_path / "spcs" / "memory-target.json").read_text())["objects"]["warehouse.AUTO_WH"][
        "auto_suspend"] == 300

    with pytest.raises(auto.CommandError) as failed:
        stack(program(300, bad=True)).preview()
    lines = [line.strip() for line in str(failed.value).splitlines() if "BOGUS" in line]
    assert lines and all("NetworkRule 'AUTO_RULE': type: Input should be 'IPV4', 'IPV6'" in line
                         and line.endswith("(given: 'BOGUS')") for line in lines), lines
    # Nothing of the provider's own: when the engine stops at the refused input, Pulumi's Python SDK may
    # print a traceback of the program's cancelled registrations ("context canceled"), depending on which
    # were in flight; none comes from spcs-iac.
    text = str(failed.value)
    assert "spcs_iac/" not in text and ("Traceback" not in text or "context canceled" in text), text

    stack(program(300)).destroy()
    assert json.loads((tmp_path / "spcs" / "memory-target.json").read_text())["objects"] == {}

    # A target that does not exist is refused with the provider's configuration, in one line, no traceback.
    s = stack(program(300))
    s.set_config("spcs-iac:target", auto.ConfigValue("nowhere"))
    with pytest.raises(auto.CommandError) as failed:
        s.up()
    text = str(failed.value)
    assert "provider configuration spcs-iac:target 'nowhere' is not a known target; allowed: local, snowflake" \
        in text, text
    assert "Traceback" not in text and 'File "' not in text
