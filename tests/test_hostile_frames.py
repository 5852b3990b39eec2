"""Hostile frames on every endpoint: each gets an `error`, the connection stays usable, the
log gets one line (never a traceback), and a second client is served throughout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import pytest

from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

ENDPOINTS = ["/client-ws", "/proxy-ws", "/widget-ws"]
HOSTILE: list[tuple[str, str]] = [
    ("[" * 5000 + "]" * 5000, "nested deeper than 32 levels"),  # 10 KB, 5,000 deep
    ('{"type": "heartbeat", "x": ' + "[" * 1500 + "]" * 1500 + "}", "nested deeper"),
    ('{"type": "heartbeat", "n": ' + "9" * 100_000 + "}", "not usable JSON"),
    ('{"type": "text-input", "text": "\\ud800"', "not valid JSON"),  # cut short
    ("\x00\x01\x02", "not valid JSON"),
]


def url(server: KaguraProcess, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


async def greeted(client: ProtocolClient, path: str) -> None:
    if path != "/widget-ws":  # widgets get no greeting
        await client.connect_sequence()


@contextlib.asynccontextmanager
async def bystander(server: KaguraProcess) -> AsyncIterator[list[float]]:
    """A second client sending heartbeats all along; yields the round trips it measured."""
    trips: list[float] = []
    stop = asyncio.Event()
    async with ProtocolClient(url(server, "/client-ws")) as client:
        await client.connect_sequence()

        async def beat() -> None:
            while not stop.is_set():
                started = time.monotonic()
                await client.send({"type": "heartbeat"})
                assert await client.recv(10) == {"type": "heartbeat-ack"}
                trips.append(time.monotonic() - started)

        task = asyncio.create_task(beat())
        try:
            yield trips
        finally:
            stop.set()  # not a cancel: a cancelled `wait_for` may swallow it (Python 3.11)
            await asyncio.wait_for(task, 15)  # raises what failed in the bystander


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_hostile_frames_get_an_error_and_change_nothing(
    kagura: KaguraProcess, path: str
) -> None:
    async with bystander(kagura) as trips, ProtocolClient(url(kagura, path)) as client:
        await greeted(client, path)
        for frame, expected in HOSTILE:
            for _ in range(20):  # a burst: the log must not grow with it
                await client.send_raw(frame)
            for _ in range(20):
                reply = await client.recv(10)
                assert reply["type"] == "error" and expected in reply["message"], reply
            await client.send({"type": "heartbeat"})
            assert await client.recv(10) == {"type": "heartbeat-ack"}
        answered = len(trips)
    assert answered > 0
    log = kagura.log_path.read_text("utf-8", "replace")
    assert "Traceback" not in log and "RecursionError" not in log
    # One line per mistake at most, and fewer than the 100 mistakes sent.
    assert log.count("bad frame from") < 20


async def test_a_large_legal_frame_does_not_hold_up_others(kagura: KaguraProcess) -> None:
    audio = json.dumps({"type": "mic-audio-data", "audio": [0.123456] * 150_000})  # ~1.3 MB
    async with bystander(kagura) as trips, ProtocolClient(url(kagura, "/client-ws")) as client:
        await client.connect_sequence()
        for _ in range(5):
            await client.send_raw(audio)
        await client.send({"type": "heartbeat"})
        assert await client.recv(30) == {"type": "heartbeat-ack"}
    assert trips, "the bystander was answered while the large frames were parsed"
