"""The simulated stream benchmark's harness (`bench/stream.py`) on a one-minute slice with a
streamer's speech stretch in it, so a change that lets the character talk over the streamer,
or leaves a question to it unanswered, fails here before the full benchmark is run. A real
server hears real speech (piper's voice as binary PCM, its silero VAD and Smart Turn); the
LLM, TTS and ASR are the scripted fakes; the clock is scaled as in the benchmark."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from stream import REPLAY, measure
from stream_run import load, run

FACTOR = 12.0
ONSET_S = 0.5  # wall seconds: the VAD's onset (vad.min_speech_ms) and a poll
SLICE = (75.0, 60.0)  # stream seconds: the first stretch of the streamer's speech in it


@pytest.mark.embedded
async def test_a_minute_of_the_stream_yields_to_the_streamer_and_answers_questions(
    tmp_path: Path,
) -> None:
    replay = load(REPLAY, *SLICE)
    assert any(event["type"] == "streamer" for event in replay)
    seen = await run(tmp_path, replay, "normal", FACTOR, tail_s=1.0)
    result = measure(seen, "normal", FACTOR, SLICE[1])
    assert seen.speech and result.hold_s > 0, "the stage never heard the streamer"
    # Only a reply that began before the voice detector could be sure (its 250 ms of
    # speech, real time) may start as the streamer does; none once the floor is held.
    assert result.during_hold == 0, result.during_speech
    assert all(offset < ONSET_S for offset in result.during_speech), result.during_speech
    assert result.replies > 0
    for tag in ("named", "question"):
        assert result.sent[tag] > 0 and result.answered[tag] == result.sent[tag], (
            tag,
            result.sent,
            result.answered,
        )
    assert result.same_reply == 0
