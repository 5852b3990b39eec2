"""Waiting on a condition in tests: on what the system reports, never for a fixed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.02


async def until(condition: Callable[[], T | Awaitable[T]], timeout_s: float, what: str) -> T:
    """Poll `condition` (plain or async) until it returns something true, and return that;
    `AssertionError` naming `what` once `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(POLL_S)


def wait_until(condition: Callable[[], T], timeout_s: float, what: str) -> T:
    """`until` for code without an event loop (browser tests, fixtures)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(POLL_S)
