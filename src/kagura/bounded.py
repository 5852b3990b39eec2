"""A bounded FIFO whose end can always be marked.

Every stream in Kagura hands items from a producer to a consumer through a queue that must
stay bounded (a client that stops reading, an LLM faster than its TTS) and yet always take
the end of the stream, even from a producer that is being cancelled or has just overflowed
— otherwise the consumer waits forever. `BoundedQueue` is that queue, once: a limit on items
(and optionally on bytes), `offer` that refuses when full, `put` that waits for room, and
`close` that always succeeds and ends iteration after what is queued.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class QueueClosed(Exception):
    """`put` on a queue that has been closed."""


class BoundedQueue(Generic[T]):
    """At most `limit` items (and `max_bytes`, measured by `size`); one event loop only."""

    def __init__(
        self,
        limit: int,
        *,
        max_bytes: int | None = None,
        size: Callable[[T], int] | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._items: deque[T] = deque()
        self._limit = limit
        self._max_bytes = max_bytes
        self._size = size or (lambda _: 0)
        self._bytes = 0
        self._closed = False
        self._error: BaseException | None = None
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def has_room(self, item: T) -> bool:
        if len(self._items) >= self._limit:
            return False
        return self._max_bytes is None or self._bytes + self._size(item) <= self._max_bytes

    def offer(self, item: T) -> bool:
        """Queue `item` without waiting; False when the queue is full or closed."""
        if self._closed or not self.has_room(item):
            return False
        self._items.append(item)
        self._bytes += self._size(item)
        self._changed.set()
        return True

    async def put(self, item: T) -> None:
        """Queue `item`, waiting for room; `QueueClosed` once the queue is closed."""
        while not self.offer(item):
            if self._closed:
                raise QueueClosed
            self._changed.clear()
            await self._changed.wait()

    def close(self, error: BaseException | None = None) -> None:
        """Mark the end: `get` returns what is queued, then raises `error` (if any) or
        `QueueClosed`. Never fails, whatever the queue holds."""
        if not self._closed:
            self._closed, self._error = True, error
            self._changed.set()

    def clear(self) -> list[T]:
        """Remove and return everything queued (e.g. to cancel it)."""
        items, self._bytes = list(self._items), 0
        self._items.clear()
        self._changed.set()
        return items

    async def get(self) -> T:
        """The next item; once closed and empty, the closing error or `QueueClosed`."""
        while not self._items:
            if self._closed:
                raise self._error if self._error is not None else QueueClosed
            self._changed.clear()
            await self._changed.wait()
        item = self._items.popleft()
        self._bytes -= self._size(item)
        self._changed.set()  # wakes a producer waiting for room
        return item

    async def __aiter__(self) -> AsyncIterator[T]:
        """Every item until the end; the closing error, if any, is raised after them."""
        while True:
            try:
                item = await self.get()
            except QueueClosed:
                return
            yield item
