"""`kagura live bilibili-open` as a real process against the fake open platform: signed
calls, app heartbeats, messages, the platform ending or expiring the session, and `end`
on SIGTERM."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from kagura.testing.fake_bilibili import (
    IDENTITY_CODE,
    OPEN_APP_ID,
    OPEN_KEY_ID,
    OPEN_SECRET,
    FakeBilibili,
)
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.live import LiveClient
from tests.support.wait import until

from .live_helpers import TOKEN, connected, labels, live_client, received, summary

pytestmark = pytest.mark.live


def open_client(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder, **section: Any
) -> LiveClient:
    args = ["bilibili-open", "--open-api", bili.api_url, "--ca-file", str(bili.ca_file)]
    settings = {
        "access_key_id": OPEN_KEY_ID,
        "access_key_secret": "${BILIBILI_ACCESS_KEY_SECRET}",
        "app_id": OPEN_APP_ID,
        "identity_code": "${BILIBILI_IDENTITY_CODE}",
        "heartbeat_s": 0.3,
        "game_heartbeat_s": 0.2,
    }
    env = {"BILIBILI_ACCESS_KEY_SECRET": OPEN_SECRET, "BILIBILI_IDENTITY_CODE": IDENTITY_CODE}
    live = {"bilibili_open": section}
    return live_client(tmp_path, args, recorder, TOKEN, {"bilibili_open": settings}, live, env)


def started(bili: FakeBilibili) -> list[str]:
    return list(bili.read(lambda: list(bili.open.started)))


async def test_an_open_platform_session_from_start_to_end(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    room = bili.open.room_id
    with open_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        [game] = started(bili)
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth == json.loads(bili.open.games[game])  # sent verbatim
        await until(lambda: bili.read(lambda: len(bili.open.heartbeats)) >= 3, 10, "heartbeats")
        bili.push(
            m.open_danmaku("m1", "open-a", "Alice", "hello", room),
            m.open_gift("m2", "open-b", "Bob", "Rocket", 2, 50_000, True, room),
            m.open_gift("m3", "open-c", "Cat", "小心心", 1, 0, False, room),
            m.open_super_chat("m4", 77, "open-d", "Dee", 50, "Read me!", room),
            m.open_guard("m5", "open-e", "Eve", 3, 198_000, room),
            m.open_like("m6", "open-f", "Fay", room),
            m.open_enter("m7", "open-g", "Gus", room),
            compression="zlib",
        )
        bili.push(
            m.open_super_chat_delete("m8", room, 77),
            m.open_danmaku("m1", "open-a", "Alice", "hello", room),  # delivered again
        )
        messages = await received(recorder, 7)
        assert [summary(message) for message in messages] == [
            ("danmaku", "hello", "Alice", None, False),
            ("gift", "", "Bob", 100.0, False),
            ("gift", "", "Cat", None, True),
            ("superchat", "Read me!", "Dee", 50.0, False),
            ("guard", "", "Eve", 198.0, False),
            ("enter", "", "Gus", None, False),  # entries are forwarded: the host greets
            ("withdraw", "sc:77"),
        ]
        assert labels(messages) == ["Rocket x2", "小心心", "舰长"]
        assert messages[0]["source"]["user"]["id"] == "open-a"

        # Bilibili ends the interaction: the client starts a new app session.
        bili.push(m.open_interaction_end(game))
        await until(lambda: len(started(bili)) == 2, 10, "a new session after INTERACTION_END")
        await connected(bili, connects=2)
        # The platform expires the session (heartbeat answered 7003): again a new one.
        second = started(bili)[1]
        bili.read(lambda: bili.open.expire(second))
        await until(lambda: len(started(bili)) == 3, 10, "a new session after expiry")
        await connected(bili, connects=3)
        bili.push(m.open_danmaku("m9", "open-h", "Hana", "still here", room))
        await received(recorder, 8)
        assert client.stop(signal.SIGTERM) == 0
    games = started(bili)
    assert bili.read(lambda: list(bili.open.ended)) == [games[-1]]  # `end` on SIGTERM
    assert bili.read(lambda: list(bili.open.refused)) == []  # every call was signed right
    log = client.log()
    assert OPEN_SECRET not in log and IDENTITY_CODE not in log


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"identity_code": "WRONGCODE"}, "live.bilibili_open.identity_code"),
        ({"access_key_secret": "wrong"}, "live.bilibili_open.access_key_secret"),
        ({"app_id": 0, "access_key_id": ""}, "access_key_id, live.bilibili_open.app_id"),
    ],
)
def test_wrong_or_missing_credentials_are_clear_errors(
    tmp_path: Path,
    bili: FakeBilibili,
    recorder: ProxyRecorder,
    section: dict[str, Any],
    message: str,
) -> None:
    with open_client(tmp_path, bili, recorder, **section) as client:
        assert client.wait(30) == 2
    assert message in client.log()
