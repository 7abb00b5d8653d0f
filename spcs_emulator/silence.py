"""An account that stops answering: requests are accepted and read, then held without a reply.

``Emulator.inject(hang=True)`` stops answering at once; ``hang_matching=REGEX`` stops at the first
statement that matches, before it takes effect. ``inject(hang=False)`` (or ``reset()``) answers again:
the requests held until then are dropped without a reply, their connections closed, as a server that
died would leave them; nothing they asked for takes effect.
"""

from __future__ import annotations

import re
import threading


class Unanswered(BaseException):
    """Ends a held request without a reply. A BaseException, not an Exception: the server turns every
    Exception into an error reply, and this request must get no reply at all."""


class Silence:
    def __init__(self) -> None:
        self._answering = threading.Event()
        self._answering.set()
        self._lock = threading.Lock()
        self.matching: str | None = None
        self.held = 0  # requests held since the emulator started (tests may wait for the first)

    @property
    def hung(self) -> bool:
        return not self._answering.is_set()

    def hang(self, on: bool) -> None:
        if on:
            self._answering.clear()
        else:
            self.answer()

    def answer(self) -> None:
        with self._lock:
            self.matching = None
        self._answering.set()

    def statement(self, sql: str) -> None:
        """A statement arrived: stop answering if it is the one awaited, and hold it while silent."""
        with self._lock:
            if self.matching and re.search(self.matching, sql, flags=re.IGNORECASE):
                self.matching = None
                self._answering.clear()
        self.hold()

    def hold(self) -> None:
        """Return at once while answering; else wait until answering again, then drop the request."""
        if self._answering.is_set():
            return
        with self._lock:
            self.held += 1
        self._answering.wait()
        raise Unanswered
