"""Degrade, don't block: `kagura live bilibili` keeps reading chat when Bilibili refuses a
side call of its bootstrap, as its risk control does to scripts and busy addresses (HTTP
412 with -412, code -352, no answer, garbage). A real client process against the fake
(TLS, real wire formats); each refusal costs a feature and one warning, never the chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from kagura.testing.fake_bilibili import FakeBilibili
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.fake_bilibili.web_api import DANMU_INFO, FINGER, HOME, NAV, ROOM_INFO
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.wait import until

from .live_helpers import REAL, bilibili_client, connected, received

pytestmark = pytest.mark.live

QUICK = {"bilibili": {"http_timeout_s": 1}}  # a silent endpoint is given up on soon


async def chat_flows(bili: FakeBilibili, recorder: ProxyRecorder, name: str = "Alice") -> None:
    """A danmaku pushed now reaches the stage with its sender's name and room."""
    await connected(bili)
    bili.push(m.danmaku("still reading chat", 42, name))
    [message] = await received(recorder, 1)
    assert message["text"] == "still reading chat"
    assert message["source"]["user"]["name"] == name and message["source"]["room"] == REAL


def warnings_about(log: str, service: str) -> list[str]:
    return [line for line in log.splitlines() if "WARNING" in line and service in line]


@pytest.mark.parametrize("how", ["412", "timeout", "garbage"])
async def test_a_refused_buvid_endpoint_takes_the_home_pages_cookie(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder, how: str
) -> None:
    bili.read(lambda: bili.web.refuse.update({FINGER: how}))
    with bilibili_client(tmp_path, bili, recorder, live=QUICK) as client:
        await chat_flows(bili, recorder)
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth["buvid"] in bili.web.buvids and auth["key"] in bili.web.tokens
        assert bili.read(lambda: bili.web.calls[HOME]) == 1
        assert client.stop() == 0
    assert "buvid from the home page" in client.log()


async def test_no_buvid_anywhere_still_reads_chat_from_the_fallback_server(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    """The reproduction: finger/spi answers 412 (and so does the home page). Without a
    buvid getDanmuInfo refuses too (-352): the anonymous fallback server is used."""
    bili.read(lambda: bili.web.refuse.update({FINGER: "412", HOME: "412"}))
    live = {"bilibili": {"fallback_url": bili.danmaku.url}}
    with bilibili_client(tmp_path, bili, recorder, live=live) as client:
        await chat_flows(bili, recorder)
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth["buvid"] == "" and "key" not in auth
        # A reconnect: the refusals are not logged again, nor asked again at once.
        bili.cut(m.danmaku("lost with the connection", 1, "X"))
        await connected(bili, connects=2)
        assert bili.read(lambda: bili.web.calls[FINGER]) == 1
        assert client.stop() == 0
    log = client.log()
    [buvid] = warnings_about(log, "buvid")
    assert "HTTP 412 (code -412" in buvid and "going on without one" in buvid
    [danmu_info] = warnings_about(log, "getDanmuInfo failed")
    assert "anonymous fallback server" in danmu_info


@pytest.mark.parametrize("how", ["412", "timeout", "garbage", "-352"])
async def test_a_failed_login_check_reads_anonymously_and_unsigned(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder, how: str
) -> None:
    bili.read(lambda: bili.web.refuse.update({NAV: how}))
    bili.read(lambda: setattr(bili.web, "unsigned_danmu_info", True))
    with bilibili_client(tmp_path, bili, recorder, live=QUICK) as client:
        await chat_flows(bili, recorder, "A***")  # anonymous: Bilibili masks the names
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth["uid"] == 0 and auth["key"] in bili.web.tokens  # unsigned, still a token
        assert client.stop() == 0
    [warning] = warnings_about(client.log(), "the login check (nav) failed")
    assert "viewer names are masked" in warning


async def test_a_refused_signature_refreshes_once_then_falls_back(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    bili.read(lambda: bili.web.refuse.update({DANMU_INFO: "-352"}))
    live = {"bilibili": {"fallback_url": bili.danmaku.url}}
    with bilibili_client(tmp_path, bili, recorder, live=live) as client:
        await chat_flows(bili, recorder)
        calls = bili.read(lambda: dict(bili.web.calls))
        # Signed, signed with fresh keys, unsigned: three asks, then the fallback server.
        assert calls[DANMU_INFO] == 3 and calls[NAV] == 2
        assert client.stop() == 0
    assert len(warnings_about(client.log(), "getDanmuInfo failed")) == 1


async def test_a_failed_room_lookup_uses_the_id_as_given(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    bili.read(lambda: bili.web.refuse.update({ROOM_INFO: "412"}))
    with bilibili_client(tmp_path, bili, recorder, REAL, live=QUICK) as client:
        await chat_flows(bili, recorder)
        assert client.stop() == 0
    [warning] = warnings_about(client.log(), "the room lookup")
    assert "using the id as given" in warning


async def test_the_log_says_when_a_side_service_works_again(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    bili.read(lambda: bili.web.refuse.update({ROOM_INFO: "412"}))
    with bilibili_client(tmp_path, bili, recorder, REAL, live=QUICK) as client:
        await connected(bili)
        bili.read(lambda: bili.web.refuse.clear())
        bili.cut(m.danmaku("lost with the connection", 1, "X"))
        await connected(bili, connects=2)
        await until(lambda: "works again" in client.log(), 10, "the recovery line")
        assert client.stop() == 0


async def test_a_flood_of_unreadable_messages_is_counted_not_logged_line_by_line(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    """2,000 malformed DANMU_MSG (a hostile or broken server): a handful of lines, a count."""
    with bilibili_client(tmp_path, bili, recorder) as client:
        await connected(bili)
        broken = {"cmd": "DANMU_MSG", "info": "not a list of fields"}
        for _ in range(20):
            bili.push(*[broken] * 100, compression="brotli")
        bili.push(m.danmaku("and the chat goes on", 42, "Alice"))
        [message] = await received(recorder, 1)
        assert message["text"] == "and the chat goes on"
        await until(lambda: "2000 so far" in client.log(), 10, "the count in the log")
        assert client.stop() == 0
    lines = [line for line in client.log().splitlines() if "unreadable" in line]
    assert len(lines) <= 4, lines  # the first in full, then a count per thousand
