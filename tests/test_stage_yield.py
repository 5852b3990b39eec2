"""The stage yields to the streamer (issue #22, item 1): while an admin's voice speaks no chat
reply starts, the streamer is answered first, and with `streamer_addressing: by_name` only
words that name the character are answered.

A real `kagura serve` hears real speech (piper's voice) sent as binary PCM by the admin, with
the embedded silero VAD, Smart Turn and faster-whisper; the LLM is the scripted fake, which
records every prompt. The pure parts (name matching, the hold's lapse, the lanes served
while yielding) and the voice input's `Speaking` reports are tested here too."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kagura.audio import Speech, float_to_int16
from kagura.config import StageConfig
from kagura.stage.addressing import Addressing, normal
from kagura.stage.events import ChatEvent, Lane
from kagura.stage.hold import StreamerHold
from kagura.stage.policy import FloodPolicy
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from kagura.voice import Speaking, Utterance, VoiceEngines, VoiceEvent, VoiceInput
from tests.support import speech
from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_START, StageClient, Watcher, stage_stats, user_messages
from tests.support.wait import until

from .conftest import server_fixture

ALIAS = "Robin"
ASKED = f"{ALIAS}, please tell me a story about a brave little dragon."
TO_AUDIENCE = "Thanks everyone for coming to the stream today."
NAMED = f"{ALIAS}, what is your favourite colour?"
CHUNK_S = 0.02

yielding = server_fixture(
    "yield",
    asr={"provider": "whisper"},
    stage={
        "batch_max": 1,
        "user_rate_per_min": 0,
        "dedup_window_s": 0,
        "streamer_addressing": "by_name",
        "character_aliases": [ALIAS],
    },
    system={"log_level": "debug"},
)


@functools.cache
def spoken(sentence: str) -> speech.Audio:
    """The sentence with 0.5 s of silence before and 1.5 s after (the microphone stays open)."""
    return speech.padded(speech.piper(sentence), 0.5, 1.5)


def transcriptions(watcher: Watcher) -> list[str]:
    return [m["text"] for m in watcher.messages if m["type"] == "user-input-transcription"]


# -- through a real server -----------------------------------------------------------------


@pytest.mark.embedded
async def test_chat_waits_while_the_streamer_speaks_and_the_streamer_goes_first(
    yielding: KaguraProcess, fake: FakeOpenAI
) -> None:
    """Danmaku arriving while the admin speaks waits: no turn starts until the utterance has
    ended and been transcribed; then the streamer's words are the first prompt, chat next."""
    fake.script = LLMScript(reply="Okay, got it.")
    async with (
        StageClient(yielding) as admin,
        StageClient(yielding, "platform") as viewer,
    ):
        for client in (admin, viewer):
            await client.connect_sequence()
        async with Watcher(admin) as on_admin:
            talking = asyncio.create_task(speech.stream(admin, spoken(ASKED)))
            await until(lambda: _speaking(yielding), 30, "the stage to hear the streamer speaking")
            await viewer.chat("what game is this?", user="Finn")
            # Held while they speak: the chat waits, nothing has started.
            stats = await until(lambda: _chat_waiting(yielding), 30, "chat waiting")
            assert stats["streamer_speaking"] is True and stats["answering"] is False, stats
            await talking
            await on_admin.wait_turns(2, timeout=90)
    # The streamer's words as heard, then the chat as the stage took it up.
    heard, chat = transcriptions(on_admin)
    assert chat == "Finn: what game is this?", chat
    assert speech.word_error_rate(ASKED, heard) <= 0.2, heard
    seen = on_admin.messages
    assert seen.index({"type": "user-input-transcription", "text": heard}) < seen.index(
        CHAIN_START
    ), "a turn started before the streamer had finished"
    first, second = user_messages(fake.chat_requests())
    assert first == heard and "Finn" in second, (first, second)
    assert (await stage_stats(yielding))["streamer_speaking"] is False


@pytest.mark.embedded
async def test_by_name_answers_only_words_that_name_the_character(
    yielding: KaguraProcess, fake: FakeOpenAI
) -> None:
    """Talking to the audience: shown as a transcription, not answered, the floor given
    back. Naming the character by its alias: answered."""
    fake.script = LLMScript(reply="Blue, of course.")
    async with StageClient(yielding) as admin:
        await admin.connect_sequence()
        async with Watcher(admin) as on_admin:
            await speech.stream(admin, spoken(TO_AUDIENCE))
            await on_admin.wait_for(lambda m: m["type"] == "user-input-transcription")
            await until(lambda: _not_speaking(yielding), 30, "the floor given back")
            await speech.stream(admin, spoken(NAMED))
            await on_admin.wait_turns(1, timeout=90)
    to_audience, named = transcriptions(on_admin)
    assert speech.word_error_rate(TO_AUDIENCE, to_audience) <= 0.2, to_audience
    assert user_messages(fake.chat_requests()) == [named], "only the named words are answered"
    seen = on_admin.messages
    assert seen.index({"type": "user-input-transcription", "text": named}) < seen.index(CHAIN_START)


