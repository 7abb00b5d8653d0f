"""docs/kinds.md is generated from the kind declarations and must stay current."""

from pathlib import Path

from spcs_iac.model.docs import kinds_markdown
from spcs_iac.model.kinds import ALL_KINDS

ROOT = Path(__file__).resolve().parents[2]


def test_kind_reference_is_generated_from_the_declarations():
    text = kinds_markdown()
    for cls in ALL_KINDS:
        assert f"## {cls.__name__} (`{cls.kind}`)" in text
    assert "| `instance_family` | str | `INSTANCE_FAMILY` | in place |" in text
    assert "| `encryption` |" in text and "**replace**" in text
    assert "| `secret_string` | str | `SECRET_STRING` | in place | no |  | sensitive |" in text
    assert (ROOT / "docs" / "kinds.md").read_text() == text, "regenerate with: spcs-iac docs > docs/kinds.md"
