"""Events waiting for the stage: bounded, in order, oldest dropped first, none sent twice.

While `/proxy-ws` is away (the server restarts, the network drops) events keep arriving
from the platform. They wait here, up to a limit; past it the *oldest* is dropped and
counted, because fresh chat is worth more than stale chat. (`kagura.bounded.BoundedQueue`
refuses the newest instead, which is right for a stream but wrong for a backlog.) The
sender takes one item at a time and puts it back at the front if the send fails, so an
item leaves the outbox once, when it has been sent.
"""

from __future__ import annotations

import asyncio
from collections import deque

from .events import Item


class Outbox:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._items: deque[Item] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Item) -> None:
        while len(self._items) >= self.limit:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._ready.set()

    def put_back(self, item: Item) -> None:
        """An item whose send failed goes back to the front; if newer items filled the
        outbox meanwhile, it is the oldest and is dropped."""
        if len(self._items) >= self.limit:
            self.dropped += 1
            return
        self._items.appendleft(item)
        self._ready.set()

    async def get(self) -> Item:
        """The oldest item, removed; waits while there is none."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()
