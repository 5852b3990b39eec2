"""An event loop in a background thread, for fake servers that tests of any kind share.

A fake that lives on its own loop serves sync tests, async tests on any loop and client
processes alike, and a test that blocks (waiting on a subprocess) cannot starve it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Self, TypeVar

T = TypeVar("T")
CALL_TIMEOUT_S = 10.0


class BackgroundLoop:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = CALL_TIMEOUT_S) -> T:
        """Run `coro` on the background loop and wait for its result (not from the loop's
        own thread: that would wait for itself)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("BackgroundLoop.run called from its own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the fake did not answer within {timeout_s:g} s") from None

    def call(self, fn: Callable[[], T]) -> T:
        """Call `fn` on the loop's thread (to read or change the fake's state safely)."""

        async def wrapper() -> T:
            return fn()

        return self.run(wrapper())

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self.loop.is_running():
            self.run(cancel_all())
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self.loop.is_running():
            self.loop.close()


class BackgroundFake:
    """A fake service living on its own `BackgroundLoop`: `with Fake(...) as fake:` starts
    it (`_start` on the loop) and stops it (`_stop`); `fake.read(fn)` calls `fn` on the
    loop's thread, to read or change the fake's state safely."""

    loop_name = "fake"

    def __init__(self) -> None:
        self._background: BackgroundLoop | None = None

    async def _start(self) -> None:
        """Open the fake's servers (on its loop)."""

    async def _stop(self) -> None:
        """Close them (on its loop)."""

    def start(self) -> Self:
        self._background = BackgroundLoop(self.loop_name)
        self._background.run(self._start())
        return self

    def stop(self) -> None:
        if self._background is None:
            return
        with contextlib.suppress(Exception):
            self._background.run(self._stop())
        self._background.close()
        self._background = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _loop(self) -> BackgroundLoop:
        if self._background is None:
            raise RuntimeError("the fake is not running")
        return self._background

    def read(self, read: Callable[[], T]) -> T:
        """`read()`, called on the fake's own thread: `fake.read(lambda: fake.calls)`."""
        return self._loop().call(read)
