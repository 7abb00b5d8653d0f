"""``logs --follow`` over several containers at once: one reader thread per container, lines prefixed.

Each container's log stream is read on its own thread and cut into lines; the generator yields lines
as they arrive, prefixed with ``[instance/container]`` when there is more than one container. Closing
the generator (Ctrl-C in the CLI, or a test that has seen enough) closes every stream.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

_END = object()


def follow(api: Any, sources: list[tuple[str, str]], tail: int) -> Iterator[str]:
    """Lines of ``sources`` ((prefix, container id) pairs) as they are written, until every stream ends.
    The streams are opened now, so the caller may close its client before reading."""
    lines: queue.Queue[Any] = queue.Queue()
    streams = [(prefix, api.logs(cid, stream=True, follow=True, tail=tail)) for prefix, cid in sources]

    def pump(prefix: str, stream: Any) -> None:
        rest = b""
        try:
            for chunk in stream:
                rest += chunk
                while b"\n" in rest:
                    line, rest = rest.split(b"\n", 1)
                    lines.put(prefix + line.decode(errors="replace") + "\n")
        except Exception:  # the stream was closed, or the container went away
            pass
        finally:
            if rest:
                lines.put(prefix + rest.decode(errors="replace") + "\n")
            lines.put(_END)

    for prefix, stream in streams:
        threading.Thread(target=pump, args=(prefix, stream), daemon=True, name="spcs-iac-logs").start()
    return _drain(lines, len(streams), [s for _p, s in streams])


def _drain(lines: queue.Queue[Any], alive: int, streams: list[Any]) -> Iterator[str]:
    try:
        while alive:
            item = lines.get()
            if item is _END:
                alive -= 1
                continue
            yield item
    finally:
        for stream in streams:
            try:
                stream.close()
            except Exception:  # already closed
                pass
