"""The embedded ASR: faster-whisper with a shipped model, tiny.en (English) or base
(multilingual): see `whisper_models`.

Whisper was trained on 30 s windows, and faster-whisper pads every utterance to one: on this
machine the encoder then spends ~300 ms on silence for a two-second sentence. A spoken turn
is short, so by default (`asr.whisper.short_window`) the encoder hears a shorter window
(the way whisper.cpp's `audio_ctx` does): the utterance and silence after it, at least
`MIN_WINDOW_S` and `WINDOW_FACTOR` times the speech. In a window much tighter than that,
tiny.en starts repeating the sentence to fill it; a transcript that still runs into its
token cap is redone the usual way. Longer audio goes through faster-whisper's own
`transcribe`. With `language: auto` the language is detected on the same short window.

The character's names go before the utterance as the text said before it (`hints`), and
what was heard as Chinese is written in one script (`chinese`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from kagura.config import AUTO_LANGUAGE, ASRConfig
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel

from .base import SAMPLE_RATE, FloatAudio
from .chinese import in_script
from .hints import name_hint
from .whisper_models import model_dir

log = logging.getLogger(__name__)

WINDOW_S = 30.0  # what the model was trained on
MIN_WINDOW_S = 10.0
WINDOW_FACTOR = 3.0
HOP = 160  # samples per feature frame (10 ms)
# Tokens a sentence needs: ~5 per second of speech; the cap stops a runaway repetition.
TOKENS_BASE, TOKENS_PER_S, MAX_TOKENS = 16, 12, 440
# The model's own verdict that the audio holds no speech (faster-whisper's default).
NO_SPEECH = 0.6
# Tokens of a prompt besides the hint: previous-text mark, start, language, task, timestamps.
PROMPT_TOKENS = 5
LOOP_WORDS = 4
LOOP_CHARS = 6  # a Chinese or Japanese word is one to three characters
# Languages written without spaces: their segments are joined as they are.
UNSPACED = frozenset({"zh", "yue", "ja"})


class Heard(NamedTuple):
    text: str
    language: str  # Whisper's code, "en" for an English-only model


class Loaded(NamedTuple):
    model: Any  # faster_whisper.WhisperModel
    hint: str  # the names, as the text before each utterance ("" for none)


class WhisperASR(LocalModel[Loaded]):
    """faster-whisper in one worker thread: one transcription at a time, loaded once, on
    first use (its worker thread, not the event loop, waits for the load)."""

    def __init__(self, config: ASRConfig, names: Sequence[str] = ()) -> None:
        super().__init__(workers=1, thread_name_prefix="kagura-asr")
        self._config = config
        self._names = tuple(names)

    def _load_blocking(self) -> Loaded:
        settings = self._config.whisper
        path = model_dir(self._config)
        # The model is local; never let the hub client try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        started = time.perf_counter()
        log.info("loading Whisper for its first use (in the background)")
        from faster_whisper import WhisperModel

        model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)
        multilingual = bool(model.model.is_multilingual)
        if not multilingual and settings.language not in (AUTO_LANGUAGE, "en"):
            raise EngineError(
                f"the Whisper model in {path} hears English only: asr.whisper.language "
                f"{settings.language} needs a multilingual one (asr.whisper.model_path)"
            )
        log.info("loaded Whisper from %s in %.1f s", path, time.perf_counter() - started)
        return Loaded(model, name_hint(self._names, latin_only=not multilingual))

    async def transcribe(self, audio: FloatAudio) -> str:
        loaded = await self._loaded()
        return await self._in_thread(self._transcribe_blocking, loaded, audio)

    def _transcribe_blocking(self, loaded: Loaded, audio: FloatAudio) -> str:
        settings = self._config.whisper
        heard = transcribe_heard(
            loaded.model,
            audio,
            settings.language,
            settings.beam_size,
            loaded.hint,
            short_window=settings.short_window,
        )
        return in_script(heard.text, heard.language, settings.chinese)


def transcribe_heard(
    model: Any, audio: FloatAudio, language: str, beam: int, hint: str, *, short_window: bool
) -> Heard:
    """What `model` hears in `audio`, and in which language (`language` may be auto)."""
    fixed = None if language == AUTO_LANGUAGE else language
    fits = WINDOW_FACTOR * audio.size <= WINDOW_S * SAMPLE_RATE
    if short_window and fits:
        heard = _transcribe_short(model, audio, fixed, beam, hint)
        if heard is not None:
            return heard
        log.debug(
            "the short window looped or ran away (%.1f s of audio): 30 s window instead",
            audio.size / SAMPLE_RATE,
        )
    # Each 30 s window gets the token budget of its speech, and windows do not carry the
    # text before them: audio the model cannot read (noise, robotic speech) then costs a few
    # short decodes at rising temperatures, not several runs of a looping transcript up to
    # the model's 448 tokens (measured: 10 to 40 s for a 3 s utterance).
    seconds = min(audio.size / SAMPLE_RATE, WINDOW_S)
    room = model.max_length - PROMPT_TOKENS - len(model.hf_tokenizer.encode(" " + hint).ids)
    segments, info = model.transcribe(
        audio,
        language=fixed,
        beam_size=beam,
        vad_filter=False,
        hotwords=hint or None,
        condition_on_previous_text=False,
        max_new_tokens=min(room, _token_cap(seconds)),
    )
    joiner = "" if info.language in UNSPACED else " "
    return Heard(joiner.join(segment.text.strip() for segment in segments).strip(), info.language)


def _transcribe_short(
    model: Any, audio: FloatAudio, language: str | None, beam: int, hint: str
) -> Heard | None:
    """One short window, decoded without timestamps; None when the transcript loops."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    samples = np.asarray(audio, dtype=np.float32)
    window = max(MIN_WINDOW_S * SAMPLE_RATE, WINDOW_FACTOR * samples.size)
    features = model.feature_extractor(samples, padding=int(window) - samples.size)
    frames = min(features.shape[-1], int(window / HOP))
    frames -= frames % 2  # the encoder halves the frames
    batch = np.ascontiguousarray(features[np.newaxis, :, :frames], dtype=np.float32)
    encoded = model.model.encode(ctranslate2.StorageView.from_array(batch), to_cpu=False)
    multilingual = bool(model.model.is_multilingual)
    if not multilingual:
        language = "en"
    elif language is None:
        [ranked] = model.model.detect_language(encoded)
        language = str(ranked[0][0]).strip("<|>")  # "<|zh|>", the likeliest
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=language)
    # The names as the text said before: faster-whisper's `hotwords` layout.
    before = [tokenizer.sot_prev, *tokenizer.encode(" " + hint)] if hint else []
    cap = _token_cap(samples.size / SAMPLE_RATE)
    [result] = model.model.generate(
        encoded,
        [[*before, *tokenizer.sot_sequence, tokenizer.no_timestamps]],
        beam_size=beam,
        max_length=cap,
        return_no_speech_prob=True,
    )
    if result.no_speech_prob > NO_SPEECH:
        return Heard("", language)
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    text: str = tokenizer.decode(tokens).strip()
    if len(tokens) >= cap - len(tokenizer.sot_sequence) - 1 or _loops(text, language):
        return None
    return Heard(text, language)


def _token_cap(seconds: float) -> int:
    return min(MAX_TOKENS, TOKENS_BASE + int(TOKENS_PER_S * seconds))


def _loops(text: str, language: str) -> bool:
    """Whether a run of `LOOP_WORDS` words (`LOOP_CHARS` characters where words are not
    spaced) comes twice: how a window too short for the model shows (it says the sentence
    again), and almost never what someone said."""
    if language in UNSPACED:
        units, size = [c for c in text if c.isalnum()], LOOP_CHARS
    else:
        units, size = text.lower().split(), LOOP_WORDS
    runs = [tuple(units[i : i + size]) for i in range(len(units) - size + 1)]
    return len(set(runs)) < len(runs)
