"""No error repeats a secret: not raw, not in any form the SQL writer gives it, not cut short, not upper-cased."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from spcs_iac import Secret
from spcs_iac.errors import ProviderError
from spcs_iac.model.redact import MIN_FRAGMENT, encoded_forms
from spcs_iac.targets.snowflake.provider import SnowflakeProvider
from spcs_iac.targets.snowflake.sql import Sensitive, Stmt, literal, scrub, spec_text
from spcs_iac.targets.snowflake.statements import create_steps

VALUES = [
    "it's-a-secret",  # a quote: doubled in a literal
    "back\\slash\\\\twice",  # backslashes: doubled in a literal, in JSON
    "line one\nline two\r\n\tindented",  # control characters: escaped in JSON, folded in a log line
    "pässwörd-ünïcode-€-🚀",  # non-ASCII: \u escapes in ASCII JSON
    "cost$$100$'\"\\",  # everything at once, and a $$ run (escaped in specs)
]


def forms_in_writer_output(value: str) -> list[str]:
    """What the SQL writer produces around the value: executed statements, JSON literals, specs."""
    secret = Secret(name="K", database="D", type="GENERIC_STRING", secret_string=value)
    executed = [s.render() for s in create_steps(secret, {}) if isinstance(s, Stmt)]
    return executed + [literal({"v": value}), literal([value]), spec_text({"env": {"V": value}})]


@pytest.mark.parametrize("value", VALUES)
def test_every_form_the_writer_produces_is_scrubbed_whole_and_cut_short(value: str) -> None:
    for text in forms_in_writer_output(value):
        message = f"SQL compilation error: near {text} at line 1"
        scrubbed = scrub(message, [value])
        assert "(sensitive)" in scrubbed and not _leaks(scrubbed, value), scrubbed
        for cut in range(MIN_FRAGMENT, len(text), 3):  # the server quotes only the start, or only the end
            for piece in (text[:cut], text[-cut:]):
                shown = scrub(f"error: unexpected '{piece}'", [value])
                assert not _leaks(shown, value), (piece, shown)


def _leaks(text: str, value: str) -> bool:
    """Whether any form of the value, or a piece of MIN_FRAGMENT characters of one, is in the text."""
    folded = text.upper()
    for form in encoded_forms(value):
        if len(form) < MIN_FRAGMENT:
            if form.upper() in folded:
                return True
            continue
        if any(form[i:i + MIN_FRAGMENT].upper() in folded
               for i in (0, len(form) - MIN_FRAGMENT)):
            return True
    return False


def test_short_values_go_whole_and_text_around_them_stays() -> None:
    assert scrub("password 'ab''c' rejected", ["ab'c"]) == "password '(sensitive)' rejected"
    assert scrub("nothing to hide here", ["zz9"]) == "nothing to hide here"
    cut = "x" * 7  # shorter than a fragment: a 7-character prefix of a longer value is left
    assert scrub(f"value {cut}", ["xxxxxxxxxxxxxxxxxx"]) == f"value {cut}"


def test_an_upper_cased_echo_is_scrubbed() -> None:
    assert scrub("invalid value [IT'S A SECRET VALUE] for parameter", ["it's a secret value"]) == (
        "invalid value [(sensitive)] for parameter")


@pytest.fixture
def db(provider: Callable[..., SnowflakeProvider]) -> Any:
    return provider().db


def _failure(db: Any, stmt: Stmt) -> str:
    with pytest.raises(ProviderError) as caught, db.session() as sess:
        db.run(sess, stmt)
    return str(caught.value)


def test_a_server_error_quoting_a_cut_escaped_literal_is_scrubbed(db: Any) -> None:
    # The server quotes the 20 characters after START: the literal as written, quotes doubled, cut short.
    value = "it's a \\ secret, ünïcode and more"
    message = _failure(db, Stmt(("START", Sensitive(value))))
    assert "syntax error" in message and not _leaks(message, value), message


def test_a_server_error_quoting_an_upper_cased_value_is_scrubbed(db: Any) -> None:
    value = "it's a \\ secret, ünïcode and more"
    message = _failure(db, Stmt(("CREATE SECRET D.PUBLIC.K TYPE =", Sensitive(value))))
    assert "invalid value" in message and not _leaks(message, value), message


def test_a_value_with_whitespace_runs_is_scrubbed_as_logs_fold_it() -> None:
    # Error messages and the connector's query log print every run of whitespace as one space.
    from spcs_iac.model.redact import scrub as model_scrub

    value = "qx-tab\tqx-sep\tqx-value  qx-two  spaces"
    folded = "qx-tab qx-sep qx-value qx-two spaces"
    for text in (f"failed: SECRET_STRING = '{folded}'", f"x {folded[:12]}"):
        assert "qx-tab qx" not in model_scrub(text, [value]), text
