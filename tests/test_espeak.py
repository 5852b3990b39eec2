"""espeak-ng speaks every other language; Chinese (`cmn`) through a real turn."""

from __future__ import annotations

import base64
import io
import shutil
import wave

import numpy as np
import pytest

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import fake_engines

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is installed by `make setup`"
)


async def test_chinese_reply_spoken_by_espeak(fake: FakeOpenAI, tmp_path) -> None:
    config = fake_engines(fake, tts={"provider": "espeak", "espeak": {"voice": "cmn"}})
    fake.script = LLMScript(reply="[joy] 你好，我是神乐。今天天气很好！")
    with KaguraProcess(tmp_path, config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            seen = await client.turn("你好")
    audio = [m for m in seen if m["type"] == "audio"]
    assert [a["display_text"]["text"] for a in audio] == [
        "[joy] 你好，",  # the first clause, on its own: speech starts at once
        "我是神乐。",
        "今天天气很好！",
    ]
    for payload in audio:
        with wave.open(io.BytesIO(base64.b64decode(payload["audio"]))) as wav:
            samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(float)
            assert wav.getnframes() / wav.getframerate() > 0.5
        assert np.sqrt(np.mean(samples**2)) > 300
        assert len(payload["volumes"]) > 10
    assert audio[0]["actions"]["expressions"] == [1]
