"""Azure Speech's neural voices through its REST API, streamed as raw PCM.

The wire format (Azure "Text to speech REST API"):

    POST https://{region}.tts.speech.microsoft.com/cognitiveservices/v1
    Ocp-Apim-Subscription-Key: <key>
    Content-Type: application/ssml+xml
    X-Microsoft-OutputFormat: raw-24khz-16bit-mono-pcm
    User-Agent: <application name>
    <speak version='1.0' xmlns=... xml:lang='zh-CN'><voice name='zh-CN-XiaoxiaoNeural'>
      <mstts:express-as style='cheerful'><prosody rate='+0%' pitch='+0%'>...</prosody>
    </mstts:express-as></voice></speak>

answered with chunked raw 16-bit mono PCM at the format's rate as it is synthesised; a bad
key is 401 (often with an empty body), bad SSML 400, too many requests 429. The REST API
needs no SDK: the Speech SDK is a native library per platform for the same audio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from kagura.audio import Speech
from kagura.config import TTSConfig

from .hosted import PcmClient, api_key, missing_key
from .pcm import collect
from .ssml import azure_ssml

SERVICE = "Azure Speech"
SETTING = "tts.azure"
USER_AGENT = "kagura"
# X-Microsoft-OutputFormat of raw 16-bit mono PCM at each rate Kagura asks for.
OUTPUT_FORMATS = {
    16000: "raw-16khz-16bit-mono-pcm",
    22050: "raw-22050hz-16bit-mono-pcm",
    24000: "raw-24khz-16bit-mono-pcm",
    44100: "raw-44100hz-16bit-mono-pcm",
    48000: "raw-48khz-16bit-mono-pcm",
}


def region_url(region: str) -> str:
    return f"https://{region}.tts.speech.microsoft.com/cognitiveservices/v1"


class AzureTTS:
    runs_locally = False

    def __init__(self, config: TTSConfig) -> None:
        self._settings = settings = config.azure
        self._key = api_key(settings.api_key, settings.KEY_ENV)
        self._url = settings.endpoint or region_url(settings.region)
        self._client = PcmClient(
            service=SERVICE,
            setting=SETTING,
            key_env=settings.KEY_ENV,
            ca_file=settings.ca_file,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=config.segment_timeout_s,
        )

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
        ssml = azure_ssml(
            text,
            voice=settings.voice,
            style=settings.style,
            rate=settings.rate,
            pitch=settings.pitch,
        )
        pieces = self._client.stream(
            self._url,
            sample_rate=settings.sample_rate,
            headers={
                "Ocp-Apim-Subscription-Key": self._key,
                "Content-Type": "application/ssml+xml",
                "X-Microsoft-OutputFormat": OUTPUT_FORMATS[settings.sample_rate],
                "User-Agent": USER_AGENT,
            },
            content=ssml.encode("utf-8"),
        )
        async with aclosing(pieces):
            async for piece in pieces:
                yield piece

    async def synthesize(self, text: str) -> Speech:
        return await collect(self.stream(text), source=SERVICE)

    async def aclose(self) -> None:
        await self._client.aclose()
