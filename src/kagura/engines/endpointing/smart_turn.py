"""Smart Turn v3 (BSD-2) on onnxruntime: does the speech so far sound finished?

The model and its numpy Whisper feature extractor ship inside the `pipecat-ai` wheel, which
is installed without its dependencies (the `[tool.uv]` overrides in pyproject.toml): the
framework itself is never imported (its package imports libraries we do not install), only
these two files are read, by path.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from kagura.config import EndOfTurnConfig
from kagura.engines.asr.base import SAMPLE_RATE, FloatAudio
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel, package_dir

from .base import MAX_SECONDS

log = logging.getLogger(__name__)

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
# Where the files sit inside the `pipecat` package of the pipecat-ai wheel.
PACKAGE_DIR = Path("audio", "turn", "smart_turn")
WINDOW = int(MAX_SECONDS * SAMPLE_RATE)


def _package_dir() -> Path:
    """The Smart Turn folder of the installed `pipecat` package."""
    missing = (
        "the Smart Turn model is missing: the package `pipecat-ai` is not installed (run "
        "`make setup`), or set voice.turn.smart_turn.model_path, or voice.turn.provider: silence"
    )
    return package_dir("pipecat", missing) / PACKAGE_DIR


def _load_features(folder: Path) -> ModuleType:
    """The numpy Whisper log-mel extractor beside the model (it imports only numpy)."""
    path = folder / "_whisper_features.py"
    spec = importlib.util.spec_from_file_location("kagura_smart_turn_features", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise EngineError(f"the Smart Turn feature extractor {path} is missing (pipecat-ai)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Loaded:
    def __init__(self, session: Any, features: ModuleType) -> None:
        self.session = session
        self.features = features


class SmartTurn(LocalModel[_Loaded]):
    """One inference session shared by every stream, one call at a time in its own thread
    (a call is tens of milliseconds; streams pausing at the same moment simply queue)."""

    def __init__(self, config: EndOfTurnConfig) -> None:
        super().__init__(workers=1, thread_name_prefix="kagura-turn")
        self._config = config

    def _load_blocking(self) -> _Loaded:
        folder = _package_dir()
        settings = self._config.smart_turn
        model = Path(settings.model_path) if settings.model_path else folder / "data" / MODEL_FILE
        if not model.is_file():
            raise EngineError(f"no Smart Turn model at {model} (voice.turn.smart_turn.model_path)")
        started = time.perf_counter()
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = settings.threads
        options.enable_cpu_mem_arena = False  # no arena kept between calls: idle RSS stays low
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        features = _load_features(folder)
        log.info("loaded Smart Turn from %s in %.2f s", model, time.perf_counter() - started)
        return _Loaded(session, features)

    async def probability(self, audio: FloatAudio) -> float | None:
        loaded = await self._loaded()
        return await self._in_thread(self._probability_blocking, loaded, audio)

    @staticmethod
    def _probability_blocking(loaded: _Loaded, audio: FloatAudio) -> float:
        # The model hears the last 8 s, padded with silence in front when shorter.
        window = np.zeros(WINDOW, dtype=np.float32)
        tail = np.asarray(audio[-WINDOW:], dtype=np.float32)
        if tail.size:
            window[-tail.size :] = tail
        features = loaded.features.compute_whisper_log_mel_features(window, do_normalize=True)
        outputs = loaded.session.run(None, {"input_features": features[np.newaxis]})
        return float(np.asarray(outputs[0]).reshape(-1)[0])
