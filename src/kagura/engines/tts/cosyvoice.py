"""CosyVoice through its FastAPI server, in the voice of a built-in speaker or a reference clip.

Checked against FunAudioLLM/CosyVoice `runtime/python/fastapi/server.py` and `client.py`
(and `cosyvoice/cli/cosyvoice.py` for the rates):

- `POST /inference_sft` with form fields `tts_text` and `spk_id`; `POST /inference_zero_shot`
  with `tts_text`, `prompt_text` and the clip as the multipart file `prompt_wav`. Fields are
  FastAPI `Form()`s: a missing or empty one is a 422 `{"detail": [...]}`.
- The answer is a `StreamingResponse` of bare 16-bit PCM, one chunk per sentence of the text,
  with no header and no content type: the rate is the model's (`sample_rate` in its yaml:
  24000 for CosyVoice2 and 3, 22050 for CosyVoice 1), so it is a setting here.
- A speaker the model does not have fails inside the stream, after the 200: the server drops
  the connection, which is reported as audio broken off, pointing at the settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from kagura.audio import Speech
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError

from .pcm import PcmReader, collect
from .voice_server import Server, VoiceClient

SETTING = "tts.cosyvoice"
MAX_PROMPT_BYTES = 20 * 2**20  # a 3 to 10 s reference clip is well under 2 MB


class CosyVoiceTTS:
    runs_locally = False

    def __init__(self, config: TTSConfig) -> None:
        self._config = config
        server = Server("CosyVoice", config.cosyvoice.base_url, SETTING)
        self._voice = VoiceClient(server, config.segment_timeout_s, {})
        self._prompt_wav: bytes | None = None

    async def load(self) -> None:
        """Read the reference clip once (zero_shot sends it with every request)."""
        settings = self._config.cosyvoice
        if settings.mode == "sft":
            if not settings.spk_id:
                raise EngineError(f"CosyVoice's sft mode needs a speaker: set {SETTING}.spk_id")
            return
        if not settings.prompt_text:
            raise EngineError(
                f"CosyVoice's zero_shot mode needs {SETTING}.prompt_text: what the reference "
                "clip says"
            )
        self._prompt_wav = _read_clip(settings.prompt_wav_path)

    async def synthesize(self, text: str) -> Speech:
        return await collect(self.stream(text), source=self._voice.server.source)

    def stream(self, text: str) -> AsyncIterator[Speech]:
        reader = PcmReader(self._config.cosyvoice.sample_rate, source=self._voice.server.source)
        return self._voice.speak(lambda: self._request(text), reader)

    def _request(self, text: str) -> httpx.Request:
        settings = self._config.cosyvoice
        if settings.mode == "sft":
            fields = {"tts_text": text, "spk_id": settings.spk_id}
            return self._voice.request("/inference_sft", data=fields)
        if self._prompt_wav is None:
            # load() failed at start-up (its error was logged): say it again, in the turn.
            self._prompt_wav = _read_clip(settings.prompt_wav_path)
        fields = {"tts_text": text, "prompt_text": settings.prompt_text}
        clip = ("prompt_wav.wav", self._prompt_wav, "application/octet-stream")
        return self._voice.request("/inference_zero_shot", data=fields, files={"prompt_wav": clip})

    async def aclose(self) -> None:
        await self._voice.aclose()


def _read_clip(setting: str) -> bytes:
    if not setting:
        raise EngineError(
            f"CosyVoice's zero_shot mode needs a reference clip: set {SETTING}.prompt_wav_path "
            f"to a WAV file of 3 to 10 s (or use mode: sft with {SETTING}.spk_id)"
        )
    path = Path(setting).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_PROMPT_BYTES:
            raise EngineError(
                f"{SETTING}.prompt_wav_path: {path} is {size // 2**20} MB; a reference clip "
                "is a few seconds (under 20 MB)"
            )
        return path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise EngineError(f"{SETTING}.prompt_wav_path: cannot read {path}: {reason}") from None
