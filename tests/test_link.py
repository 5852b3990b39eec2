"""The one link Kagura's own clients share (`kagura.link`): what a refusal says, and the live
link's frame limit against a scripted stage that sends more than a platform client hears."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection

from kagura.auth import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED, REFUSALS
from kagura.link import LIVE, REFUSED_STATUSES, Refusal
from kagura.live.outbox import Outbox
from kagura.live.proxy import ProxyLink
from kagura.live.settings import RunnerSettings
from tests.support.wait import until

from .widget_helpers import ScriptedServer

BACKOFF_INITIAL_S, BACKOFF_MAX_S = 0.05, 0.4


def test_a_refusal_says_what_it_means_and_what_the_server_said() -> None:
    closed = Refusal(CLOSE_UNAUTHORIZED, " wrong token\n")
    assert str(closed) == "close 4401: wrong token"
    assert closed.explained() == "wrong or missing token (close 4401: wrong token)"
    answered = Refusal(CLOSE_FORBIDDEN, "origin 'http://evil' not allowed", status=403)
    assert answered.explained() == "forbidden (HTTP 403: origin 'http://evil' not allowed)"
    assert str(Refusal(CLOSE_UNAUTHORIZED, "")) == "close 4401"
    assert len(Refusal(CLOSE_UNAUTHORIZED, "x" * 10_000).reason) <= 200  # a body is clipped
    assert set(REFUSALS) == {4400, 4401, 4403}
    assert REFUSED_STATUSES == {400: 4400, 401: 4401, 403: 4403}


async def test_a_frame_above_the_live_links_limit_closes_it_and_it_reconnects_with_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stage sends a frame exactly at the limit (read), then one byte more (refused with
    1009); the link comes back each time, later and later."""
    limit = LIVE.max_frame_bytes
    at_limit = json.dumps({"type": "error", "message": "at the limit", "pad": ""})
    at_limit = at_limit.replace('"pad": ""', f'"pad": "{"x" * (limit - len(at_limit))}"')
    assert len(at_limit) == limit
    opened: list[float] = []
    codes: list[int | None] = []

    def too_much(ws: ServerConnection) -> None:
        opened.append(time.monotonic())
        ws.send(at_limit)
        ws.send("y" * (limit + 1))
        with contextlib.suppress(ConnectionClosed):
            for _ in ws:
                pass
        codes.append(ws.close_code)

    caplog.set_level(logging.INFO, "kagura.live.proxy")
    with ScriptedServer(too_much) as server:
        link = ProxyLink(_settings(f"{server.url}/proxy-ws"), Outbox(10))
        running = asyncio.create_task(link.run())
        try:
            await until(lambda: len(codes) >= 4, 20, "four connections closed by the client")
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    assert codes[:4] == [1009] * 4, codes
    assert link.reconnects >= 3 and link.rejected >= 4
    assert "the stage answered: at the limit" in caplog.text
    assert "closed here (1009" in caplog.text and "reconnecting in" in caplog.text
    # Backoff with equal jitter waits at least half of 0.05, 0.1, 0.2 s: not a hot loop.
    least = sum(BACKOFF_INITIAL_S * 2**n / 2 for n in range(3))
    assert opened[3] - opened[0] >= least, opened


def _settings(url: str) -> RunnerSettings:
    return RunnerSettings(
        proxy_url=url,
        token="",
        buffer_events=10,
        watchdog_s=5,
        backoff_initial_s=BACKOFF_INITIAL_S,
        backoff_max_s=BACKOFF_MAX_S,
        status_interval_s=0,
        forward_entries=True,
        forward_likes=True,
    )
