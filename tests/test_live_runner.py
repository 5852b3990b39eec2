"""The shared runner, seen from the stage's side: the stage restarting while chat flows,
the bounded buffer, tokens, and clean exits on SIGINT and SIGTERM.

A Bilibili client drives it (any platform would do: the runner is the same for all), and a
`ProxyRecorder` stands in for the stage so every message can be counted exactly.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kagura.auth import Role, role_token
from kagura.testing.fake_bilibili import FakeBilibili
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.wait import until

from .live_helpers import bilibili_client, connected, received

pytestmark = pytest.mark.live


def push_danmaku(bili: FakeBilibili, prefix: str, count: int, per_frame: int = 3) -> list[str]:
    texts = [f"{prefix}{n}" for n in range(count)]
    for start in range(0, count, per_frame):
        chunk = texts[start : start + per_frame]
        bili.push(
            *(m.danmaku(text, 100 + n, f"viewer{n}", id_str=text) for n, text in enumerate(chunk))
        )
    return texts


async def test_the_stage_restarting_while_chat_flows_loses_and_repeats_nothing(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        sent = push_danmaku(bili, "before-", 12)
        await received(recorder, 12)
        recorder.stop()  # `kagura serve` goes down...
        await until(lambda: "reconnecting in" in client.log(), 10, "the client to notice")
        sent += push_danmaku(bili, "while-down-", 30)  # ...while the chat goes on
        await until(lambda: "buffered 30" in client.log(), 10, "the events to be buffered")
        recorder.start()  # ...and comes back on the same port,
        sent += push_danmaku(bili, "meanwhile-", 15)  # with chat still flowing
        messages = await received(recorder, len(sent))
        assert [message["text"] for message in messages] == sent  # all, in order, once
        ids = recorder.ids()
        assert len(ids) == len(set(ids)) == len(sent)
        assert recorder.connections == 2
        assert client.stop(signal.SIGINT) == 0


async def test_a_full_buffer_drops_the_oldest_and_counts_them(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    recorder.stop()  # the stage is not there when the client starts
    with bilibili_client(tmp_path, bili, recorder, live={"buffer_events": 5}) as client:
        await connected(bili)
        sent = push_danmaku(bili, "chat-", 12)
        await until(lambda: "dropped 7" in client.log(), 10, "the drops to be counted")
        recorder.start()
        messages = await received(recorder, 5)
        assert [message["text"] for message in messages] == sent[-5:]  # the freshest five
        assert client.stop() == 0


async def test_a_refused_token_is_a_clear_error(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder, token="not-the-token") as client:
        assert client.wait(30) == 2
    log = client.log()
    assert "4401" in log and "kagura tokens" in log and "not-the-token" not in log


async def test_the_platform_token_is_derived_from_the_servers_admin_token(
    tmp_path: Path, bili: FakeBilibili
) -> None:
    admin = "the-admin-token"
    with ProxyRecorder(token=role_token(admin, Role.PLATFORM)) as recorder:
        client = bilibili_client(tmp_path, bili, recorder, token=None)
        client.config["system"]["auth_token"] = admin  # the client shares the server's config
        with client:
            await connected(bili)
            bili.push(m.danmaku("hello", 1, "A"))
            await received(recorder, 1)
            assert client.stop(signal.SIGTERM) == 0
        assert recorder.refused == 0
    assert admin not in client.log() and role_token(admin, Role.PLATFORM) not in client.log()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no room to read: pass --room ID or set live.bilibili.room_ids"),
        (["--room", "7", "--proxy-url", "http://127.0.0.1:1/"], "must be a ws:// or wss:// URL"),
        (["--room", "7", "--ca-file", "/nonexistent.pem"], "cannot read the CA file"),
        (["--room", "0"], "live.bilibili.room_ids"),
    ],
)
def test_settings_that_cannot_work_are_named(tmp_path: Path, args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kagura", "live", "bilibili", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
