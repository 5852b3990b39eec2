"""The character's replies in a YouTube live chat, and the OAuth login they need, as real
processes: `kagura live youtube login` against the fake Google OAuth server (device flow),
and `kagura live youtube` reading the fake's chat for a real `kagura serve`, whose finished
replies it posts back with `liveChatMessages.insert` (Bearer token, 50 units, ≤ 200 chars)."""

from __future__ import annotations

import itertools
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from kagura.live.chat_out import chat_lines
from kagura.live.youtube import login_file
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from kagura.testing.fake_youtube import CLIENT_ID, CLIENT_SECRET, FakeYouTube, author, text
from kagura.testing.fake_youtube.oauth import SLOW_DOWN_S
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.live import LiveClient
from tests.support.server import KaguraProcess
from tests.support.stage import stage_url, watched_page
from tests.support.wait import until

from .conftest import server_fixture
from .live_helpers import YT_CHANNEL, YT_VIDEO, polled, received, youtube_client

pytestmark = pytest.mark.live

stage_server = server_fixture("yt-reply-stage", stage={"batch_max": 1})

SECRET_ENV = {"YOUTUBE_OAUTH_CLIENT_SECRET": CLIENT_SECRET}
OAUTH = {"oauth_client_id": CLIENT_ID, "oauth_client_secret": "${YOUTUBE_OAUTH_CLIENT_SECRET}"}
REPLY = (  # three sentences (the stage's reply_max_sentences), too long for one line
    "Oh, that is a wonderful question and I have thought about it a lot during the stream, "
    "because my favourite game is the one with the cats and every level feels like a hug! "
    "What about you, which one do you like best, and would you play it with me next time? "
    "我最喜欢有猫的那个游戏。"
)
# Each test speaks as a viewer of its own: the module's stage limits each viewer's rate
# (stage.user_rate_per_min), and one viewer across every test would soon be over it.


def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "client" / "data"  # where `youtube_client` keeps its data


def saved_login(tmp_path: Path) -> Path:
    return data_dir(tmp_path) / "youtube-login.json"


def login_client(tmp_path: Path, youtube: FakeYouTube, **youtube_config: Any) -> LiveClient:
    """`kagura live youtube login` against the fake, sharing the reader's data_dir."""
    args = ["youtube", "login", "--oauth-api", youtube.oauth_url, "--ca-file", str(youtube.ca_file)]
    live = {"youtube": {**OAUTH, **youtube_config}}
    system = {"data_dir": str(data_dir(tmp_path))}
    return LiveClient(tmp_path / "login", args, live, system=system, env=SECRET_ENV)


def replying(**youtube_config: Any) -> dict[str, Any]:
    section = {**OAUTH, "reply_in_chat": True, "reply_interval_s": 0.5, **youtube_config}
    return {"youtube": section}


def reply_client(
    tmp_path: Path, youtube: FakeYouTube, server: KaguraProcess, **youtube_config: Any
) -> LiveClient:
    """`kagura live youtube` with replies on, sending to (and hearing replies from) `server`."""
    live = replying(**youtube_config)
    url = stage_url(server)
    return youtube_client(tmp_path, youtube, url, token=None, live=live, env=SECRET_ENV)


async def ready(youtube: FakeYouTube, client: LiveClient) -> None:
    """Wait until the client reads the chat and listens for replies."""
    await polled(youtube, YT_VIDEO, 1)
    await until(lambda: "listening for replies" in client.log(), 15, "the reply feed")


def write_login(tmp_path: Path, youtube: FakeYouTube, lifetime_s: float | None = None) -> None:
    """A login made earlier (the file as `login` leaves it)."""
    issued = youtube.read(lambda: youtube.oauth.issue(lifetime_s=lifetime_s))
    login = login_file.YouTubeLogin(
        CLIENT_ID, issued["refresh_token"], issued["access_token"], float(issued["expires_at"])
    )
    login_file.write(saved_login(tmp_path), login)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def secrets_of(youtube: FakeYouTube) -> list[str]:
    oauth = youtube.oauth
    tokens = youtube.read(lambda: [*oauth.refresh_tokens, *oauth.access_tokens])
    codes = youtube.read(lambda: [g.device_code for g in oauth.grants])
    return [CLIENT_SECRET, *tokens, *codes]


