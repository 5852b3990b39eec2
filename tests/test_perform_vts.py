"""`kagura perform vts` as a streamer runs it: a real process on the stage of a real
`kagura serve` (the fake LLM and TTS), driving a fake VTube Studio that speaks its plugin API.

The performer is the only client that acknowledges playback, and the server waits
`playback_margin_s` (8 s here) beyond the audio for an acknowledgement: a turn that ends
within a moment of its audio was acknowledged by the performer, once it was heard.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from kagura.testing.fake_vts import FakeVTS
from kagura.testing.ports import free_port
from tests.support.perform import PerformProcess, stage_turn
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient
from tests.support.wait import until, wait_until

from .conftest import server_fixture

MARGIN_S = 8.0  # the server's wait for an acknowledgement beyond the audio
ACKED_WITHIN_S = 2.0  # a turn acknowledged when heard ends this soon after its audio
FILE_SLACK_S = 0.03  # the file against the payloads: rounding at each resampled segment
TWO_EMOTIONS = "[joy] Hello there, it is lovely to see you. [sadness] But I have to go soon."

server = server_fixture("perform", conversation={"playback_margin_s": MARGIN_S})


@pytest.fixture
def vts() -> Iterator[FakeVTS]:
    with FakeVTS() as fake:
        yield fake


@pytest.fixture
async def admin(server: KaguraProcess) -> AsyncIterator[StageClient]:
    async with StageClient(server, "admin") as client:
        await client.connect_sequence()
        yield client


def mouth(records: dict[str, Any]) -> list[tuple[float, float]]:
    return [(t, values["MouthOpen"]) for t, values in records["injected"] if "MouthOpen" in values]


async def test_emotions_fire_hotkeys_and_the_mouth_follows_what_is_heard(
    tmp_path: Path, server: KaguraProcess, fake: FakeOpenAI, vts: FakeVTS, admin: StageClient
) -> None:
    fake.script = LLMScript(reply=TWO_EMOTIONS)
    with PerformProcess(tmp_path, server, vts.url) as performer:
        performer.wait_log("hotkey 'Smile'")  # the mapping, logged: joy → hotkey 'Smile'
        assert "sadness → hotkey 'Sad'" in performer.log()
        turn = await stage_turn(admin, "Hello!")
        audio_s = turn.audio_s
        # Acknowledged by the performer once heard, long before the server's margin.
        assert audio_s > 2
        assert turn.ended_after_audio_s < audio_s + ACKED_WITHIN_S, (
            turn.ended_after_audio_s,
            audio_s,
        )
        # The closed mouth, after the voice; and the expression switched off after the reply.
        await until(lambda: mouth(vts.snapshot())[-1][1] == 0.0, 5, "the mouth closed")
        await until(
            lambda: len(vts.snapshot()["triggered"]) == 4, 5, "the last expression switched off"
        )
        records = vts.snapshot()
        # The file holds what was said: all of it, and nothing else.
        assert abs(performer.audio_s() - audio_s) < FILE_SLACK_S, (performer.audio_s(), audio_s)
    # Each emotion switched its toggle on when its segment began, the one before off first.
    names = [name for _, name in records["triggered"]]
    assert names == ["Smile", "Smile", "Sad", "Sad"], names
    assert records["expressions"] == dict.fromkeys(records["expressions"], False)
    # The mouth moves while the voice is heard, from its start to its end, then closes.
    open_ = [(t, v) for t, v in mouth(records) if v > 0]
    assert max(v for _, v in open_) > 0.5
    first_open, last_open = open_[0][0], open_[-1][0]
    assert abs((last_open - first_open) - audio_s) < 0.3, (last_open - first_open, audio_s)
    assert 0 <= first_open - turn.first("audio") < 0.5
    smile_on = records["triggered"][0][0]
    assert abs(smile_on - first_open) < 0.3
    sad_on = records["triggered"][2][0]
    assert first_open + 1 < sad_on < last_open  # the second segment's start, not the message's
    # Sent steadily while speaking: VTube Studio keeps a parameter sent within each second.
    times = [t for t, _ in mouth(records) if first_open <= t <= last_open]
    assert max(b - a for a, b in itertools.pairwise(times)) < 0.5  # well within 1 s
    assert len(times) > 20 * audio_s  # about 30 a second
    assert all(v == 0.0 for t, v in mouth(records) if t > last_open)


async def test_the_token_is_kept_reused_and_asked_again_once_revoked(
    tmp_path: Path, server: KaguraProcess, fake: FakeOpenAI, vts: FakeVTS, admin: StageClient
) -> None:
    first = PerformProcess(tmp_path, server, vts.url)
    with first:
        first.wait_log("is allowed")
    token = first.token_file.read_text().strip()
    assert stat.S_IMODE(os.stat(first.token_file).st_mode) == 0o600
    assert token not in first.log()  # a secret never reaches the log
    with PerformProcess(tmp_path, server, vts.url) as second:
        second.wait_log("connected")
        records = vts.snapshot()
        assert len(records["token_requests"]) == 1  # the streamer approved once
        assert records["logins"][-1] == (token, True)
        # The streamer revokes the plugin mid-stream: its next requests are refused, and the
        # performer asks again, while the voice plays on.
        vts.revoke()
        fake.script = LLMScript(reply="[joy] Did somebody just revoke me?")
        turn = await stage_turn(admin, "Hi!")
        assert turn.ended_after_audio_s < turn.audio_s + ACKED_WITHIN_S
        second.wait_log("connected again")
        assert "no longer accepts the saved plugin token" in second.log()
    records = vts.snapshot()
    assert len(records["token_requests"]) == 2
    assert [ok for _, ok in records["logins"][-2:]] == [False, True]
    assert first.token_file.read_text().strip() not in ("", token)


async def test_without_vts_the_voice_plays_on_and_vts_is_joined_when_it_starts(
    tmp_path: Path, server: KaguraProcess, fake: FakeOpenAI, admin: StageClient
) -> None:
    fake.script = LLMScript(reply="[joy] Nobody is watching my face, but you can hear me.")
    port = free_port()
    with PerformProcess(tmp_path, server, f"ws://127.0.0.1:{port}") as performer:
        performer.wait_log("VTube Studio does not answer")
        turn = await stage_turn(admin, "Are you there?")
        assert turn.ended_after_audio_s < turn.audio_s + ACKED_WITHIN_S
        wait_until(lambda: performer.audio_s() >= turn.audio_s - FILE_SLACK_S, 5, "the voice")
        assert abs(performer.audio_s() - turn.audio_s) < FILE_SLACK_S
        # Said once, however often it was tried meanwhile.
        assert performer.log().count("VTube Studio does not answer") == 1
        with FakeVTS(port=port) as late:
            performer.wait_log("is allowed")
            assert late.snapshot()["authenticated"] == 1


async def test_a_denied_plugin_is_said_clearly_and_the_voice_plays_on(
    tmp_path: Path, server: KaguraProcess, fake: FakeOpenAI, vts: FakeVTS, admin: StageClient
) -> None:
    vts.approve = False
    fake.script = LLMScript(reply="[joy] I may not move my face today.")
    with PerformProcess(tmp_path, server, vts.url) as performer:
        performer.wait_log("denied the plugin 'Kagura'")
        turn = await stage_turn(admin, "Hello?")
        assert turn.ended_after_audio_s < turn.audio_s + ACKED_WITHIN_S
        wait_until(lambda: performer.audio_s() >= turn.audio_s - FILE_SLACK_S, 5, "the voice")
        assert "restart `kagura perform vts`" in performer.log()
    records = vts.snapshot()
    assert len(records["token_requests"]) == 1  # asked once, never pestered again
    assert not records["injected"] and not records["triggered"]
    assert not performer.token_file.exists()


async def test_an_interrupt_stops_the_voice_at_once(
    tmp_path: Path, server: KaguraProcess, fake: FakeOpenAI, vts: FakeVTS, admin: StageClient
) -> None:
    fake.script = LLMScript(reply="[joy] " + "This is a very long story about a cat. " * 3)
    fake.tts_script = TTSScript(seconds_per_char=0.06)
    with PerformProcess(tmp_path, server, vts.url) as performer:
        performer.wait_log("is allowed")
        await admin.send({"type": "text-input", "text": "Tell me a story."})
        wait_until(lambda: performer.audio_s() > 1.0, 15, "a second of the story")
        await admin.send({"type": "interrupt-signal", "text": ""})
        await admin.recv_until("control", "conversation-chain-end", timeout=10)
        await until(lambda: mouth(vts.snapshot())[-1][1] == 0.0, 5, "the mouth closed")
        cut_at = performer.audio_s()
        assert cut_at < 3 * 0.06 * 39 - 2  # far from the whole story
        # The rest of the story is dropped: the next reply follows what was heard.
        fake.script = LLMScript(reply="Okay, another time.")
        turn = await stage_turn(admin, "Never mind.")
        wait_until(lambda: performer.audio_s() >= cut_at + turn.audio_s - FILE_SLACK_S, 5, "it")
        assert abs(performer.audio_s() - (cut_at + turn.audio_s)) < FILE_SLACK_S
