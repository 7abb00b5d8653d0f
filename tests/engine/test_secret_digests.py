"""Secrets are kept as slow, salted digests (scrypt), verified against the declared value on every run.

``forget_digests()`` stands for a new process: nothing chosen or hashed in an earlier run is remembered,
as when `spcs-iac plan` runs again from the shell."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from spcs_iac import Database, Secret, Stack
from spcs_iac.drivers import api
from spcs_iac.errors import SpcsIacError
from spcs_iac.model import digests
from spcs_iac.model.digests import forget_digests, secret_matches
from spcs_iac.plan.model import Action, Plan
from spcs_iac.plan.render import plan_summary_json, render
from spcs_iac.state.store import StateStore
from tests.support.memory_provider import MemoryProvider, MemoryTarget

VALUE = "correct-horse-battery-staple"
KEY = "secret.DIG_DB.PUBLIC.API_KEY"


def secrets_stack(value: str = VALUE, *, comment: str | None = None, more: int = 0) -> Stack:
    s = Stack("digests")
    db = s.add(Database(name="DIG_DB"))
    s.add(Secret(name="API_KEY", database=db, type="GENERIC_STRING", secret_string=value, comment=comment))
    s.add(Secret(name="LOGIN", database=db, type="PASSWORD", username="svc-user", password=value))
    for i in range(more):
        s.add(Secret(name=f"EXTRA_{i}", database=db, type="GENERIC_STRING", secret_string=f"{value}-{i}"))
    return s


def state_props(state: Path, address: str) -> dict:
    return StateStore("digests", "memory", state).entries[address].props


def apply(stack: Stack, target: MemoryTarget, state: Path) -> None:
    result = api.apply(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(state))
    assert result.ok, result.failed


def plan(stack: Stack, target: MemoryTarget, state: Path) -> Plan:
    return api.plan(stack, "memory", provider=MemoryProvider(target=target), state_dir=str(state))


def test_the_digest_is_scrypt_with_its_cost_and_a_random_salt_per_entry() -> None:
    a = Secret(name="A", database="D", type="GENERIC_STRING", secret_string=VALUE).desired()["secret_string"]
    b = Secret(name="B", database="D", type="GENERIC_STRING", secret_string=VALUE).desired()["secret_string"]
    for digest in (a, b):
        scheme, n, r, p, salt, raw = digest.split(":")
        assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**13, 8, 1)
        assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(raw)) == 32
        assert secret_matches(digest, VALUE) and not secret_matches(digest, VALUE + "!")
    assert a.split(":")[4] != b.split(":")[4] and a != b  # same value, different salts
    assert VALUE not in a


def test_a_digest_with_a_cost_out_of_bounds_or_garbage_never_matches() -> None:
    assert not secret_matches("scrypt:1099511627776:8:1:AAAA:AAAA", VALUE)  # would exhaust the machine
    assert not secret_matches("scrypt:8192:8:1:not base64!:AAAA", VALUE)
    assert not secret_matches("md5:whatever", VALUE) and not secret_matches(None, VALUE)


def test_an_unchanged_secret_plans_nothing_and_keeps_its_digest_across_runs(tmp_path: Path) -> None:
    target = MemoryTarget()
    apply(secrets_stack(), target, tmp_path)
    first = state_props(tmp_path, KEY)["secret_string"]
    forget_digests()
    again = plan(secrets_stack(), target, tmp_path)
    assert not again.has_changes, [c.to_json() for c in again.actionable]
    assert again.get(KEY).desired["secret_string"] == first  # the recorded digest, reused
    forget_digests()
    apply(secrets_stack(comment="touched"), target, tmp_path)  # the object is written again
    assert state_props(tmp_path, KEY)["secret_string"] == first  # no churn: same salt, same digest


def test_a_changed_secret_plans_an_update_with_a_new_salt(tmp_path: Path) -> None:
    target = MemoryTarget()
    apply(secrets_stack(), target, tmp_path)
    old = state_props(tmp_path, KEY)["secret_string"]
    forget_digests()
    changed = plan(secrets_stack("rotated-" + VALUE), target, tmp_path)
    change = changed.get(KEY)
    assert change.action is Action.UPDATE and [f.name for f in change.fields] == ["secret_string"]
    assert changed.get("secret.DIG_DB.PUBLIC.LOGIN").action is Action.UPDATE  # password changed too
    new = change.desired["secret_string"]
    assert new.split(":")[4] != old.split(":")[4] and secret_matches(new, "rotated-" + VALUE)


def test_a_legacy_sha256_digest_still_verifies_and_is_replaced_when_written(tmp_path: Path) -> None:
    target = MemoryTarget()
    apply(secrets_stack(), target, tmp_path)
    legacy = "sha256:" + hashlib.sha256(f"{KEY}\x00{VALUE}".encode()).hexdigest()  # what earlier versions kept
    store = StateStore("digests", "memory", tmp_path)
    entry = store.entries[KEY]
    with store.locked("test"):
        store.record(KEY, type(entry)(**{**entry.__dict__, "props": {**entry.props, "secret_string": legacy}}))
    assert secret_matches(legacy, VALUE, KEY) and not secret_matches(legacy, "other", KEY)
    forget_digests()
    assert not plan(secrets_stack(), target, tmp_path).has_changes  # no change planned for it
    forget_digests()
    apply(secrets_stack(comment="touched"), target, tmp_path)
    renewed = state_props(tmp_path, KEY)["secret_string"]
    assert renewed.startswith("scrypt:") and secret_matches(renewed, VALUE)


def test_no_plain_value_in_state_plan_json_or_plan_text(tmp_path: Path) -> None:
    target = MemoryTarget()
    created = plan(secrets_stack(), target, tmp_path)
    apply(secrets_stack(), target, tmp_path)
    rotated = plan(secrets_stack("rotated-" + VALUE), target, tmp_path)
    texts = [json.dumps([p.to_json(), plan_summary_json(p)]) for p in (created, rotated)]
    for p in (created, rotated):
        console = Console(record=True, width=200)
        render(p, console, statements=True)
        texts.append(console.export_text())
    texts += [path.read_text() for path in tmp_path.rglob("*.json")]
    assert texts and all(VALUE not in t for t in texts)
    assert any("scrypt:8192:8:1:" in t for t in texts)


def test_a_saved_plan_applies_in_another_run_and_a_value_changed_since_is_refused(tmp_path: Path) -> None:
    def saved(state: Path, target: MemoryTarget) -> str:
        text = json.dumps(plan(secrets_stack(), target, state).to_json())
        forget_digests()  # the apply runs later, in another process
        return text

    stale_target = MemoryTarget()
    with pytest.raises(SpcsIacError, match=f"{KEY}: the declaration changed"):
        api.apply(secrets_stack("rotated-" + VALUE), "memory", provider=MemoryProvider(target=stale_target),
                  state_dir=str(tmp_path / "stale"), saved=Plan.from_json(json.loads(saved(tmp_path / "stale",
                                                                                            stale_target))))
    assert not stale_target.objects
    target = MemoryTarget()
    text = saved(tmp_path / "ok", target)
    result = api.apply(secrets_stack(), "memory", provider=MemoryProvider(target=target),
                       state_dir=str(tmp_path / "ok"), saved=Plan.from_json(json.loads(text)))
    assert result.ok, result.failed
    shown = {c["address"]: c["desired"] for c in json.loads(text)["changes"] if c["address"].startswith("secret.")}
    assert len(shown) == 2
    for address, desired in shown.items():  # the state records the digests the reviewed plan showed
        assert state_props(tmp_path / "ok", address) == desired


def test_each_secret_is_hashed_once_per_run(tmp_path: Path) -> None:
    target = MemoryTarget()
    apply(secrets_stack(more=6), target, tmp_path)
    forget_digests()
    plan(secrets_stack(more=6), target, tmp_path)
    hashed = digests._scrypt.cache_info().misses
    assert hashed == 1 + 2 + 6  # one verification per secret value: API_KEY, LOGIN (2 fields), EXTRA_*
    again = plan(secrets_stack(more=6), target, tmp_path)
    assert not again.has_changes and digests._scrypt.cache_info().misses == hashed


def test_a_plan_hashes_several_secrets_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # scrypt is slow on purpose and lets other threads run: a plan works its secrets out side by side
    # (one per core) instead of one after another, while it reads the target.
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the digests are worked out one at a time")
    running, most = [0], [0]
    lock = threading.Lock()
    real = hashlib.scrypt

    def counting(*args: object, **kwargs: object) -> bytes:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # long enough for the calls to overlap when they run side by side
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                running[0] -= 1

    target = MemoryTarget()
    apply(secrets_stack(more=6), target, tmp_path)
    forget_digests()
    monkeypatch.setattr(digests.hashlib, "scrypt", counting)
    again = plan(secrets_stack(more=6), target, tmp_path)
    assert not again.has_changes  # every recorded digest verified and kept
    assert most[0] >= 2, most


def test_a_secret_object_shown_anywhere_never_shows_its_value() -> None:
    """A Secret given where another value belongs is repeated in the message as the value given: its repr
    must not hold the secret (a short name left a PASSWORD secret's value within the message's 120 characters)."""
    from spcs_iac import ComputePool
    from spcs_iac.errors import DeclarationError

    secret = Secret(name="S", database="D", type="PASSWORD", username="u", password=VALUE)
    generic = Secret(name="G", database="D", type="GENERIC_STRING", secret_string=VALUE)
    for shown in (repr(secret), str(secret), repr(generic), repr([generic])):
        assert VALUE not in shown and "hidden" in shown, shown
    assert "type='PASSWORD'" in repr(secret)  # the other fields are still shown
    with pytest.raises(DeclarationError) as refused:
        ComputePool(name="P", instance_family=secret)
    assert VALUE[:4] not in str(refused.value)
