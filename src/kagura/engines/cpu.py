"""Share a small machine's cores between the LLM and TTS: speech someone waits for goes first.

On two cores, an LLM that keeps generating while the first sentence is synthesised roughly
doubles that synthesis (measured: piper 116 ms alone, 238 ms beside llama.cpp). Nobody is
listening to the tokens yet, but everybody waits for the first audio. So while urgent speech
is synthesised locally, the embedded LLM pauses between tokens — for a bounded time, so a
stuck synthesis can never stall the reply.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CpuPriority:
    def __init__(self) -> None:
        self._urgent = 0
        self._changed = threading.Condition()

    @contextmanager
    def urgent(self) -> Iterator[None]:
        """Mark the enclosed work (possibly spanning awaits) as what the listener waits for."""
        with self._changed:
            self._urgent += 1
        try:
            yield
        finally:
            with self._changed:
                self._urgent -= 1
                self._changed.notify_all()

    def yield_to_urgent(self, max_wait_s: float = 1.0) -> None:
        """Called by background work between steps, in its own thread: wait while urgent."""
        with self._changed:
            self._changed.wait_for(lambda: self._urgent == 0, timeout=max_wait_s)


# The CPU is shared by the whole process, and so is its priority.
cpu = CpuPriority()
