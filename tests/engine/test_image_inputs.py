"""What makes an image rebuild: the files its build gets. A file the context's .dockerignore leaves out
(a service spec kept beside the Dockerfile, notes, data) changes nothing, as it changes nothing in the image."""

from __future__ import annotations

from pathlib import Path

from spcs_iac import Image


def _image(context: Path) -> Image:
    return Image(name="app", tag="1", repository="DB.PUBLIC.REPO", context=str(context))


def test_files_left_out_by_dockerignore_do_not_change_the_build_inputs(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "service.yaml").write_text("spec: {}\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("one\n")
    (tmp_path / "docs" / "KEEP.md").write_text("kept\n")
    (tmp_path / ".dockerignore").write_text("# specs and notes are not part of the image\n*.yaml\ndocs\n!docs/KEEP.md\n")
    before = _image(tmp_path).build_inputs_hash()
    (tmp_path / "service.yaml").write_text("spec: {containers: []}\n")
    (tmp_path / "docs" / "notes.md").write_text("two\n")
    assert _image(tmp_path).build_inputs_hash() == before
    (tmp_path / "docs" / "KEEP.md").write_text("changed\n")  # re-included by "!"
    kept = _image(tmp_path).build_inputs_hash()
    assert kept != before
    (tmp_path / "app.py").write_text("print(2)\n")
    assert _image(tmp_path).build_inputs_hash() != kept


def test_without_dockerignore_every_file_counts(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "service.yaml").write_text("a\n")
    before = _image(tmp_path).build_inputs_hash()
    (tmp_path / "service.yaml").write_text("b\n")
    assert _image(tmp_path).build_inputs_hash() != before
