"""Two stacks of one state directory declaring the same object. On Snowflake the second finds it there:
taking it over needs --adopt, and destroying the second stack then drops it only when asked to. The local target behaves alike
for catalog objects; what runs in Docker or lives in the registry is named after the stack that made it,
so a second stack declaring it is refused, naming the holder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.local.conftest import cli, unique

FIRST = """\
from spcs_iac import *
stack = Stack({name!r})
db = stack.add(Database(name="SHARED_DB"))
stack.add(Stage(name="VOLUMES", database=db))
"""

SECOND = """\
from spcs_iac import *
stack = Stack({name!r})
db = stack.add(Database(name="SHARED_DB", comment="hijack"))
stack.add(Stage(name="VOLUMES", database=db))
"""


def _write(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(body.format(name=name))
    return str(path)


def test_a_second_stack_declaring_a_catalog_object_must_adopt_it_and_its_destroy_leaves_it(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    first = _write(tmp_path, "first", FIRST)
    second = _write(tmp_path, "second", SECOND)
    assert cli("apply", first, "--state-dir", state, "--yes").exit_code == 0
    stage_dir = next((tmp_path / "state").rglob("VOLUMES"))
    (stage_dir / "notebook.ipynb").write_text("{}")

    planned = cli("plan", second, "--state-dir", state)
    assert planned.exit_code == 0, planned.output
    assert "adopting it needs --adopt" in planned.output and "to create" in planned.output
    assert "2 to import" in planned.output, planned.output
    refused = cli("apply", second, "--state-dir", state, "--yes")
    assert refused.exit_code != 0 and "--adopt" in refused.output, refused.output

    assert cli("apply", second, "--state-dir", state, "--yes", "--adopt").exit_code == 0
    gone = cli("destroy", second, "--state-dir", state, "--yes")  # adopted: dropped only if asked to
    assert gone.exit_code == 1 and "--destroy-adopted" in gone.output, gone.output
    assert (stage_dir / "notebook.ipynb").is_file(), gone.output  # the first stack's files are still there
    again = cli("plan", first, "--state-dir", state)
    assert "No changes" in again.output, again.output


@pytest.mark.docker
def test_a_second_stack_declaring_a_compute_pool_is_refused_naming_the_holder(state_dir: Path, tmp_path: Path,
                                                                             docker_client: Any) -> None:
    pool = f"SHARED_POOL_{unique('p').replace('-', '_').upper()}"
    body = 'from spcs_iac import *\nstack = Stack({name!r})\nstack.add(ComputePool(name="' + pool + \
        '", instance_family="CPU_X64_XS"))\n'
    first, second = unique("pool-first"), unique("pool-second")
    first_file, second_file = _write(tmp_path, first, body), _write(tmp_path, second, body)
    try:
        done = cli("apply", first_file, "--state-dir", str(state_dir), "--yes")
        assert done.exit_code == 0, done.output
        for command in (("plan",), ("apply", "--yes")):
            out = cli(*command, second_file, "--state-dir", str(state_dir))
            assert out.exit_code == 1, out.output
            assert f"compute pool {pool} belongs to stack {first}" in out.output, out.output
            assert "Traceback" not in out.output
    finally:
        cli("destroy", first_file, "--state-dir", str(state_dir), "--yes")