@pytest.mark.embedded
async def test_kagura_chat_owes_no_answer_to_words_for_the_audience(
    yielding: KaguraProcess, fake: FakeOpenAI, tmp_path: Path
) -> None:
    """`kagura chat --wav` is told which words the stage will not answer: it prints them
    with the reason, waits for no reply to them, and exits 0 once the named words are
    answered."""
    fake.script = LLMScript(reply="Blue, of course.")
    wavs = [
        speech.write_wav(tmp_path / f"{n}.wav", speech.piper(sentence))
        for n, sentence in enumerate((TO_AUDIENCE, NAMED), 1)
    ]
    drop = {"DISPLAY", "WAYLAND_DISPLAY", "KAGURA_AUTH_TOKEN"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {"PYTHONUNBUFFERED": "1"}
    options = ["--url", yielding.http_url, "--no-browser", "--speed", "4", "--reply-timeout", "60"]
    command = [sys.executable, "-m", "kagura", "chat", "--wav", *map(str, wavs), *options]
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, cwd=tmp_path, env=env, timeout=240
    )
    assert done.returncode == 0, done.stderr.decode()
    assert "not answered: the character was not named" in done.stderr.decode()
    said = [line for line in done.stdout.decode().splitlines() if line.startswith("Kagura: ")]
    assert said == ["Kagura: Blue, of course."], done.stdout.decode()
    assert len(fake.chat_requests()) == 1


async def _speaking(server: KaguraProcess) -> bool:
    return bool((await stage_stats(server))["streamer_speaking"])


async def _not_speaking(server: KaguraProcess) -> bool:
    return not await _speaking(server)


async def _chat_waiting(server: KaguraProcess) -> dict[str, Any] | None:
    stats = await stage_stats(server)
    return stats if stats["waiting"]["danmaku"] == 1 else None


# -- the voice input's reports ---------------------------------------------------------------




async def _feed(voice: VoiceInput, audio: np.ndarray) -> None:
    step = int(CHUNK_S * speech.RATE)
    for start in range(0, audio.size, step):
        await voice.feed(audio[start : start + step])


@pytest.mark.embedded
async def test_the_voice_input_reports_the_speaker_not_the_characters_echo(
    engines: VoiceEngines,
) -> None:
    """The character's own voice coming back while it plays never takes the floor; the
    streamer speaking after it does, from their first words until their utterance is out."""
    playing = [True]
    events: list[VoiceEvent] = []
    voice = VoiceInput(engines, events.append, lambda: playing[0], "t")
    reply = speech.piper("The little dragon flew over the sea. It was a long way home.")
    voice.reply_started()
    voice.character_said(Speech(float_to_int16(reply), speech.RATE))
    echo = np.concatenate([speech.silence(0.15), 0.5 * reply, speech.silence(1.2)])
    echo += np.random.default_rng(3).normal(0, 0.003, echo.size).astype(np.float32)
    await _feed(voice, echo)
    assert not [e for e in events if isinstance(e, Speaking)], events
    playing[0] = False
    await _feed(voice, speech.padded(speech.piper(NAMED), 0.5, 2.0))
    await until(lambda: Speaking(False) in events, 20, "the floor given back")
    await voice.aclose()
    reports = [e if isinstance(e, Speaking) else type(e) for e in events]
    assert reports == [Speaking(True), Utterance, Speaking(False)], reports


# -- the pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Kagura, what do you think?", "hey KAGURA!", "ｋａｇｕｒａ、どう思う？", "我们问问神乐吧。"],
)
def test_by_name_finds_a_name_or_alias_in_any_case_width_and_script(text: str) -> None:
    assert Addressing(["Kagura", "神乐"]).names_character(normal(text))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_hold_nobody_ends_lapses_with_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    hold = StreamerHold(clock, limit_s=95)
    hold.speaking("admin", True)
    clock.now += 60
    hold.speaking("admin", True)  # a new stretch of speech: the hold goes on
    clock.now += 90
    assert hold.active and hold.remaining_s() == pytest.approx(5)
    clock.now += 6
    with caplog.at_level(logging.WARNING, logger="kagura.stage.hold"):
        assert not hold.active
        assert not hold.active
    assert len(caplog.records) == 1 and "admin" in caplog.records[0].getMessage()


def test_the_floor_is_held_while_any_admin_speaks() -> None:
    hold = StreamerHold(Clock(), limit_s=95)
    hold.speaking("a", True)
    hold.speaking("b", True)
    hold.speaking("a", False)
    assert hold.active
    hold.speaking("b", False)
    hold.speaking("b", False)  # told twice (the voice input, then its connection closing)
    assert not hold.active and hold.remaining_s() == 0


def test_while_yielding_only_the_streamers_lane_is_served() -> None:
    policy = FloodPolicy(StageConfig(), Clock())
    policy.offer(ChatEvent(lane=Lane.SUPERCHAT, text="paid", kind="superchat", user_name="A"))
    policy.offer(ChatEvent(lane=Lane.DANMAKU, text="hello", kind="danmaku", user_name="B"))
    assert policy.take(Lane.STREAMER) is None
    policy.offer(ChatEvent(lane=Lane.STREAMER, text="my words"))
    batch = policy.take(Lane.STREAMER)
    assert batch is not None and batch.events[0].text == "my words"
    assert policy.take(Lane.STREAMER) is None
    assert [b.lane for b in (policy.take(), policy.take())] == [Lane.SUPERCHAT, Lane.DANMAKU]
