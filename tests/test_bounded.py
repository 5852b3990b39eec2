"""The bounded queue every stream shares, and the thread bridge built on it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from kagura.bounded import BoundedQueue, QueueClosed
from kagura.engines.threaded import iterate_in_thread


async def test_queue_bounds_items_and_bytes_and_always_takes_the_end() -> None:
    queue: BoundedQueue[str] = BoundedQueue(3, max_bytes=10, size=len)
    assert queue.offer("abcd") and queue.offer("efgh")
    assert not queue.offer("ijk")  # 11 bytes
    assert queue.offer("ij") and not queue.offer("k")  # 3 items
    queue.close(ValueError("the LLM failed"))
    assert not queue.offer("late")
    assert [item async for item in _until_error(queue)] == ["abcd", "efgh", "ij"]


async def _until_error(queue: BoundedQueue[str]) -> AsyncIterator[str]:
    with pytest.raises(ValueError, match="the LLM failed"):
        async for item in queue:
            yield item


async def test_put_waits_for_room_and_fails_once_closed() -> None:
    queue: BoundedQueue[int] = BoundedQueue(1)
    await queue.put(1)
    waiting = asyncio.create_task(queue.put(2))
    await asyncio.sleep(0)
    assert not waiting.done()
    assert await queue.get() == 1
    await waiting
    blocked = asyncio.create_task(queue.put(3))
    await asyncio.sleep(0)
    queue.close()
    with pytest.raises(QueueClosed):
        await blocked


async def test_thread_bridge_is_bounded_and_releases_its_producer() -> None:
    consumed = 0
    lead = 0  # how far the producer ever ran ahead of the consumer
    finished = threading.Event()

    def numbers(stop: threading.Event) -> Iterator[int]:
        nonlocal lead
        try:
            for n in range(100_000):
                lead = max(lead, n - consumed)
                yield n
        finally:
            finished.set()

    with ThreadPoolExecutor(1) as executor:
        stream = iterate_in_thread(numbers, executor, max_buffered=4)
        async for _ in stream:
            await asyncio.sleep(0.001)  # a slow consumer: the producer must wait for it
            consumed += 1
            if consumed == 50:
                break
        await stream.aclose()  # the consumer went away: the waiting producer is released
        assert await asyncio.to_thread(finished.wait, 5)
    assert lead <= 4 + 2  # the buffer, the item being handed over, the one being made


async def test_thread_bridge_raises_the_producers_error_after_its_items() -> None:
    def failing(stop: threading.Event) -> Iterator[str]:
        yield "first"
        raise RuntimeError("model crashed")

    received = []
    with ThreadPoolExecutor(1) as executor, pytest.raises(RuntimeError, match="model crashed"):
        async for item in iterate_in_thread(failing, executor):
            received.append(item)
    assert received == ["first"]
