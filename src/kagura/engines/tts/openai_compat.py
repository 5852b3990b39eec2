"""Any server with an OpenAI-compatible `/audio/speech` endpoint."""

from __future__ import annotations

import wave

import httpx2
import numpy as np
import openai

from kagura.audio import Speech, decode_wav
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError
from kagura.engines.openai_client import BEARER, explain, make_client

# OpenAI's `pcm` format; used when a server ignores our request for WAV.
RAW_PCM_RATE = 24000


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
        settings = self._config.openai
        try:
            response = await self._client.post(
                "/audio/speech",
                body={
                    "model": settings.model,
                    "voice": settings.voice,
                    "input": text,
                    "response_format": "wav",
                },
                cast_to=httpx2.Response,
                options=BEARER,
            )
        except openai.OpenAIError as exc:
            raise EngineError(
                explain(exc, what="TTS", base_url=settings.base_url, setting="tts.openai.base_url")
            ) from exc
        data = response.content
        if data[:4] == b"RIFF":
            try:
                return decode_wav(data)
            except (wave.Error, ValueError, EOFError) as exc:
                raise EngineError(
                    f"TTS server at {settings.base_url} sent a bad WAV: {exc}"
                ) from exc
        return Speech(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").copy(), RAW_PCM_RATE)

    async def aclose(self) -> None:
        await self._client.close()
