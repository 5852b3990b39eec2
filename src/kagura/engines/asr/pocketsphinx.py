"""PocketSphinx: a light English fallback whose model ships in its wheel (fast, inaccurate)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kagura.audio import float_to_int16
from kagura.config import ASRConfig
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel

from .base import SAMPLE_RATE, FloatAudio

log = logging.getLogger(__name__)


class PocketsphinxASR(LocalModel[Any]):
    """One decoder in one worker thread: utterances are decoded one at a time."""

    def __init__(self, config: ASRConfig, names: Sequence[str] = ()) -> None:
        # `names` are not used: the decoder's dictionary and language model are fixed.
        super().__init__(workers=1, thread_name_prefix="kagura-asr")
        self._config = config

    def _load_blocking(self) -> Any:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise EngineError(
                "PocketSphinx is not installed: the package `pocketsphinx` is missing "
                "(run `make setup`), or choose another asr.provider"
            ) from exc
        started = time.perf_counter()
        options: dict[str, Any] = {"samprate": SAMPLE_RATE, "loglevel": "FATAL"}
        folder = self._config.pocketsphinx.model_path
        if folder:
            path = Path(folder)
            options.update(
                hmm=str(path / "en-us"),
                dict=str(path / "cmudict-en-us.dict"),
                lm=str(path / "en-us.lm.bin"),
            )
        try:
            decoder = Decoder(**options)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(
                f"PocketSphinx could not load its model ({exc}; asr.pocketsphinx.model_path)"
            ) from exc
        log.info("loaded PocketSphinx in %.1f s", time.perf_counter() - started)
        return decoder

    async def transcribe(self, audio: FloatAudio) -> str:
        decoder = await self._loaded()
        return await self._in_thread(self._transcribe_blocking, decoder, audio)

    @staticmethod
    def _transcribe_blocking(decoder: Any, audio: FloatAudio) -> str:
        decoder.start_utt()
        decoder.process_raw(float_to_int16(audio).astype("<i2").tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return str(hypothesis.hypstr).strip() if hypothesis is not None else ""