# -- the login ------------------------------------------------------------------------------


async def test_a_device_login_waits_slows_down_when_asked_and_saves_the_tokens_privately(
    tmp_path: Path, youtube: FakeYouTube
) -> None:
    with login_client(tmp_path, youtube) as login:
        await until(lambda: "Waiting for you to enter the code" in login.log(), 20, "pending")
        grant = youtube.read(lambda: youtube.oauth.latest)
        output = login.log()
        assert "█" in output and "https://www.google.com/device" in output  # the QR code, URL
        assert grant.user_code in output
        assert not saved_login(tmp_path).exists()
        youtube.read(lambda: youtube.oauth.slow_down(1))
        await until(lambda: "asked less often" in login.log(), 20, "the slow_down")
        youtube.read(youtube.oauth.approve)
        assert login.wait(30) == 0, login.log()
    polls = youtube.read(lambda: list(grant.polls))
    assert youtube.read(lambda: grant.too_soon) == 0  # the interval always honoured
    assert polls[-1] - polls[-2] >= SLOW_DOWN_S  # and 5 s more after slow_down
    path = saved_login(tmp_path)
    assert mode(path) == 0o600
    saved = json.loads(path.read_text())
    [refresh] = youtube.read(lambda: list(youtube.oauth.refresh_tokens))
    assert saved["refresh_token"] == refresh and saved["client_id"] == CLIENT_ID
    assert youtube.read(lambda: youtube.oauth.valid(saved["access_token"]))
    output = login.log()
    assert "Logged in to YouTube" in output and str(path) in output
    assert not any(secret in output for secret in secrets_of(youtube))


@pytest.mark.parametrize(
    ("outcome", "said"),
    [("deny", "access was denied"), ("expire", "the code expired before access was allowed")],
)
async def test_a_denied_or_expired_login_is_said_plainly_and_saves_nothing(
    tmp_path: Path, youtube: FakeYouTube, outcome: str, said: str
) -> None:
    with login_client(tmp_path, youtube) as login:
        await until(lambda: "Waiting for you to enter the code" in login.log(), 20, "pending")
        youtube.read(getattr(youtube.oauth, outcome))
        assert login.wait(30) == 2
    output = login.log()
    assert said in output and "youtube login` again" in output and "nothing saved" in output
    assert not saved_login(tmp_path).exists()
    assert not any(secret in output for secret in secrets_of(youtube))


def test_a_login_without_an_oauth_client_says_what_to_create(tmp_path: Path) -> None:
    live = LiveClient(tmp_path / "login", ["youtube", "login"])
    with live:
        assert live.wait(30) == 2
    assert "live.youtube.oauth_client_id" in live.log()
    assert "TVs and Limited Input devices" in live.log()


# -- replies --------------------------------------------------------------------------------


async def test_a_reply_reaches_the_chat_in_paced_lines_and_is_not_read_back(
    tmp_path: Path, youtube: FakeYouTube, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    oauth = youtube.oauth
    youtube.read(lambda: setattr(oauth, "approve_after", 2))  # allowed at the second poll
    youtube.read(lambda: setattr(oauth, "access_lifetime_s", 30.0))  # so refreshed first
    with login_client(tmp_path, youtube) as login:
        assert login.wait(30) == 0, login.log()
    youtube.read(lambda: setattr(oauth, "access_lifetime_s", 3599.0))
    fake.script = LLMScript(reply=REPLY)
    lines = chat_lines(REPLY, 200)
    assert len(lines) >= 2 and all(len(line) <= 200 for line in lines)
    async with watched_page(stage_server) as seen:
        with reply_client(tmp_path, youtube, stage_server) as client:
            await ready(youtube, client)
            youtube.post(YT_VIDEO, text("q1", author("Alice"), "What is your favourite game?"))
            await seen.wait_turns(1, timeout=20)
            await until(lambda: len(youtube.posted(YT_VIDEO)) == len(lines), 20, "the lines")
            polls = youtube.chat(YT_VIDEO).polls
            await polled(youtube, YT_VIDEO, polls + 2)  # the posted lines listed, and skipped
            assert client.stop() == 0
    posted = youtube.posted(YT_VIDEO)
    assert [line.text for line in posted] == lines
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(posted)]
    assert all(gap >= 0.45 for gap in gaps), gaps  # reply_interval_s 0.5
    assert youtube.read(lambda: youtube.oauth.refreshes) == 1  # refreshed before it expired
    assert youtube.read(lambda: youtube.refused["authError"]) == 0
    saved = json.loads(saved_login(tmp_path).read_text())
    assert youtube.read(lambda: youtube.oauth.valid(saved["access_token"]))  # saved back
    assert saved["access_token"] == posted[0].token and mode(saved_login(tmp_path)) == 0o600
    log = client.log()
    assert "youtube: events in 1," in log  # the posted lines never went back to the stage
    assert f"{len(lines)} posted, 0 dropped" in log
    assert not any(secret in log for secret in secrets_of(youtube))


