"""Any server with an OpenAI-compatible `/audio/transcriptions` endpoint (any language)."""

from __future__ import annotations

from collections.abc import Sequence

import openai

from kagura.audio import Speech, encode_wav, float_to_int16
from kagura.config import ASRConfig
from kagura.engines.errors import EngineError
from kagura.engines.openai_client import explain, make_client

from .base import SAMPLE_RATE, FloatAudio
from .hints import name_hint


class OpenAICompatibleASR:
    def __init__(self, config: ASRConfig, names: Sequence[str] = ()) -> None:
        self._config = config
        # The character's names as the text said before (the API's `prompt`): a Whisper
        # server then spells them as given.
        self._prompt = name_hint(names)
        self._client = make_client(config.openai.base_url, config.openai.api_key, config.timeout_s)

    async def load(self) -> None:
        """Nothing to load: the server owns the model."""

    async def transcribe(self, audio: FloatAudio) -> str:
        settings = self._config.openai
        wav = encode_wav(Speech(float_to_int16(audio), SAMPLE_RATE))
        try:
            result = await self._client.audio.transcriptions.create(
                model=settings.model,
                file=("speech.wav", wav, "audio/wav"),
                language=settings.language or openai.omit,
                prompt=self._prompt or openai.omit,
            )
        except openai.OpenAIError as exc:
            raise EngineError(
                explain(exc, what="ASR", base_url=settings.base_url, setting="asr.openai.base_url")
            ) from exc
        return result.text.strip()

    async def aclose(self) -> None:
        await self._client.close()
