"""Fish Speech on your own server, or Fish Audio's hosted voices: one API, `POST /v1/tts`.

Checked against fishaudio/fish-speech `fish_speech/utils/schema.py` (`ServeTTSRequest`),
`tools/server/views.py`, `api_utils.py`, `inference.py`, `exception_handler.py` and
`tools/api_server.py`, and Fish Audio's API reference and Python SDK (`fishaudio`):

- The body is msgpack or JSON (the server's `MsgPackRequest` takes both; JSON is used here):
  `text`, `reference_id`, `format` (wav, pcm, mp3, opus), `latency` (normal, balanced),
  `normalize`, `chunk_length` (100..300 is valid for both). Fish Audio also takes
  `sample_rate` and reads the model from a `model` header (s2-pro, s1...); the self-hosted
  server ignores both. Authorization is `Bearer <key>`: always for Fish Audio, and for a
  server started with `--api-key`.
- Fish Audio streams its answer in the requested format: WAV header first, or bare PCM at
  `sample_rate`. The self-hosted server streams only with `streaming: true`, which it allows
  for wav only; its WAV header is built as a numpy array and then dropped by the
  `isinstance(chunk, bytes)` filter of `inference_async`, so the body is bare 16-bit PCM at
  the decoder's rate (44.1 kHz) although its type says audio/wav. Without streaming it sends
  one whole WAV. So the reader looks at the first bytes: a RIFF header is read as a WAV, and
  anything else as PCM at `sample_rate`.
- Errors: the server's `{"statusCode", "message", "error"}` (400 for a streaming format other
  than wav, 500 when inference fails), a 422 for a body its schema refuses, 401 for a wrong
  key; Fish Audio's `{"status", "message"}` (402: no credit or a bad key) or plain text.

`base_url` decides which it is: https://api.fish.audio (with or without /v1) is Fish Audio,
which needs a key and is not sent the self-hosted `streaming` field.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from kagura.audio import Speech
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError

from .pcm import WavOrPcm, collect
from .voice_server import Server, VoiceClient

PATH = "/v1/tts"
SETTING = "tts.fish_speech"
HOSTED_HOST = "api.fish.audio"
KEY_VARIABLE = "FISH_API_KEY"
CHUNK_LENGTH = 200  # both servers' default: characters the text is cut into inside a request


class FishSpeechTTS:
    runs_locally = False

    def __init__(self, config: TTSConfig) -> None:
        self._config = config
        settings = config.fish_speech
        root = settings.base_url.rstrip("/").removesuffix("/v1")
        self.hosted = urlsplit(root).hostname == HOSTED_HOST
        self._key = settings.api_key or os.environ.get(KEY_VARIABLE, "")
        headers = {"model": settings.model} if self.hosted else {}
        if self._key:
            headers["authorization"] = f"Bearer {self._key}"
        server = Server("Fish Audio" if self.hosted else "Fish Speech", root, SETTING)
        self._voice = VoiceClient(server, config.segment_timeout_s, headers)

    async def load(self) -> None:
        """Nothing to load (the server holds the voices); a missing key is said now."""
        self._check()

    def _check(self) -> None:
        if self.hosted and not self._key:
            raise EngineError(
                f"Fish Audio needs an API key: set {SETTING}.api_key (best as "
                f"${{{KEY_VARIABLE}}}) or the {KEY_VARIABLE} environment variable"
            )
        if not self.hosted and self._config.fish_speech.format != "wav":
            raise EngineError(
                f"a Fish Speech server makes wav only (pcm is Fish Audio's): set "
                f"{SETTING}.format: wav"
            )

    async def synthesize(self, text: str) -> Speech:
        return await collect(self.stream(text), source=self._voice.server.source)

    def stream(self, text: str) -> AsyncIterator[Speech]:
        reader = WavOrPcm(self._config.fish_speech.sample_rate, source=self._voice.server.source)
        return self._voice.speak(lambda: self._request(text), reader)

    def _request(self, text: str) -> httpx.Request:
        self._check()
        settings = self._config.fish_speech
        body: dict[str, Any] = {
            "text": text,
            "format": settings.format,
            "latency": settings.latency,
            "normalize": True,
            "chunk_length": CHUNK_LENGTH,
        }
        if settings.reference_id:
            body["reference_id"] = settings.reference_id
        if self.hosted:
            body["sample_rate"] = settings.sample_rate
        else:
            body["streaming"] = settings.format == "wav"  # the server streams wav only
        return self._voice.request(PATH, json=body)

    async def aclose(self) -> None:
        await self._voice.aclose()
