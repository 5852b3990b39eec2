"""`kagura live bilibili` as a real process against a bili Bilibili (TLS, real protocol).

The stage side is a `ProxyRecorder`, which validates every frame with the stage's own
parser and keeps it, so each test can say exactly which events arrived, in which order,
and that nothing arrived twice. (The end-to-end tests with a real `kagura serve` are in
test_live_e2e.py.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kagura.config.live import BROWSER_USER_AGENT
from kagura.testing.fake_bilibili import SESSDATA, UID, FakeBilibili, wire
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.wait import until

from .conftest import REPO
from .live_helpers import (
    OTHER,
    REAL,
    ROOM,
    TOKEN,
    WATCHDOG_S,
    bilibili_client,
    connected,
    labels,
    received,
    summary,
)

pytestmark = pytest.mark.live


async def test_bootstrap_logs_in_signs_and_authenticates(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth["uid"] == UID  # logged in with SESSDATA: names are not masked
        assert auth["roomid"] == REAL  # the short id was resolved
        assert (auth["protover"], auth["platform"], auth["type"]) == (3, "web", 2)
        assert auth["buvid"] in bili.web.buvids and auth["key"] in bili.web.tokens
        # The same browser User-Agent on every HTTP call and on the WebSocket.
        assert bili.read(lambda: bili.web.user_agents | bili.danmaku.user_agents) == {
            BROWSER_USER_AGENT
        }
        assert bili.read(lambda: bili.web.refused_signatures) == 0
        bili.push(m.danmaku("hello", 42, "Alice"))
        [message] = await received(recorder, 1)
        assert message["source"]["room"] == REAL and message["source"]["user"]["id"] == 42
        assert client.stop() == 0
    log = client.log()
    assert SESSDATA not in log and TOKEN not in log
    assert recorder.paths[0].endswith("role=platform")  # never more rights than it needs


async def test_new_wbi_keys_are_fetched_when_a_signature_is_refused(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        bili.read(bili.web.rotate_wbi)  # Bilibili rotated its keys since the last `nav`
        bili.cut(m.danmaku("lost with the connection", 1, "X"))
        await connected(bili, connects=2)
        calls = bili.read(lambda: dict(bili.web.calls))
        assert bili.read(lambda: bili.web.refused_signatures) == 1  # -352 once, then fine
        assert calls["/x/web-interface/nav"] == 2
        assert calls["/xlive/web-room/v1/index/getDanmuInfo"] == 3
        assert "refreshing the keys" in client.log()
        assert client.stop() == 0


async def test_heartbeats_are_answered_and_the_echoed_tail_is_not_misread(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    live = {"bilibili": {"heartbeat_s": 0.1}}
    with bilibili_client(tmp_path, bili, recorder, live=live) as client:
        await connected(bili)
        await until(lambda: bili.read(lambda: bili.danmaku.heartbeats) >= 5, 10, "heartbeats")
        assert set(bili.read(lambda: bili.danmaku.heartbeat_bodies)) == {b"[object Object]"}
        bili.push(m.danmaku("still here", 1, "A"))
        await received(recorder, 1)
        assert ": skipped:" not in client.log()  # every reply's tail was read as the echo it is
        assert bili.read(lambda: bili.danmaku.connects) == 1
        assert client.stop() == 0


async def test_every_command_in_json_and_protobuf_forms(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    rocket = {"name": "Rocket", "num": 2, "price": 1000, "tid": "tid-1"}
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        bili.push(
            m.danmaku("hello", 1, "Alice", id_str="abc"),
            m.danmaku("[dog]", 2, "Bob", emoticon=True),
            m.danmaku("from another room", 3, "Mirror", mirror=True),
            m.gift(4, "Carol", "Rocket", 2, price=1000, tid="tid-1"),
            m.gift_v2(4, "Carol", [rocket]),  # the same gift again, as protobuf
            m.gift(5, "Dan", "Heart", 10, price=100, coin_type="silver", tid="tid-2"),
            m.super_chat(901, 6, "Erin", 30, "Sing for us!"),
            m.super_chat_jpn(901, 6, "Erin", 30, "Sing for us!"),
            compression="brotli",
        )
        bili.push(
            m.guard_buy(7, "Frank", 3),
            m.user_toast_v2(7, "Frank", 3),
            m.interact_word(8, "Gina", 2),
            m.interact_word_v2(8, "Gina", 2),  # the same follow, as protobuf
            m.interact_word_v2(9, "Hal", 1),
            m.like(10, "Ivy"),
            m.watched_change(1234),
            m.gift_v2(11, "Jo", [{"name": "Yacht", "num": 1, "price": 100_000, "tid": "tid-3"}]),
            compression="zlib",
        )
        bili.push(m.danmaku("plain frame", 12, "Kim"), m.super_chat_delete(901))
        messages = await received(recorder, 11)
        await until(lambda: "skipped 1" in client.log(), 10, "a status line")  # the like
        assert client.stop() == 0
    assert [summary(message) for message in messages] == [
        ("danmaku", "hello", "Alice", None, False),
        ("danmaku", "(emoticon: [dog])", "Bob", None, False),
        ("gift", "", "Carol", 2.0, False),  # no viewer words: the gift is a label
        ("gift", "", "Dan", None, True),
        ("superchat", "Sing for us!", "Erin", 30.0, False),
        ("guard", "", "Frank", 198.0, False),
        ("follow", "", "Gina", None, False),
        ("enter", "", "Hal", None, False),  # for the stage's greetings
        ("gift", "", "Jo", 100.0, False),
        ("danmaku", "plain frame", "Kim", None, False),
        ("withdraw", "sc:901"),
    ]
    assert messages[0]["source"]["id"] == "dm:abc" and messages[4]["source"]["id"] == "sc:901"
    assert labels(messages) == ["Rocket x2", "Heart x10", "舰长", "Yacht"]
    assert recorder.invalid == []


async def test_the_room_going_live_and_stopping_opens_and_closes_the_show(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        bili.push(m.live(REAL), m.live(REAL, live_time=0), m.danmaku("hi", 1, "Alice"))
        bili.push(m.preparing(REAL))
        messages = await received(recorder, 4)
        assert client.stop() == 0
    assert [message["source"]["kind"] for message in messages] == [
        "live_start",
        "live_start",  # sent twice, as Bilibili does: the stage opens the show once
        "danmaku",
        "live_end",
    ]
    assert all(message["source"]["room"] == REAL for message in messages)
    assert recorder.invalid == []


async def test_an_anonymous_fallback_warns_about_masked_names_and_keeps_working(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    bili.read(lambda: setattr(bili.web, "danmu_info_fails", True))
    live = {"bilibili": {"sessdata": "", "fallback_url": bili.danmaku.url}}
    with bilibili_client(tmp_path, bili, recorder, live=live) as client:
        await connected(bili)
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth["uid"] == 0 and "key" not in auth
        bili.push(m.log_in_notice())
        await until(lambda: "LOG_IN_NOTICE" in client.log(), 10, "the warning")
        assert "live.bilibili.sessdata" in client.log()
        bili.push(m.danmaku("masked but here", 0, "A***"))
        [message] = await received(recorder, 1)
        assert message["source"]["user"]["name"] == "A***"
        assert client.stop() == 0


async def test_an_abrupt_close_mid_batch_reconnects_and_resumes(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        bili.push(m.danmaku("before", 1, "A"))
        await received(recorder, 1)
        bili.cut(m.danmaku("half sent", 2, "B"), m.danmaku("never whole", 3, "C"))
        await connected(bili, connects=2)
        bili.push(m.danmaku("after", 4, "D"), compression="brotli")
        messages = await received(recorder, 2)
        assert [message["text"] for message in messages] == ["before", "after"]
        await until(lambda: "reconnects 1" in client.log(), 10, "the reconnect in the status")
        assert client.stop() == 0


async def test_bad_input_is_skipped_with_memory_bounded(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        before_mb = client.peak_rss_mb()
        nested = wire.batch(
            [wire.batch([wire.command(m.danmaku("deep", 1, "A"))], "zlib")], "brotli"
        )
        for frame in (
            b"garbage that is no packet at all",
            "a text frame",
            wire.command(m.danmaku("cut", 1, "A"))[:-10],
            wire.packet(wire.OP_COMMAND, b"\x78\x9cnot zlib", wire.VER_ZLIB),
            wire.packet(wire.OP_COMMAND, b"{not json", wire.VER_JSON),
            wire.command({"cmd": "DANMU_MSG", "info": "not a list"}),
            nested,
            wire.bomb(2**30),  # a gigabyte of zeros in a couple of kilobytes
        ):
            assert bili.send_frame(frame) == 1
        bili.push(m.danmaku("still reading", 2, "B"))
        [message] = await received(recorder, 1)
        assert message["text"] == "still reading"
        log = client.log()
        for problem in (
            "bad header",
            "unexpected text frame",
            "claims",
            "bad zlib batch",
            "not JSON",
            "a DANMU_MSG message",
            "inside a compressed batch",
            "expands beyond",
        ):
            assert problem in log, problem
        assert client.peak_rss_mb() - before_mb < 48  # the 1 GiB bomb was refused early
        assert bili.read(lambda: bili.danmaku.connects) == 1  # no reconnect was needed
        assert client.stop() == 0


async def test_the_watchdog_reconnects_a_silent_connection(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    live = {"watchdog_s": WATCHDOG_S, "bilibili": {"heartbeat_s": 0.2}}
    with bilibili_client(tmp_path, bili, recorder, live=live) as client:
        await connected(bili)
        bili.read(lambda: setattr(bili.danmaku, "answer_heartbeats", False))  # a silent death
        await until(lambda: "(watchdog)" in client.log(), 15, "the watchdog")
        bili.read(lambda: setattr(bili.danmaku, "answer_heartbeats", True))
        await connected(bili, connects=2)
        bili.push(m.danmaku("back", 1, "A"))
        assert [message["text"] for message in await received(recorder, 1)] == ["back"]
        assert client.stop() == 0


async def test_several_rooms_at_once_each_event_tagged_with_its_room(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with bilibili_client(tmp_path, bili, recorder, ROOM, OTHER) as client:
        await connected(bili, 2)
        bili.push(m.danmaku("in the first", 1, "A"), room=REAL)
        await received(recorder, 1)
        bili.push(m.danmaku("in the second", 2, "B"), room=OTHER)
        messages = await received(recorder, 2)
        assert [(msg["text"], msg["source"]["room"]) for msg in messages] == [
            ("in the first", REAL),
            ("in the second", OTHER),
        ]
        assert client.stop() == 0


def test_a_room_that_does_not_exist_is_a_clear_error(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    # Through the documented script, which is the same command.
    args = ["--room", "999", "--web-api", bili.api_url, "--live-api", bili.api_url]
    args += ["--ca-file", str(bili.ca_file), "--proxy-url", recorder.url, "--token", TOKEN]
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "run_bilibili_live.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Bilibili room 999 does not exist" in result.stderr
