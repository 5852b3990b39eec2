"""Any server with an OpenAI-compatible `/audio/speech` endpoint.

The answer is read as it arrives: servers that stream (Kokoro-FastAPI, openedai-speech, OpenAI
itself: chunked, no length) send a WAV header and then samples as they make them, so the first
piece plays before the sentence is finished. A server that says the length had the whole WAV
before it answered: it is one piece, sent on as it came. A server that ignores the format asked
for and sends bare samples is read as OpenAI's `pcm` (24 kHz).
"""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator

import httpx2
import numpy as np
import openai

from kagura.audio import Speech, decode_wav
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError
from kagura.engines.openai_client import explain, make_client

from .pcm import WavOrPcm, collect

# OpenAI's `pcm` format; used when a server ignores our request for WAV.
RAW_PCM_RATE = 24000


def whole(data: bytes, source: str) -> Speech:
    """A complete answer: a WAV (kept as sent), or bare samples at OpenAI's `pcm` rate."""
    if data[:4] != b"RIFF":
        return Speech(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").copy(), RAW_PCM_RATE)
    try:
        return decode_wav(data)
    except (wave.Error, ValueError, EOFError) as exc:
        raise EngineError(f"{source} sent a bad WAV: {exc}") from exc


class OpenAICompatibleTTS:
    runs_locally = False

    def __init__(self, config: TTSConfig) -> None:
        self._config = config
        self._client = make_client(
            config.openai.base_url, config.openai.api_key, config.segment_timeout_s
        )

    async def load(self) -> None:
        """Nothing to load: the server owns the voice."""

    async def synthesize(self, text: str) -> Speech:
        return await collect(self.stream(text), source=self._source)

    async def stream(self, text: str) -> AsyncIterator[Speech]:
        settings = self._config.openai
        reader = WavOrPcm(RAW_PCM_RATE, source=self._source)
        speech = self._client.audio.speech.with_streaming_response.create(
            model=settings.model, voice=settings.voice, input=text, response_format="wav"
        )
        try:
            async with speech as response:
                if response.http_response.headers.get("content-length") is not None:
                    yield whole(await response.read(), self._source)
                    return
                async for chunk in response.iter_bytes():
                    piece = reader.feed(chunk)
                    if piece is not None:
                        yield piece
        except openai.OpenAIError as exc:
            raise EngineError(
                explain(exc, what="TTS", base_url=settings.base_url, setting="tts.openai.base_url")
            ) from exc
        except httpx2.HTTPError as exc:
            raise EngineError(
                f"{self._source} broke off mid-audio ({type(exc).__name__}); is it restarting?"
            ) from exc
        last = reader.flush()
        if last is not None:
            yield last

    @property
    def _source(self) -> str:
        return f"TTS server at {self._config.openai.base_url}"

    async def aclose(self) -> None:
        await self._client.close()
