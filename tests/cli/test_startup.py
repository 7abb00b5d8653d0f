"""Small commands load only what they use: the heavy libraries stay out of `--help`, `validate` and
`plan --assume-empty` (bench/bench_cli.py measures the time; this keeps the imports from coming back)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "stacks" / "quickstart.py")
WATCHED = ("snowflake", "docker", "pulumi", "networkx", "rich", "pydantic", "duckdb", "sqlglot", "pyarrow",
           "spcs_emulator")

# Runs the command in this process after importing the CLI as the console script does, then says which
# of the watched top-level packages got imported.
PROBE = """
import contextlib, io, json, sys
from spcs_iac.drivers.cli.main import app
args, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["spcs-iac", *args]
code = 0
with contextlib.redirect_stdout(io.StringIO()):
    try:
        app()
    except SystemExit as exc:
        code = exc.code or 0
print(json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules} & set(watched))}))
"""


def loaded_by(*args: str, tmp: Path) -> list[str]:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args)), json.dumps(WATCHED)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(tmp)))
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, r.stderr
    return result["loaded"]


@pytest.mark.parametrize("args", [
    ["validate", QUICKSTART],
    ["plan", QUICKSTART, "--assume-empty"],
], ids=["validate", "plan --assume-empty"])
def test_validate_and_plan_do_not_load_the_connector_docker_or_pulumi(args, tmp_path):
    loaded = loaded_by(*args, "--state-dir", str(tmp_path / "state"), tmp=tmp_path)
    assert not {"snowflake", "docker", "pulumi", "duckdb", "sqlglot", "pyarrow", "spcs_emulator"} & set(loaded), loaded
    assert {"networkx", "pydantic", "rich"} <= set(loaded)  # what these commands do use


def test_help_loads_none_of_the_heavy_libraries(tmp_path):
    assert loaded_by("--help", tmp=tmp_path) == []


def test_messages_print_brackets_as_they_are(capsys):
    """CLI messages quote SQL and names: ``[spcs-iac:stack=app]`` in a comment is text, not rich markup."""
    from spcs_iac.drivers.cli.main import err, out

    out.print("COMMENT = '[spcs-iac:stack=app spec=1]' [bold]x[/bold]")
    err.print("  x service.A: failed [red]")
    captured = capsys.readouterr()
    assert "COMMENT = '[spcs-iac:stack=app spec=1]' [bold]x[/bold]" in captured.out
    assert "failed [red]" in captured.err


def test_commands_on_one_object_reach_its_provider_without_the_planner(tmp_path):
    # status, logs, endpoints, call, suspend and resume find the object in the state and ask its provider:
    # neither the planner, the executor nor the graph library has anything to do there.
    probe = (
        "import json, sys\n"
        "from spcs_iac.drivers.cli import ops\n"
        "from spcs_iac.state.store import StateEntry, StateStore\n"
        f"StateStore('qs', 'local', {str(tmp_path)!r}).record('service.DB.S.SVC', StateEntry('service', 'DB.S.SVC'))\n"
        "def _op_endpoints(provider, entry):\n"
        "    return entry.name\n"
        f"assert ops._with_provider('DB.S.SVC', 'local', {str(tmp_path)!r}, None, None, _op_endpoints) == 'DB.S.SVC'\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('networkx', 'spcs_iac'))))\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    loaded = set(json.loads(r.stdout.strip().splitlines()[-1]))
    assert "spcs_iac.targets.local.provider" in loaded
    assert not {"networkx", "spcs_iac.drivers.api", "spcs_iac.plan.planner", "spcs_iac.apply.executor"} & loaded
