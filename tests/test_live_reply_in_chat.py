"""The character's replies in the platform's chat (`live.bilibili.reply_in_chat`): a real
`kagura serve` answers a viewer, `kagura live bilibili` hears the finished reply on the
widget channel and posts it as danmaku to the fake Bilibili, which checks what Bilibili
checks (login, CSRF token, length, pace)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kagura.live.chat_out import chat_lines
from kagura.testing.fake_bilibili import BILI_JCT, FakeBilibili
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.fake_bilibili.web_api import MAX_DANMAKU_CHARS
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from kagura.testing.fake_twitch import FakeTwitch, privmsg
from tests.support.server import KaguraProcess
from tests.support.stage import stage_url, watched_page
from tests.support.wait import until

from .conftest import server_fixture
from .live_helpers import (
    REAL,
    TWITCH_BOT,
    TWITCH_CHANNELS,
    TWITCH_OAUTH,
    bilibili_client,
    connected,
    joined,
    twitch_client,
)

pytestmark = pytest.mark.live

REPLY = "Definitely the one with the cats. It is so cozy! 我最喜欢有猫的那个游戏。"
REPLYING = {"bilibili": {"reply_in_chat": True, "reply_interval_s": 0.5, "bili_jct": BILI_JCT}}

stage_server = server_fixture("reply-stage", stage={"batch_max": 1})


def posted(bili: FakeBilibili) -> list[tuple[int, str]]:
    return bili.read(lambda: list(bili.web.sent))


async def test_a_reply_is_posted_in_chat_in_lines_bilibili_accepts(
    tmp_path: Path, bili: FakeBilibili, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=REPLY)
    bili.read(lambda: setattr(bili.web, "too_fast", 1))  # the first line is refused: 10030
    async with watched_page(stage_server) as seen:
        with bilibili_client(
            tmp_path, bili, stage_url(stage_server), token=None, live=REPLYING
        ) as client:
            await connected(bili)
            await until(lambda: "listening for replies" in client.log(), 15, "the reply feed")
            bili.push(m.danmaku("What is your favourite game?", 42, "Alice"))
            await seen.wait_turns(1, timeout=20)
            lines = chat_lines(REPLY, MAX_DANMAKU_CHARS)
            await until(lambda: len(posted(bili)) == len(lines), 20, "the reply's lines")
            assert client.stop() == 0
    assert posted(bili) == [(REAL, line) for line in lines]
    assert all(len(line) <= MAX_DANMAKU_CHARS for _, line in posted(bili))
    log = client.log()
    assert BILI_JCT not in log
    assert "reply lines not posted" not in log  # 10030 once: sent again, not lost


async def test_without_a_csrf_cookie_posting_stops_with_one_clear_line(
    tmp_path: Path, bili: FakeBilibili, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hello there! Nice to see you.")
    live: dict[str, Any] = {"bilibili": {**REPLYING["bilibili"], "bili_jct": ""}}
    async with watched_page(stage_server) as seen:
        with bilibili_client(
            tmp_path, bili, stage_url(stage_server), token=None, live=live
        ) as client:
            await connected(bili)
            await until(lambda: "listening for replies" in client.log(), 15, "the reply feed")
            for n in range(2):
                bili.push(m.danmaku(f"hello {n}", 50 + n, f"Viewer{n}"))
                await seen.wait_turns(n + 1, timeout=20)
            await until(lambda: "no longer posted" in client.log(), 15, "the refusal")
            bili.push(m.danmaku("still read", 43, "Bob"))
            await seen.wait_turns(3, timeout=20)  # reading chat goes on
            assert client.stop() == 0
    assert posted(bili) == []
    lines = [line for line in client.log().splitlines() if "no longer posted" in line]
    assert len(lines) == 1 and "bili_jct" in lines[0]


async def test_a_reply_is_posted_in_twitch_chat_and_a_refused_line_is_counted(
    tmp_path: Path, twitch: FakeTwitch, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hi Sam! Welcome to the stream.")
    channel = TWITCH_CHANNELS[0]
    live = {
        "twitch": {
            "login": TWITCH_BOT,
            "token": "${TWITCH_TOKEN}",
            "reply_in_chat": True,
            "reply_max_chars": 30,
            "reply_interval_s": 0.5,  # faster than the fake takes: lines are refused
        }
    }
    env = {"TWITCH_TOKEN": TWITCH_OAUTH}
    async with watched_page(stage_server) as seen:
        url = stage_url(stage_server)
        with twitch_client(tmp_path, twitch, url, token=None, live=live, env=env) as client:
            await joined(twitch, channel)
            await until(lambda: "listening for replies" in client.log(), 15, "the reply feed")
            twitch.send(channel, privmsg(channel, "sam", "hello!", user_id="901"))
            await seen.wait_turns(1, timeout=20)
            await until(lambda: twitch.read(lambda: list(twitch.said)), 15, "a line posted")
            fake.script = LLMScript(reply="One, two, three. Four, five, six. Seven, eight, nine.")
            twitch.send(channel, privmsg(channel, "ann", "count please", user_id="902"))
            await seen.wait_turns(2, timeout=20)
            await until(lambda: "Twitch refused a line" in client.log(), 15, "the refusal")
            assert client.stop() == 0
    said = twitch.read(lambda: list(twitch.said))
    assert said[0] == (TWITCH_BOT, channel, "Hi Sam! Welcome to the stream.")
    assert TWITCH_OAUTH not in client.log()
