"""`kagura live youtube` as a real process against a fake YouTube Data API (TLS), with a
`ProxyRecorder` as the stage so every event can be counted exactly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kagura.testing.fake_youtube import (
    API_KEY,
    FakeYouTube,
    author,
    banned,
    chat_ended,
    deleted,
    gifting,
    milestone,
    new_member,
    super_chat,
    super_sticker,
    text,
)
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.live import LiveClient
from tests.support.wait import until

from .live_helpers import (
    YT_CHANNEL,
    YT_NEXT_VIDEO,
    YT_VIDEO,
    polled,
    received,
    summary,
    youtube_client,
)

pytestmark = pytest.mark.live

ALICE, SPAMMER = author("Alice"), author("Spammer")


def never_too_soon(youtube: FakeYouTube, video: str = YT_VIDEO) -> list[tuple[float, float]]:
    chat = youtube.chat(video)
    gaps = youtube.read(lambda: list(chat.gaps))
    assert youtube.read(lambda: chat.too_soon) == 0
    assert all(waited >= asked for waited, asked in gaps), gaps
    return list(gaps)


async def test_a_videos_chat_page_by_page_every_kind_never_polled_too_soon(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder
) -> None:
    now = time.time()
    youtube.go_live(
        YT_VIDEO,
        YT_CHANNEL,
        text("old", ALICE, "said long before the client started", at=now - 600),
        text("recent", ALICE, "said just before it started", at=now - 5),
    )
    youtube.set(page_size=2)  # a page holds two items: the client must follow the tokens
    with youtube_client(tmp_path, youtube, recorder) as live:
        await polled(youtube, YT_VIDEO, 1)
        youtube.post(
            YT_VIDEO,
            text("m1", ALICE, "hello from YouTube"),
            super_chat("m2", author("Bob"), "Sing for us!", 5_000_000, "USD"),
            super_sticker("m3", author("Carol"), "A cat waving", 500_000_000, "JPY"),
            new_member("m4", author("Dee")),
            milestone("m5", author("Eve"), 12, "a year already"),
            gifting("m6", author("Fay"), 5),
            text("m7", author("Gus"), "something rude"),
            deleted("m8", "m7"),
            text("s1", SPAMMER, "buy followers"),
            text("s2", SPAMMER, "cheap followers"),
            banned("m9", SPAMMER),
        )
        messages = await received(recorder, 12)
        assert live.stop() == 0
    assert [summary(message) for message in messages] == [
        ("danmaku", "said just before it started", "Alice", None, False),
        ("danmaku", "hello from YouTube", "Alice", None, False),
        ("superchat", "Sing for us!", "Bob", 5.0, False),
        ("superchat", "(sticker: A cat waving)", "Carol", 500.0, False),
        ("membership", "", "Dee", None, False),
        ("membership", "a year already", "Eve", None, False),  # the member's own comment
        ("gift", "", "Fay", None, False),
        ("danmaku", "something rude", "Gus", None, False),
        ("withdraw", "yt:m7"),
        ("danmaku", "buy followers", "Spammer", None, False),
        ("danmaku", "cheap followers", "Spammer", None, False),
        ("withdraw", "yt:s1", "yt:s2"),
    ]
    labels = [message["source"].get("label") for message in messages[4:7]]
    assert labels == ["Member", "Member, 12 months", "5 gifted memberships (Member)"]
    bob, carol = messages[2]["source"], messages[3]["source"]
    assert (bob["currency"], bob["id"], bob["room"]) == ("USD", "yt:m2", YT_VIDEO)
    assert carol["currency"] == "JPY" and messages[1]["source"]["user"]["id"] == ALICE["channelId"]
    gaps = never_too_soon(youtube)
    assert len(gaps) >= 6  # 13 items, two a page
    assert API_KEY not in live.log() and youtube.read(lambda: youtube.keys_seen) == {API_KEY}
    assert "left out 1 chat messages older than 60 s" in live.log()
    assert youtube.read(lambda: dict(youtube.calls)) == {"videos": 1, "messages": len(gaps) + 1}


async def test_a_channel_is_searched_and_its_next_stream_waited_for(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder
) -> None:
    channel = ("--channel-id", YT_CHANNEL)
    live_config = {"youtube": {"on_end": "wait"}}
    with youtube_client(tmp_path, youtube, recorder, *channel, live=live_config) as live:
        await until(lambda: "is not live" in live.log(), 20, "the client to wait")
        youtube.go_live(YT_VIDEO, YT_CHANNEL)
        await polled(youtube, YT_VIDEO, 1)
        youtube.post(YT_VIDEO, text("a1", ALICE, "first stream"))
        await received(recorder, 1)
        youtube.go_offline(YT_VIDEO)
        await until(lambda: "waiting for the next stream" in live.log(), 20, "the end")
        youtube.go_live(YT_NEXT_VIDEO, YT_CHANNEL)
        await polled(youtube, YT_NEXT_VIDEO, 1)
        youtube.post(YT_NEXT_VIDEO, text("b1", ALICE, "second stream"))
        messages = await received(recorder, 3)
        assert live.stop() == 0
    assert [(m["text"], m["source"]["room"], m["source"]["kind"]) for m in messages] == [
        ("first stream", YT_VIDEO, "danmaku"),
        ("", YT_VIDEO, "live_end"),  # the stage closes the show
        ("second stream", YT_NEXT_VIDEO, "danmaku"),
    ]
    log = live.log()
    assert (
        "went offline at" in log
        and f"found the live chat of 'Kagura live!' (video {YT_NEXT_VIDEO})" in log
    )
    calls = youtube.read(lambda: dict(youtube.calls))
    assert calls["search"] >= 2 and youtube.read(lambda: youtube.units) >= 200  # 100 a search


@pytest.mark.parametrize("how", ["offlineAt", "chatEndedEvent", "liveChatEnded"])
async def test_the_stream_ending_is_said_and_the_client_exits_cleanly(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder, how: str
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    with youtube_client(tmp_path, youtube, recorder) as live:
        await polled(youtube, YT_VIDEO, 1)
        youtube.post(YT_VIDEO, text("last", ALICE, "bye everyone"))
        await received(recorder, 1)
        if how == "chatEndedEvent":
            youtube.post(YT_VIDEO, chat_ended("end"))
        else:
            youtube.go_offline(YT_VIDEO, over=how == "liveChatEnded")
        assert live.wait(30) == 0
    log = live.log()
    assert f"the stream of video {YT_VIDEO} is over" in log and "exiting" in log
    sent = [(m["text"], m["source"]["kind"]) for m in recorder.snapshot()]
    assert sent == [("bye everyone", "danmaku"), ("", "live_end")]  # the show's goodbye


async def test_quota_exceeded_is_said_paused_and_resumed_losing_nothing(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    live_config = {"youtube": {"quota_error_wait_s": 1.5}}
    with youtube_client(tmp_path, youtube, recorder, live=live_config) as live:
        await polled(youtube, YT_VIDEO, 1)
        youtube.post(YT_VIDEO, text("q1", ALICE, "before the quota ran out"))
        await received(recorder, 1)
        youtube.set(quota_left=0)
        youtube.post(YT_VIDEO, text("q2", ALICE, "said while it was out"))
        await until(lambda: "paused for the quota" in live.log(), 20, "the status line")
        refused = youtube.read(lambda: youtube.refused["quotaExceeded"])
        assert refused == 1  # paused after one refusal, not hammering
        youtube.set(quota_left=None)
        youtube.post(YT_VIDEO, text("q3", ALICE, "after it came back"))
        messages = await received(recorder, 3)
        assert live.stop() == 0
    assert [m["source"]["id"] for m in messages] == ["yt:q1", "yt:q2", "yt:q3"]
    assert "quotaExceeded" in live.log() and "pausing for" in live.log()
    never_too_soon(youtube)


async def test_a_quota_used_up_before_the_start_is_waited_out_too(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    youtube.set(quota_left=0)  # another program used the key's quota today
    live_config = {"youtube": {"quota_error_wait_s": 1}}
    with youtube_client(tmp_path, youtube, recorder, live=live_config) as live:
        await until(lambda: "pausing for" in live.log(), 20, "the pause")
        youtube.set(quota_left=None)
        await polled(youtube, YT_VIDEO, 1)
        youtube.post(YT_VIDEO, text("late", ALICE, "read after all"))
        [message] = await received(recorder, 1)
        assert message["text"] == "read after all"
        assert live.stop() == 0
    assert youtube.read(lambda: youtube.refused["quotaExceeded"]) <= 2  # no hammering


async def test_a_small_daily_budget_slows_polling_down_and_says_so(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    budget = {"youtube": {"quota_per_day": 60, "budget_hours": 0.002}}  # 7.2 s
    with youtube_client(tmp_path, youtube, recorder, live=budget) as live:
        await polled(youtube, YT_VIDEO, 4)
        await until(lambda: "slowed by the quota budget" in live.log(), 20, "the status line")
        youtube.post(YT_VIDEO, text("b1", ALICE, "still read"))
        await received(recorder, 1)
        assert live.stop() == 0
    log = live.log()
    assert "instead of YouTube's 0.3 s, so that the" in log and "quota_per_day 60" in log
    gaps = [waited for waited, _ in never_too_soon(youtube)]
    assert gaps[0] >= 0.6  # 5 units × 7.2 s / 59 left: twice YouTube's interval
    assert gaps[-1] > gaps[0]  # slower as the units run low
    units = youtube.read(lambda: youtube.units)
    assert units <= 60
    ledger = json.loads((live.workdir / "data" / "youtube-quota.json").read_text())
    [entry] = ledger.values()
    assert entry["spent"] == units and API_KEY not in json.dumps(ledger)


async def test_an_outage_and_the_stage_restarting_lose_and_repeat_nothing(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    sent: list[str] = []

    def chat(prefix: str, count: int) -> None:
        items = [text(f"{prefix}{n}", author(f"v{n}"), f"{prefix}{n}") for n in range(count)]
        youtube.post(YT_VIDEO, *items)
        sent.extend(f"{prefix}{n}" for n in range(count))

    with youtube_client(tmp_path, youtube, recorder) as live:
        await polled(youtube, YT_VIDEO, 1)
        chat("before-", 5)
        await received(recorder, 5)
        youtube.set(fail_next=3)  # YouTube has a bad moment
        chat("outage-", 5)
        await received(recorder, 10)
        assert youtube.read(lambda: youtube.refused["backendError"]) == 3
        recorder.stop()  # and then the stage restarts
        chat("stage-down-", 5)
        await until(lambda: "buffered 5" in live.log(), 20, "the events to be buffered")
        recorder.start()
        chat("after-", 5)
        messages = await received(recorder, len(sent))
        assert live.stop() == 0
    assert [message["text"] for message in messages] == sent
    ids = recorder.ids()
    assert len(ids) == len(set(ids)) == len(sent)
    never_too_soon(youtube)


@pytest.mark.parametrize(
    ("setup", "args", "env", "message"),
    [
        ("live", [], {"YOUTUBE_API_KEY": "wrong-key"}, "YouTube refused the API key"),
        ("none", [], {}, f"there is no YouTube video '{YT_VIDEO}'"),
        ("video", [], {}, f"YouTube video {YT_VIDEO} is not a live stream"),
        ("ended", [], {}, "ended at"),
        ("live", ["--channel-id", "@kagura"], {}, "is not a channel id"),
    ],
)
def test_settings_and_refusals_that_cannot_work_are_named(
    tmp_path: Path,
    youtube: FakeYouTube,
    setup: str,
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    if setup != "none":
        youtube.add(YT_VIDEO, YT_CHANNEL, setup)
    live = youtube_client(tmp_path, youtube, "ws://127.0.0.1:9/proxy-ws", *args, env=env)
    with live:
        assert live.wait(30) == 2
    assert message in live.log(), live.log()
    assert "wrong-key" not in live.log() and API_KEY not in live.log()


def test_without_a_key_or_a_stream_the_client_says_what_to_set(tmp_path: Path) -> None:
    for args, message in [
        (["--video", YT_VIDEO], "no API key: set live.youtube.api_key"),
        ([], "say which stream to read: --video ID"),
        (["--video", "https://www.youtube.com/watch?v=too-short"], "not a YouTube video id"),
    ]:
        live = LiveClient(tmp_path / "bad", ["youtube", *args])
        with live:
            assert live.wait(30) == 2
        assert message in live.log(), live.log()
        live.log_path.unlink()
