"""Recall by meaning: vectors for the notes, made in the background, and for each message.

The embedding engine is a side service. When it cannot load or its server is down, turns
recall by words as before: one log line says why, and the message embedding is not asked for
again until a pause has passed, so an unreachable server costs no turn its timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .store import MemoryStore
from .vectors import Vector

log = logging.getLogger(__name__)

BATCH = 16  # notes embedded at a time: a turn's message waits behind at most one batch
BATCH_TIMEOUT_S = 60.0
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0  # between attempts while the engine fails


class Embedder(Protocol):
    """What the indexer needs of an embedding engine (`kagura.engines.embed`)."""

    model_id: str

    async def load(self) -> None: ...

    async def embed(
        self, texts: Sequence[str], *, query: bool = False
    ) -> npt.NDArray[np.float32]: ...


class Indexer:
    """Owns the background task that keeps every note's vector made; `wake()` when notes
    were added or edited."""

    def __init__(
        self,
        store: MemoryStore,
        embedder: Embedder,
        idle: Callable[[], Awaitable[None]],
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._idle = idle  # returns once no turn runs: vectors are made between turns
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ready = False  # the index is loaded: messages may be embedded
        self.status = "loading"  # for the admin page: loading, ok, or what fails
        self.made = 0  # vectors made since the start
        self._failures = 0
        self._paused_until = 0.0  # monotonic: no message embedding before then

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="memory-indexer")

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def meaning_of(self, text: str, timeout_s: float) -> Vector | None:
        """The embedding of a message, or None (not ready, failing, or too slow)."""
        if not self.ready or not text.strip() or time.monotonic() < self._paused_until:
            return None
        try:
            async with asyncio.timeout(timeout_s):
                vectors = await self._embedder.embed([text], query=True)
        except TimeoutError:
            log.info(
                "memory: the message's embedding took over %.0f ms; recall by words",
                timeout_s * 1000,
            )
            return None
        except Exception as exc:
            self._failed(exc)
            return None
        self._recovered()
        vector: Vector = vectors[0]
        return vector

    async def _run(self) -> None:
        try:
            await self._embedder.load()
        except Exception as exc:
            self.status = f"off: {exc}"
            log.error("memory: recall by meaning is off, recall is by words only (%s)", exc)
            return
        count = await self._store.load_vectors(self._embedder.model_id)
        self.ready = True
        self.status = "ok"
        log.info("memory: embedding index loaded (%d notes)", count)
        while True:
            await self._idle()  # between turns: the worker thread and the CPU are theirs
            batch, more = await self._store.unembedded(BATCH)
            if not batch:
                if not more:
                    await self._wake.wait()
                    self._wake.clear()
                continue
            try:
                async with asyncio.timeout(BATCH_TIMEOUT_S):
                    vectors = await self._embedder.embed([text for _, text in batch])
            except Exception as exc:
                self._store.rescan()  # this batch is looked for again
                await asyncio.sleep(self._failed(exc))
                continue
            self._recovered()
            await self._store.put_vectors(
                [(note_id, text, vectors[i]) for i, (note_id, text) in enumerate(batch)]
            )
            self.made += len(batch)

    def _failed(self, exc: BaseException) -> float:
        """Note a failure (logged when it starts an outage); returns the pause before the
        engine is asked again."""
        if self._failures == 0:
            reason = str(exc) or type(exc).__name__
            log.warning(
                "memory: embeddings failing, recall is by words until they work (%s)", reason
            )
            self.status = f"failing: {reason}"
        pause = min(RETRY_MAX_S, RETRY_FIRST_S * 2.0**self._failures)
        self._failures += 1
        self._paused_until = time.monotonic() + pause
        return pause

    def _recovered(self) -> None:
        if self._failures:
            log.info("memory: embeddings work again")
            self._failures = 0
            self.status = "ok"
