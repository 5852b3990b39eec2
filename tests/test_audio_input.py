"""Voice input over /client-ws: mic audio → transcription → a turn, in protocol order."""

from __future__ import annotations

import numpy as np

from kagura.testing.fake_openai import ASRScript, FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.speech import send_floats

from .test_client_ws import types


async def test_mic_audio_turn(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.asr_script = ASRScript(text="What is your favourite colour?")
    fake.script = LLMScript(reply="I love the colour blue, it is calm.")
    tone = (0.3 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 220)).astype(np.float32)
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await send_floats(client, tone)
        await client.send({"type": "mic-audio-end"})
        seen = await client.collect_turn()
    assert types(seen)[:3] == [
        "control:conversation-chain-start",
        "full-text",
        "user-input-transcription",
    ]
    assert seen[2]["text"] == "What is your favourite colour?"
    assert fake.chat_requests()[-1]["messages"][-1]["content"] == "What is your favourite colour?"
    # The whole second of audio reached the ASR server as one WAV upload.
    [upload] = fake.transcription_requests()
    assert upload["file_size"] >= 32000
