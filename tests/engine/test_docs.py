"""docs/kinds.md is generated from the kind declarations and must stay current."""

from pathlib import Path

from spcs_iac.graph.build import build_graph
from spcs_iac.model.docs import kinds_markdown
from spcs_iac.model.kinds import ALL_KINDS

ROOT = Path(__file__).resolve().parents[2]


def test_kind_reference_is_generated_from_the_declarations():
    text = kinds_markdown()
    for cls in ALL_KINDS:
        assert f"## {cls.__name__} (`{cls.kind}`)" in text
    assert "| `instance_family` | str | `INSTANCE_FAMILY` | in place |" in text
    assert "| `encryption` |" in text and "**replace**" in text
    assert ("| `secret_string` | str | `SECRET_STRING` | in place | no |  | sensitive; changes made outside "
            "spcs-iac are not detected |") in text
    # Readable, but Snowflake shows no column for it: compared with the state, and the docs say so.
    assert "| `replicas` | int | `REPLICAS` | **replace** | no | `1` | changes made outside spcs-iac are not detected |" in text
    assert (ROOT / "docs" / "kinds.md").read_text() == text, "regenerate with: spcs-iac docs > docs/kinds.md"


def test_the_readme_stack_example_is_valid(monkeypatch):
    import re

    text = (ROOT / "README.md").read_text()
    code = re.search(r"## What a stack looks like\n\n```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(ROOT)  # the example's paths are relative to the repository
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    stack = namespace["stack"]
    stack.validate()
    assert len(stack) == 6 and build_graph(stack).number_of_edges() == 7
