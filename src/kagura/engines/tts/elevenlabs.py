"""ElevenLabs' voices, streamed as raw PCM while they are spoken.

The wire format (ElevenLabs API reference, "Stream speech"):

    POST {base_url}/v1/text-to-speech/{voice_id}/stream?output_format=pcm_24000
    xi-api-key: <key>
    Content-Type: application/json
    {"text": "...", "model_id": "eleven_flash_v2_5",
     "voice_settings": {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0,
                        "use_speaker_boost": true, "speed": 1.0}}

answered with chunked 16-bit little-endian mono PCM at the rate named by `pcm_<rate>`;
errors are JSON (`{"detail": {"status": "invalid_api_key", "message": ...}}`) with 401,
422, 429 and so on. One HTTP request with httpx does all of this: the `elevenlabs` SDK would
add a dependency tree and its own retries and timeouts for the same POST, while the turn
needs its deadlines and its errors (naming the URL and the setting) to be ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from kagura.audio import Speech
from kagura.config import TTSConfig

from .hosted import PcmClient, api_key, missing_key
from .pcm import collect

SERVICE = "ElevenLabs"
SETTING = "tts.elevenlabs"


class ElevenLabsTTS:
    runs_locally = False

    def __init__(self, config: TTSConfig) -> None:
        self._settings = settings = config.elevenlabs
        self._key = api_key(settings.api_key, settings.KEY_ENV)
        self._client = PcmClient(
            service=SERVICE,
            setting=SETTING,
            key_env=settings.KEY_ENV,
            ca_file=settings.ca_file,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=config.segment_timeout_s,
        )
        base = settings.base_url.rstrip("/")
        self._url = f"{base}/v1/text-to-speech/{settings.voice_id}/stream"

    async def load(self) -> None:
        """Nothing to load: the service owns the voice. A missing key is said at start-up."""
        self._client.check()
        if not self._key:
            raise missing_key(SERVICE, SETTING, self._settings.KEY_ENV)

    def stream(self, text: str) -> AsyncIterator[Speech]:
        return self._stream(text)

    async def _stream(self, text: str) -> AsyncIterator[Speech]:
        settings = self._settings
        if not self._key:
            raise missing_key(SERVICE, SETTING, settings.KEY_ENV)
        body = {
            "text": text,
            "model_id": settings.model_id,
            "voice_settings": {
                "stability": settings.stability,
                "similarity_boost": settings.similarity_boost,
                "style": settings.style,
                "use_speaker_boost": settings.use_speaker_boost,
                "speed": settings.speed,
            },
        }
        pieces = self._client.stream(
            self._url,
            sample_rate=settings.sample_rate,
            params={"output_format": f"pcm_{settings.sample_rate}"},
            headers={"xi-api-key": self._key},
            json=body,
        )
        async with aclosing(pieces):
            async for piece in pieces:
                yield piece

    async def synthesize(self, text: str) -> Speech:
        return await collect(self.stream(text), source=SERVICE)

    async def aclose(self) -> None:
        await self._client.aclose()
