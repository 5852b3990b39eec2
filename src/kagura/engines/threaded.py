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

from kagura.bounded import BoundedQueue, QueueClosed

T = TypeVar("T")


async def iterate_in_thread(
    make_iterator: Callable[[threading.Event], Iterator[T]],
    executor: ThreadPoolExecutor,
    max_buffered: int = 256,
) -> AsyncIterator[T]:
    """Yield what `make_iterator(stop)` produces in `executor`.

    `stop` is set when the consumer stops early (break, cancellation, error), so the producer
    should check it between items. At most `max_buffered` items wait in between: the producer
    waits for room beyond that, which bounds memory when the consumer is slow, and the queue
    is closed when the consumer goes away, which releases a producer waiting for room.
    """
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    queue: BoundedQueue[T] = BoundedQueue(max_buffered)

    def produce() -> None:
        error: BaseException | None = None
        try:
            for item in make_iterator(stop):
                if stop.is_set():
                    return
                asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()
        except QueueClosed:  # the consumer has gone away
            return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            error = exc
        if not stop.is_set():
            loop.call_soon_threadsafe(queue.close, error)

    future = loop.run_in_executor(executor, produce)
    try:
        async for item in queue:
            yield item
    finally:
        stop.set()
        queue.close()
        # Do not wait for the thread: a long native call may still be running, and the
        # caller has moved on. The executor serialises the next use of the engine.
        future.add_done_callback(lambda f: f.exception())
