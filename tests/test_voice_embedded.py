"""Voice input on the real embedded engines, in this process: faster-whisper, silero VAD and
the Smart Turn model hear real speech of known sentences (piper's voice, made here)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from kagura.audio import Speech, float_to_int16
from kagura.config import KaguraConfig
from kagura.engines import vad
from kagura.engines.asr.whisper import _loops
from kagura.voice import Interruption, Utterance, VoiceEngines, VoiceEvent, VoiceInput
from kagura.voice.endpoint import EndOfTurn, Endpointer, Paused
from tests.support import speech
from tests.support.wait import until

pytestmark = pytest.mark.embedded

SENTENCES = [
    "What is your favourite colour?",
    "Please tell me a story about a brave little dragon.",
    "I would like to hear a song about the sea.",
    "How was the weather in your town today?",
    "Can you tell me what you had for breakfast this morning?",
]
CHUNK_S = 0.02  # what a browser's audio worklet sends at a time




def endpoint(audio: np.ndarray, **voice: Any) -> list[Any]:
    config = KaguraConfig.model_validate({"voice": voice})
    endpointer = Endpointer(vad.create(config.vad), config.vad, config.voice, 60)
    events: list[Any] = []
    step = int(CHUNK_S * speech.RATE)
    for start in range(0, audio.size, step):
        events += endpointer.feed(audio[start : start + step])
    return events


class Listener:
    """A voice input fed in real time, as a microphone would, recording its events."""

    def __init__(self, engines: VoiceEngines, audible: bool = False) -> None:
        self.events: list[tuple[float, VoiceEvent]] = []
        self.started = time.perf_counter()
        self.input = VoiceInput(engines, self._sink, lambda: audible, "test")

    def _sink(self, event: VoiceEvent) -> None:
        self.events.append((time.perf_counter() - self.started, event))

    async def stream(self, audio: np.ndarray) -> None:
        step = int(CHUNK_S * speech.RATE)
        self.started = time.perf_counter()
        for i, start in enumerate(range(0, audio.size, step)):
            await self.input.feed(audio[start : start + step])
            ahead = self.started + (i + 1) * CHUNK_S - time.perf_counter()
            if ahead > 0:
                await asyncio.sleep(ahead)  # the microphone's pace

    def utterances(self) -> list[tuple[float, Utterance]]:
        return [(t, e) for t, e in self.events if isinstance(e, Utterance)]


@pytest.fixture
async def listener(engines: VoiceEngines) -> AsyncIterator[Listener]:
    heard = Listener(engines)
    yield heard
    await heard.input.aclose()


async def test_whisper_transcribes_known_sentences(engines: VoiceEngines) -> None:
    errors = []
    for sentence in SENTENCES:
        text = await engines.asr.transcribe(speech.piper(sentence))
        errors.append(speech.word_error_rate(sentence, text))
    assert float(np.mean(errors)) <= 0.10, list(zip(SENTENCES, errors, strict=True))


def test_vad_finds_speech_within_a_fifth_of_a_second_of_its_edges() -> None:
    for sentence in SENTENCES[:3]:
        voice = speech.piper(sentence)
        audio = speech.padded(voice, 1.0, 2.0)
        start, end = speech.speech_edges(audio)
        ended = [
            e for e in endpoint(audio, turn={"provider": "silence"}) if isinstance(e, EndOfTurn)
        ]
        assert len(ended) == 1, f"{sentence!r}: {ended}"
        assert abs(ended[0].speech_start_s - start) <= 0.2, (sentence, ended[0], start)
        assert abs(ended[0].speech_end_s - end) <= 0.2, (sentence, ended[0], end)


async def test_the_pre_roll_keeps_the_first_word(engines: VoiceEngines) -> None:
    """The detector is sure of speech only some windows after it began: with the pre-roll
    the turn's audio starts before the speech does, and the first word is transcribed;
    without it the onset of the first word ("s") is cut off."""
    sentence = "Sing me a song."
    audio = speech.padded(speech.piper(sentence), 1.0, 2.0)
    onset, _ = speech.speech_edges(audio)
    kept, cut = (
        next(
            event
            for event in endpoint(audio, turn={"provider": "silence"}, pre_roll_ms=ms)
            if isinstance(event, EndOfTurn)
        )
        for ms in (400, 0)
    )
    # With the pre-roll the turn's audio starts well before the sound does; without it, it
    # starts only where the detector became sure, after the sound began: the onset is lost
    # (Whisper may still guess the word from the rest).
    assert kept.audio_start_s < onset - 0.1 < kept.speech_start_s
    assert cut.audio_start_s == cut.speech_start_s > onset, "without a pre-roll the onset is lost"
    first = speech.words(await engines.asr.transcribe(kept.audio))
    assert first[:1] == ["sing"], first


def spoken(*parts: str | float) -> tuple[np.ndarray, float]:
    """Sentences (trimmed to their sound) and pauses in seconds; → audio with 0.5 s of
    silence before and 2 s after, and where the last speech ends."""
    pieces = [speech.silence(0.5)]
    for part in parts:
        if isinstance(part, str):
            voice = speech.piper(part)
            start, end = speech.speech_edges(voice)
            pieces.append(voice[int(start * speech.RATE) : int(end * speech.RATE)])
        else:
            pieces.append(speech.silence(part))
    end_s = sum(piece.size for piece in pieces) / speech.RATE
    return np.concatenate([*pieces, speech.silence(2.0)]), end_s


async def test_a_pause_in_the_middle_of_a_sentence_does_not_end_the_turn(
    listener: Listener,
) -> None:
    audio, _ = spoken("So I was thinking that maybe we could", 0.4, "go to the park tomorrow.")
    await listener.stream(audio)
    await until(lambda: listener.utterances(), 10, "the turn to be transcribed")
    [(_, utterance)] = listener.utterances()
    said = speech.words(utterance.text)
    assert "thinking" in said and "park" in said, utterance.text


async def test_a_finished_sentence_ends_the_turn_well_before_the_silence_fallback(
    engines: VoiceEngines,
) -> None:
    """Both runs hear the same audio; what counts is when each found the turn over, after
    the last speech (the transcript, begun at the pause, may come later on a busy machine)."""
    audio, end_s = spoken("Please tell me a story about dragons.")
    ends = {}
    for provider in ("smart_turn", "silence"):
        config = engines.config.model_copy(deep=True)
        config.voice.turn.provider = provider  # type: ignore[assignment]
        heard = Listener(VoiceEngines(config, engines.asr, engines.end_of_turn))
        await heard.stream(audio)
        await until(lambda heard=heard: heard.utterances(), 10, "the turn to be transcribed")
        [(_, utterance)] = heard.utterances()
        await heard.input.aclose()
        assert utterance.timing is not None
        ends[provider] = (utterance.timing.ended - heard.started - end_s, utterance.reason)
    model_s, reason = ends["smart_turn"]
    fallback_s, fallback_reason = ends["silence"]
    assert (reason, fallback_reason) == ("model", "silence"), ends
    timeout_s = engines.config.voice.turn.silence_timeout_ms / 1000
    assert fallback_s >= timeout_s - 0.05, ends
    # The pause the model's verdict waits for (voice.turn.min_pause_ms, 400 ms, behind the
    # model's run: ~70 ms alone, several times that on a busy machine): well before the
    # fallback's second of silence.
    assert model_s < fallback_s - 0.2, ends


# A clause that is a whole sentence, a comma's pause (people pause 200-400 ms there), the rest.
COMMA_SENTENCES = [("I just beat the boss", "that was so hard!"), ("Wait", "stop talking please.")]
COMMA_PAUSE_S = 0.4


@pytest.mark.parametrize("min_pause_ms", [400, 200])
def test_a_finished_verdict_waits_for_the_shortest_pause(min_pause_ms: int) -> None:
    """As if the model found every pause final the instant it was asked: the verdict holds
    until the pause has lasted `min_pause_ms`, so a comma's 300 ms pause does not end the
    turn and the pause after the sentence does. With the hold as short as the first ask
    (200 ms, the VAD's min_silence_ms) the comma cuts the sentence in two."""
    first, rest = COMMA_SENTENCES[0]
    audio, end_s = spoken(first, COMMA_PAUSE_S, rest)
    config = KaguraConfig.model_validate({"voice": {"turn": {"min_pause_ms": min_pause_ms}}})
    endpointer = Endpointer(vad.create(config.vad), config.vad, config.voice, 60)
    ended: list[EndOfTurn] = []
    step = int(CHUNK_S * speech.RATE)
    for start in range(0, audio.size, step):
        for event in endpointer.feed(audio[start : start + step]):
            if isinstance(event, Paused) and not event.again:
                now = endpointer.end_turn(event.pause)
                ended += [now] if now else []
            elif isinstance(event, EndOfTurn):
                ended.append(event)
    assert all(e.reason == "model" for e in ended), ended
    if min_pause_ms == 400:
        [turn] = ended
        assert abs(turn.speech_end_s - end_s) <= 0.2, (turn, end_s)
    else:
        assert len(ended) == 2, ended


@pytest.mark.parametrize(("first", "rest"), COMMA_SENTENCES)
async def test_a_commas_pause_after_a_whole_clause_does_not_cut_the_speaker(
    listener: Listener, first: str, rest: str
) -> None:
    """Each clause is spoken on its own, so the first sounds as finished as a sentence can
    (Smart Turn scores it so); heard in real time, the comma's pause still does not end
    the turn."""
    audio, _ = spoken(first, COMMA_PAUSE_S, rest)
    await listener.stream(audio)
    await until(lambda: listener.utterances(), 10, "the turn to be transcribed")
    said = [speech.words(utterance.text) for _, utterance in listener.utterances()]
    assert len(said) == 1, said
    assert speech.word_error_rate(f"{first}, {rest}", " ".join(said[0])) <= 0.25, said


def test_a_pause_is_asked_about_again_as_it_goes_on() -> None:
    audio, _ = spoken("So I was thinking that maybe we could")
    for recheck_ms, again in ((200, 3), (0, 0)):
        events = endpoint(audio, turn={"silence_timeout_ms": 1000, "recheck_ms": recheck_ms})
        paused = [e for e in events if isinstance(e, Paused)]
        # The first at vad.min_silence_ms (200), again at 400, 600 and 800; silence ends it.
        assert [p.again for p in paused] == [False] + [True] * again, paused
        assert {p.pause for p in paused} == {1}
        assert [e.reason for e in events if isinstance(e, EndOfTurn)] == ["silence"]


@pytest.mark.parametrize("similarity", [0.6, 1.0])
async def test_the_characters_own_voice_does_not_interrupt_it(
    engines: VoiceEngines, similarity: float
) -> None:
    """The reply comes back into the microphone (quieter, 150 ms late, with noise) while it
    plays: ignored. With the echo check off (1.0) the same audio interrupts: the check, not
    the thresholds, is what keeps the character from interrupting itself."""
    config = engines.config.model_copy(deep=True)
    config.voice.barge_in.echo_similarity = similarity
    playing = [True]
    events: list[VoiceEvent] = []
    shared = VoiceEngines(config, engines.asr, engines.end_of_turn)
    voice = VoiceInput(shared, events.append, lambda: playing[0], "t")
    reply = speech.piper("The little dragon flew over the sea. It was a long way home.")
    voice.reply_started()
    voice.character_said(Speech(float_to_int16(reply), speech.RATE))
    # Fed faster than real time: the silence after it (longer than the silence timeout)
    # ends the echo's segment whenever the end-of-turn model answers.
    echo = np.concatenate([speech.silence(0.15), 0.5 * reply, speech.silence(1.2)])
    echo += np.random.default_rng(3).normal(0, 0.003, echo.size).astype(np.float32)
    step = int(CHUNK_S * speech.RATE)
    for start in range(0, echo.size, step):
        await voice.feed(echo[start : start + step])
    playing[0] = False  # the reply is over; the streamer speaks
    asked = speech.padded(speech.piper(SENTENCES[0]), 0.5, 2.0)
    for start in range(0, asked.size, step):
        await voice.feed(asked[start : start + step])
    await until(lambda: any(isinstance(e, Utterance) for e in events), 10, "the question")
    await voice.aclose()
    interruptions = [e for e in events if isinstance(e, Interruption)]
    utterances = [e for e in events if isinstance(e, Utterance)]
    if similarity < 1.0:
        assert not interruptions, events
        assert len(utterances) == 1, utterances
        assert speech.word_error_rate(SENTENCES[0], utterances[0].text) <= 0.2, utterances
    else:
        assert interruptions, "without the echo check its own voice must interrupt"


def test_a_looping_transcript_is_recognised() -> None:
    assert _loops("can you tell me what you had can you tell me what", "en")
    assert not _loops("please tell me a story about a brave little dragon", "en")
    assert not _loops("no no no", "en")
    # Chinese has no spaces: runs of characters (punctuation aside).
    assert _loops("你好,我給你好,我給你好,我給你好", "zh")
    assert not _loops("我们一起去吃饭吧,我们走吧", "zh")
