"""Spec YAML that would hang, explode or silently lose a value is refused with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from spcs_iac import Service, ServiceSpec
from spcs_iac.errors import StackValidationError
from spcs_iac.model.yamlsafe import MAX_NODES, UnsafeYaml

HEAD = "spec:\n  containers:\n  - name: main\n    image: /db/s/repo/app:1\n"
BOMB = "".join(f"{x}: &{x} [{', '.join([f'*{p}'] * 9 if p else ['x'] * 9)}]\n"
               for p, x in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True))


def _service(spec: str) -> Service:
    return Service(name="S", database="D", compute_pool="P", spec=spec)


@pytest.mark.parametrize(("text", "message"), [
    (HEAD + "    env: &e {A: *e}\n", "line 5: the alias *e refers to its own anchor"),
    (HEAD + "    env: {A: '1', A: '2'}\n", "line 5: the key 'A' appears twice"),
    (HEAD + "    env: {A: !!binary aGVsbG8=}\n", "the tag 'tag:yaml.org,2002:binary' is not allowed"),
    (HEAD + "    env:\n" + "".join("      " + line + "\n" for line in BOMB.splitlines()),
     f"expands to more than {MAX_NODES} values"),
])
def test_unsafe_spec_yaml_is_refused_with_its_line(text: str, message: str) -> None:
    assert len(BOMB) < 600  # a few hundred bytes that would expand to 9**8 values
    with pytest.raises(StackValidationError, match="Service 'S': spec") as err:
        _service(text)
    assert message in str(err.value)


def test_a_spec_file_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text(HEAD + "    env: {A: '1', A: '2'}\n")
    with pytest.raises(UnsafeYaml, match=f"{path} line 5"):
        ServiceSpec.from_file(str(path))


def test_plain_aliases_and_dates_still_work() -> None:
    svc = _service(HEAD + "    env: &e {A: '1', DAY: 2024-01-01}\n  - name: side\n    image: /db/s/repo/app:1\n"
                   "    env: *e\n")
    assert [c.env for c in svc.spec.containers] == [{"A": "1", "DAY": "2024-01-01"}] * 2