async def test_a_revoked_access_token_is_refreshed_once_and_the_line_posted(
    tmp_path: Path, youtube: FakeYouTube, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    write_login(tmp_path, youtube)
    fake.script = LLMScript(reply="Hello Alice!")
    async with watched_page(stage_server) as seen:
        with reply_client(tmp_path, youtube, stage_server) as client:
            await ready(youtube, client)
            youtube.post(YT_VIDEO, text("a1", author("Ann"), "hi!"))
            await seen.wait_turns(1, timeout=20)
            await until(lambda: len(youtube.posted(YT_VIDEO)) == 1, 20, "the first line")
            youtube.read(youtube.oauth.revoke_access)  # revoked early: YouTube answers 401
            fake.script = LLMScript(reply="Welcome back, Bob!")
            youtube.post(YT_VIDEO, text("b1", author("Bob"), "back again"))
            await seen.wait_turns(2, timeout=20)
            await until(lambda: len(youtube.posted(YT_VIDEO)) == 2, 20, "the second line")
            assert client.stop() == 0
    posted = youtube.posted(YT_VIDEO)
    assert [line.text for line in posted] == ["Hello Alice!", "Welcome back, Bob!"]
    assert posted[0].token != posted[1].token
    assert youtube.read(lambda: (youtube.refused["authError"], youtube.oauth.refreshes)) == (1, 1)
    log = client.log()
    assert "YouTube access token refreshed" in log and "not posted" not in log
    assert not any(secret in log for secret in secrets_of(youtube))


async def test_replies_spend_only_their_share_and_reading_goes_on(
    tmp_path: Path, youtube: FakeYouTube, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    write_login(tmp_path, youtube)
    fake.script = LLMScript(reply="One two three. Four five six. Seven eight nine. Ten.")
    # 1,000 units a day, a tenth for replies: two lines (50 units each); reading has 900.
    budget = {"quota_per_day": 1000, "reply_quota_share": 0.1, "reply_max_chars": 16}
    async with watched_page(stage_server) as seen:
        with reply_client(tmp_path, youtube, stage_server, **budget) as client:
            await ready(youtube, client)
            youtube.post(YT_VIDEO, text("c1", author("Cleo"), "count for me"))
            await seen.wait_turns(1, timeout=20)
            await until(lambda: "share of today's quota is spent" in client.log(), 20, "the cap")
            polls = youtube.chat(YT_VIDEO).polls
            await polled(youtube, YT_VIDEO, polls + 3)  # reading goes on
            youtube.post(YT_VIDEO, text("c2", author("Cid"), "still read?"))
            await seen.wait_turns(2, timeout=20)
            assert client.stop() == 0
    assert [line.text for line in youtube.posted(YT_VIDEO)] == ["One two three.", "Four five six."]
    assert youtube.read(lambda: youtube.calls["insert"]) == 2  # the rest never sent
    log = client.log()
    assert log.count("share of today's quota is spent") == 1, log
    ledger = json.loads((data_dir(tmp_path) / "youtube-quota.json").read_text())
    [entry] = ledger.values()
    assert entry["replies"] == 100 and entry["spent"] == youtube.read(lambda: youtube.units)


async def test_quota_exceeded_on_a_post_is_said_once_and_pauses_replies_only(
    tmp_path: Path, youtube: FakeYouTube, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    write_login(tmp_path, youtube)
    youtube.refuse_inserts("quotaExceeded")
    fake.script = LLMScript(reply="First line here. Second line here. Third line here.")
    async with watched_page(stage_server) as seen:
        with reply_client(tmp_path, youtube, stage_server, reply_max_chars=20) as client:
            await ready(youtube, client)
            youtube.post(YT_VIDEO, text("d1", author("Dora"), "talk to me"))
            await seen.wait_turns(1, timeout=20)
            await until(lambda: "0 posted, 3 dropped" in client.log(), 20, "the lines dropped")
            polls = youtube.chat(YT_VIDEO).polls
            await polled(youtube, YT_VIDEO, polls + 2)  # reading goes on
            assert client.stop() == 0
    assert youtube.posted(YT_VIDEO) == []
    assert youtube.read(lambda: youtube.calls["insert"]) == 1  # paused after the refusal
    log = client.log()
    assert log.count("quotaExceeded") == 1, log
    assert "replies paused for" in log and "reading goes on" in log


@pytest.mark.parametrize(
    ("reason", "posted", "status", "said"),
    [
        ("rateLimitExceeded", ["Hi, rateLimitExceeded!"], "1 posted, 0 dropped", None),
        ("liveChatEnded", [], "0 posted, 1 dropped", "the live chat is over (liveChatEnded)"),
        ("forbidden", [], "replies in chat: stopped", "may not post in this chat"),
    ],
)
async def test_youtubes_refusals_of_a_post_are_retried_or_said_once(
    tmp_path: Path,
    youtube: FakeYouTube,
    stage_server: KaguraProcess,
    fake: FakeOpenAI,
    reason: str,
    posted: list[str],
    status: str,
    said: str | None,
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    write_login(tmp_path, youtube)
    youtube.refuse_inserts(reason)
    fake.script = LLMScript(reply=f"Hi, {reason}!")
    async with watched_page(stage_server) as seen:
        with reply_client(tmp_path, youtube, stage_server) as client:
            await ready(youtube, client)
            viewer = author(f"Viewer {reason}")  # a fresh viewer, id and text: nothing repeated
            youtube.post(YT_VIDEO, text(f"f-{reason}", viewer, f"hello, I am {reason}"))
            await seen.wait_turns(1, timeout=20)
            await until(lambda: status in client.log(), 20, "the status line")
            assert client.stop() == 0
    assert [line.text for line in youtube.posted(YT_VIDEO)] == posted
    assert youtube.read(lambda: youtube.calls["insert"]) == 1 + len(posted)
    log = client.log()
    if said is not None:
        assert log.count(said) == 1, log
    assert "not posted" not in log


async def test_when_the_stream_ends_replies_end_too_and_the_client_exits(
    tmp_path: Path, youtube: FakeYouTube, stage_server: KaguraProcess
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    write_login(tmp_path, youtube)
    with reply_client(tmp_path, youtube, stage_server) as client:
        await ready(youtube, client)
        youtube.go_offline(YT_VIDEO)
        assert client.wait(30) == 0, client.log()
    log = client.log()
    assert "the stream is over: no more replies to post" in log and "exiting" in log


async def test_without_a_login_replies_say_once_how_to_log_in_and_chat_is_read(
    tmp_path: Path, youtube: FakeYouTube, recorder: ProxyRecorder
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    with youtube_client(tmp_path, youtube, recorder, live=replying(), env=SECRET_ENV) as client:
        await polled(youtube, YT_VIDEO, 1)
        youtube.post(YT_VIDEO, text("e1", author("Eve"), "anyone there?"))
        [message] = await received(recorder, 1)
        assert message["text"] == "anyone there?"
        assert client.stop() == 0
    log = client.log()
    assert log.count("kagura live youtube login") == 1, log
    assert "not logged in to YouTube" in log and "reading chat only" in log
    assert youtube.read(lambda: youtube.calls["insert"]) == 0


def test_the_login_file_is_private_from_the_first_byte_whatever_the_umask(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep" / "youtube-login.json"
    login = login_file.YouTubeLogin(CLIENT_ID, "refresh-1", "access-1", time.time() + 60)
    previous = os.umask(0)
    try:
        login_file.write(path, login)
    finally:
        os.umask(previous)
    assert mode(path) == 0o600 and login_file.read(path) == login
    path.write_text('{"refresh_token": "leak"}')
    with pytest.raises(login_file.LoginFileError) as caught:
        login_file.read(path)
    assert str(path) in str(caught.value) and "leak" not in str(caught.value)
