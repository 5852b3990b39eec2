"""Bad frames get an `error` naming the problem (or a clean close); nothing else breaks."""

from __future__ import annotations

import json

import pytest
import websockets

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("this is not json", "not valid JSON"),
        ("[1, 2, 3]", "JSON object"),
        ('{"text": "no type"}', "no 'type'"),
        ('{"type": "launch-missiles"}', "unknown message type 'launch-missiles'"),
        ('{"type": "text-input"}', "text: Field required"),
        ('{"type": "text-input", "text": 42}', "text"),
        ('{"type": "fetch-and-set-history"}', "history_uid"),
        ('{"type": "mic-audio-data", "audio": "loud"}', "audio"),
        (json.dumps({"type": "text-input", "text": "x" * 5000}), "at most 4000 characters"),
        (
            json.dumps(
                {"type": "text-input", "text": "hi", "images": [{"data": "http://x/y.png"}]}
            ),
            "images.0.data",
        ),
    ],
)
async def test_bad_frame_gets_named_error(kagura: KaguraProcess, frame: str, expected: str) -> None:
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.send_raw(frame)
        reply = await client.recv(5)
        assert reply["type"] == "error"
        assert expected in reply["message"]
        await client.send({"type": "heartbeat"})
        assert await client.recv(5) == {"type": "heartbeat-ack"}


async def test_binary_frame(kagura: KaguraProcess) -> None:
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        # A binary frame is 16-bit PCM audio: an odd number of bytes cannot be that.
        await client.send_raw(b"\x00\x01binar")
        reply = await client.recv(5)
        assert reply["type"] == "error" and "binary frame" in reply["message"]
        await client.send({"type": "heartbeat"})
        assert await client.recv(5) == {"type": "heartbeat-ack"}


async def test_huge_frame_closes_only_that_connection(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Still here, still talking.")
    async with ProtocolClient(kagura.ws_url) as bystander:
        await bystander.connect_sequence()
        async with ProtocolClient(kagura.ws_url) as client:
            await client.connect_sequence()
            huge = json.dumps({"type": "text-input", "text": "x" * 10_000_000})
            # The server refuses the frame from its header and closes (1009, message too
            # big); the client may notice while still sending, as a reset.
            with pytest.raises((websockets.ConnectionClosed, ConnectionResetError)) as closed:
                await client.send_raw(huge)
                await client.recv(10)
            if isinstance(closed.value, websockets.ConnectionClosed) and closed.value.rcvd:
                assert closed.value.rcvd.code == 1009
        seen = await bystander.turn("Are you fine?")
        assert any(m["type"] == "audio" for m in seen)


async def test_empty_text_and_empty_audio(kagura: KaguraProcess) -> None:
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "text-input", "text": "   "})
        assert "empty" in (await client.recv(5))["message"]
        await client.send({"type": "mic-audio-end"})
        assert "no audio" in (await client.recv(5))["message"]
