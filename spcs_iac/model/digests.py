"""What the state, plans and Pulumi keep instead of a secret value: a slow, salted hash.

A digest is ``scrypt:N:r:p:<salt>:<hash>`` (salt and hash in base64): a random salt per entry, so equal
values do not give equal digests and one dictionary cannot attack every entry at once, and scrypt's
cost (CPU and memory) makes each guess slow. It is only ever *verified* (:func:`secret_matches`): to
decide whether a declared value is the recorded one. When it is, the recorded digest is kept, so an
unchanged secret plans nothing and the state does not churn; a changed value gets a new salt.

Digests written by earlier versions (``sha256:`` of the address and the value) still verify; the next
write of the object replaces them (:func:`is_legacy`).

Each hash is computed once per (value, salt, cost) in a process, and the digest chosen for a field of an
object is remembered, so large plans and repeated ``desired()`` calls cost one scrypt per secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache

# Cost of one guess: 8 MiB of memory and 19-40 ms of one core of a busy 2-core machine (a 200,000-word
# dictionary: about an hour per entry, against a fraction of a second for the old sha256 form).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**13, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
PREFIX = "scrypt"
LEGACY_PREFIX = "sha256:"
# A digest read from a state file is data: refuse costs that would make verifying it a denial of service.
MAX_N, MAX_R, MAX_P = 2**16, 16, 4  # at most 128 MiB
_REMEMBERED = 4096


def secret_digest(value: str, salt: bytes | None = None) -> str:
    """A new digest of ``value`` (a fresh random salt unless one is given)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    raw = _scrypt(value, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return ":".join((PREFIX, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(raw)))


def is_legacy(text: object) -> bool:
    """A digest of the old form (fast, unsalted but for the address): to be replaced when next written."""
    return isinstance(text, str) and text.startswith(LEGACY_PREFIX)


def secret_matches(recorded: object, value: str | None, address: str | None = None) -> bool:
    """Whether ``value`` is the value ``recorded`` was made from. ``address`` is needed only for the
    legacy ``sha256:`` form, which was salted with the object's address."""
    if not isinstance(recorded, str) or value is None:
        return False
    if is_legacy(recorded):
        if address is None:
            return False
        legacy = LEGACY_PREFIX + hashlib.sha256(f"{address}\x00{value}".encode()).hexdigest()
        return hmac.compare_digest(legacy, recorded)
    parts = recorded.split(":")
    if len(parts) != 6 or parts[0] != PREFIX:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, want = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if not (1 < n <= MAX_N and n & (n - 1) == 0 and 0 < r <= MAX_R and 0 < p <= MAX_P and want):
        return False
    return hmac.compare_digest(_scrypt(value, salt, n, r, p, len(want)), want)


@lru_cache(maxsize=_REMEMBERED)
def _scrypt(value: str, salt: bytes, n: int, r: int, p: int, length: int = HASH_BYTES) -> bytes:
    return hashlib.scrypt(value.encode(), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=128 * r * (n + p + 2) + 2**20)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# ---- the digest chosen for one field of one object, per process ---------------------------------------
_chosen: OrderedDict[tuple[str, str, str], str] = OrderedDict()
_lock = threading.Lock()


def digest_for(address: str, field: str, value: str) -> str:
    """The digest of this field's value: the one already chosen in this process (kept from the state
    by :func:`keep_digest`, or made earlier), else a new one with a new salt."""
    key = (address, field, value)
    with _lock:
        known = _chosen.get(key)
        if known is not None:
            _chosen.move_to_end(key)
            return known
    made = secret_digest(value)
    with _lock:
        known = _chosen.setdefault(key, made)
        _trim()
    return known


def keep_digest(address: str, field: str, value: str, recorded: object) -> bool:
    """Use ``recorded`` as this field's digest when it was made from ``value`` (True), so what was
    recorded stays as it is. A legacy digest is kept too: no change is planned for it."""
    if not secret_matches(recorded, value, address):
        return False
    with _lock:
        _chosen[(address, field, value)] = str(recorded)
        _chosen.move_to_end((address, field, value))
        _trim()
    return True


def renew_digest(address: str, field: str, value: str) -> str:
    """A new digest for this field (replacing a legacy one when the object is written)."""
    made = secret_digest(value)
    with _lock:
        _chosen[(address, field, value)] = made
        _trim()
    return made


def forget_digests() -> None:
    """Forget every chosen digest and cached hash (what a new process starts with)."""
    with _lock:
        _chosen.clear()
    _scrypt.cache_clear()


def _trim() -> None:
    while len(_chosen) > _REMEMBERED:
        _chosen.popitem(last=False)


def settle(jobs: Iterable[tuple[str, str, str, object]]) -> Callable[[], None]:
    """Start working out, in the background, the digest of each ``(address, field, value, recorded)``: the
    recorded one when the value is unchanged, else a new one; returns the call that waits for them all.
    Several run at once: scrypt lets other threads run, so a plan pays one scrypt per core at a time
    rather than one after another, and the work overlaps the target's reads. ``desired()`` and
    ``keep_secret_digests`` then find every answer already made (the choice and the hashes are remembered)."""
    work = list(jobs)
    if not work:
        return lambda: None

    def one(job: tuple[str, str, str, object]) -> None:
        address, field, value, recorded = job
        if not keep_digest(address, field, value, recorded):
            digest_for(address, field, value)

    from concurrent.futures import ThreadPoolExecutor  # here: `validate` never needs it

    pool = ThreadPoolExecutor(max_workers=min(len(work), os.cpu_count() or 1), thread_name_prefix="digest")
    futures = [pool.submit(one, job) for job in work]

    def wait() -> None:
        try:
            for future in futures:
                future.result()
        finally:
            pool.shutdown(wait=True)

    return wait

