"""Run a blocking generator in a worker thread and consume it as an async stream.

Embedded engines (llama.cpp, piper) are synchronous. Running them on the event loop would
freeze every WebSocket; running them in a thread and handing each item back through the loop
keeps the server responsive and lets a turn stop generation between two items.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


async def iterate_in_thread(
    make_iterator: Callable[[threading.Event], Iterator[T]],
    executor: ThreadPoolExecutor,
    max_buffered: int = 256,
) -> AsyncIterator[T]:
    """Yield what `make_iterator(stop)` produces in `executor`.

    `stop` is set when the consumer stops early (break, cancellation, error), so the producer
    should check it between items. At most `max_buffered` items wait in between; the producer
    blocks beyond that, which bounds memory when the consumer is slow.
    """
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    # `slots` bounds the items in flight; the queue itself must always take the end marker.
    queue: asyncio.Queue[object] = asyncio.Queue()
    slots = threading.Semaphore(max_buffered)

    def put(item: object) -> None:
        queue.put_nowait(item)

    def produce() -> None:
        try:
            for item in make_iterator(stop):
                if stop.is_set():
                    break
                # Wait for room, but give up once the consumer has gone away.
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                loop.call_soon_threadsafe(put, item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            if not stop.is_set():
                loop.call_soon_threadsafe(put, exc)
            return
        if not stop.is_set():
            loop.call_soon_threadsafe(put, _DONE)

    future = loop.run_in_executor(executor, produce)
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            slots.release()
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        # Do not wait for the thread: a long native call may still be running, and the
        # caller has moved on. The executor serialises the next use of the engine.
        future.add_done_callback(lambda f: f.exception())
