"""An apply's failures and log lines never repeat a secret value of the plan, whatever form it comes in."""

from __future__ import annotations

from pathlib import Path

from spcs_iac import Database, Secret, Stack
from spcs_iac.drivers import api
from tests.support.echoing_provider import EchoingProvider
from tests.support.memory_provider import MemoryTarget

VALUE = "it's a \\ multi\nline sëcret"


def test_a_failure_and_the_log_quoting_a_secret_show_it_hidden(tmp_path: Path) -> None:
    s = Stack("echo")
    db = s.add(Database(name="ECHO_DB"))
    s.add(Secret(name="KEY", database=db, type="GENERIC_STRING", secret_string=VALUE))
    lines: list[str] = []
    result = api.apply(s, "memory", provider=EchoingProvider(target=MemoryTarget()), state_dir=str(tmp_path),
                       log=lines.append)
    failure = result.failed["secret.ECHO_DB.PUBLIC.KEY"]
    assert failure.startswith("syntax error at position 40 near '(sensitive)"), failure
    said = "\n".join(lines)
    assert "creating with SECRET_STRING = '(sensitive)'" in said
    for text in (failure, said):
        assert "it''s a" not in text and "sëcret" not in text and "multi" not in text
