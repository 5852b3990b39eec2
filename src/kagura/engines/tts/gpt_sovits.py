"""GPT-SoVITS: a voice cloned from a few seconds of reference audio, served by `api_v2.py`.

Checked against RVC-Boss/GPT-SoVITS `api_v2.py` (its `TTS_Request` model, `check_params`,
`tts_handle` and `wave_header_chunk`):

- `POST /tts` with a JSON body named after its parameters: `text`, `text_lang`,
  `ref_audio_path` (a path on that server), `prompt_text`, `prompt_lang`, `top_k`, `top_p`,
  `temperature`, `text_split_method`, `speed_factor`, `media_type`, `streaming_mode`.
- Success is 200 with audio. With `streaming_mode` and `media_type: wav` the first chunk is a
  44-byte WAV header written by Python's `wave` for zero frames (its sizes say 0), then raw
  16-bit PCM at the model's rate (32 kHz for v1/v2, 24 kHz for v3, 48 kHz for v4), one chunk
  per fragment. Without streaming, one whole WAV. Both are read by `WavStreamReader`, which
  takes the rate from the header and ignores the sizes.
- Errors are 400 with `{"message": ...}` (a missing field, an unsupported language) or
  `{"message": "tts failed", "Exception": ...}`; a wrong type is FastAPI's 422.
  `streaming_mode` is sent as a bool: older servers declare it `bool`, newer ones take
  `bool | int` (True is their mode 1).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from kagura.audio import Speech
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError

from .pcm import WavStreamReader, collect
from .voice_server import Server, VoiceClient

PATH = "/tts"
SETTING = "tts.gpt_sovits"


class GptSovitsTTS:
    runs_locally = False

    def __init__(self, config: TTSConfig) -> None:
        self._config = config
        server = Server("GPT-SoVITS", config.gpt_sovits.base_url, SETTING)
        self._voice = VoiceClient(server, config.segment_timeout_s, {})

    async def load(self) -> None:
        """Nothing to load (the server holds the voice); a missing reference is said now."""
        self._check()

    def _check(self) -> None:
        if not self._config.gpt_sovits.ref_audio_path:
            raise EngineError(
                f"GPT-SoVITS needs a reference clip: set {SETTING}.ref_audio_path to its path "
                "on the GPT-SoVITS server (and prompt_text to what it says)"
            )

    async def synthesize(self, text: str) -> Speech:
        return await collect(self.stream(text), source=self._voice.server.source)

    def stream(self, text: str) -> AsyncIterator[Speech]:
        reader = WavStreamReader(source=self._voice.server.source)
        return self._voice.speak(lambda: self._request(text), reader)

    def _request(self, text: str) -> httpx.Request:
        self._check()
        settings = self._config.gpt_sovits
        body = {
            "text": text,
            "text_lang": settings.text_lang,
            "ref_audio_path": settings.ref_audio_path,
            "prompt_text": settings.prompt_text,
            "prompt_lang": settings.prompt_lang,
            "top_k": settings.top_k,
            "top_p": settings.top_p,
            "temperature": settings.temperature,
            "text_split_method": settings.text_split_method,
            "speed_factor": settings.speed_factor,
            "media_type": "wav",
            "streaming_mode": settings.streaming_mode,
        }
        return self._voice.request(PATH, json=body)

    async def aclose(self) -> None:
        await self._voice.aclose()
