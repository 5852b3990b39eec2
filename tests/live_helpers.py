"""Helpers for the live-platform tests: fake platforms with test rooms and channels, client
processes pointed at them, and waits on what the fakes and the stage have seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kagura.config import deep_merge
from kagura.testing.fake_bilibili import SESSDATA, FakeBilibili
from kagura.testing.fake_twitch import FakeTwitch
from kagura.testing.fake_youtube import API_KEY, FakeYouTube
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.live import LiveClient
from tests.support.wait import until

ROOM, REAL = 7, 21_452_505  # the short id a streamer shares, and the room's real id
OTHER = 8_080_808
TOKEN = "platform-token-for-tests"
# A watchdog for the tests of silent deaths: a stall of a second or two on a busy machine
# is not one.
WATCHDOG_S = 3.0


def fake_bilibili(tmp_path: Path) -> FakeBilibili:
    return FakeBilibili(tmp_path / "bili", rooms={ROOM: REAL, REAL: REAL, OTHER: OTHER})


def live_client(
    tmp_path: Path,
    args: list[str],
    stage: ProxyRecorder | str,
    token: str | None,
    section: dict[str, Any],
    live: dict[str, Any] | None,
    env: dict[str, str] | None = None,
) -> LiveClient:
    """`kagura live ARGS` sending to `stage` (a recorder, or a `/proxy-ws` URL) with `token`
    (None: no `--token`), its config's `live` section the platform's test `section` with
    the test's own `live` laid over it."""
    url = stage if isinstance(stage, str) else stage.url
    args = [*args, "--proxy-url", url, *(["--token", token] if token is not None else [])]
    return LiveClient(tmp_path / "client", args, deep_merge(section, live or {}), env=env)


def bilibili_client(
    tmp_path: Path,
    bili: FakeBilibili,
    stage: ProxyRecorder | str,
    *rooms: int,
    token: str | None = TOKEN,
    live: dict[str, Any] | None = None,
) -> LiveClient:
    """`kagura live bilibili` pointed at the fake and at `stage`."""
    args = ["bilibili", *[f"--room={room}" for room in rooms or (ROOM,)]]
    args += ["--web-api", bili.api_url, "--live-api", bili.api_url, "--ca-file", str(bili.ca_file)]
    args += ["--home-url", f"{bili.api_url}/"]
    # The secret comes from the environment, as the config file's comments advise.
    section = {"bilibili": {"heartbeat_s": 0.5, "sessdata": "${BILIBILI_SESSDATA}"}}
    env = {"BILIBILI_SESSDATA": SESSDATA}
    return live_client(tmp_path, args, stage, token, section, live, env)


async def connected(bili: FakeBilibili, count: int = 1, connects: int | None = None) -> None:
    """Wait for `count` authenticated connections (after at least `connects` in all)."""

    def ready() -> bool:
        opened = bili.read(lambda: bili.danmaku.connects)
        return bili.connected() == count and (connects is None or opened >= connects)

    await until(ready, 20, f"{count} authenticated connection(s)")


async def received(stage: ProxyRecorder, count: int) -> list[dict[str, Any]]:
    await until(lambda: len(stage.snapshot()) >= count, 15, f"{count} messages at the stage")
    return stage.snapshot()


def summary(message: dict[str, Any]) -> tuple[Any, ...]:
    if message["type"] == "chat-withdraw":
        return ("withdraw", *message["ids"])
    source = message["source"]
    name = source.get("user", {}).get("name")
    return (source["kind"], message["text"], name, source.get("amount"), source["free"])


def labels(messages: list[dict[str, Any]]) -> list[str]:
    """The labels (a gift's name, a rank) of the events that carry one, in order."""
    return [m["source"]["label"] for m in messages if m.get("source", {}).get("label")]


# -- Twitch -------------------------------------------------------------------------------

TWITCH_CHANNELS = ("kagura_tv", "second_channel")
TWITCH_BOT, TWITCH_OAUTH = "kagura_bot", "twitch-oauth-secret-123"


def twitch_client(
    tmp_path: Path,
    twitch: FakeTwitch,
    stage: ProxyRecorder | str,
    *channels: str,
    token: str | None = TOKEN,
    live: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> LiveClient:
    """`kagura live twitch` pointed at the fake and at `stage`."""
    args = ["twitch", *[f"--channel={channel}" for channel in channels or TWITCH_CHANNELS[:1]]]
    args += ["--irc-url", twitch.url, "--ca-file", str(twitch.ca_file)]
    return live_client(tmp_path, args, stage, token, {"twitch": {"ping_s": 0.5}}, live, env)


async def joined(twitch: FakeTwitch, *channels: str, connects: int = 1) -> None:
    """Wait until a client has joined `channels` on its `connects`-th connection (or a later
    one): after a reconnect, the old connection's channels do not count."""

    def ready() -> bool:
        wanted = channels or TWITCH_CHANNELS[:1]
        return all(twitch.joined(channel, connection=connects) for channel in wanted)

    await until(ready, 20, f"a client in {channels or TWITCH_CHANNELS[:1]}")


# -- YouTube ------------------------------------------------------------------------------

YT_VIDEO, YT_NEXT_VIDEO = "kAgUrA-live", "kAgUrA_next"
YT_CHANNEL = "UCkagura0000000000000001"


def youtube_client(
    tmp_path: Path,
    youtube: FakeYouTube,
    stage: ProxyRecorder | str,
    *args: str,
    token: str | None = TOKEN,
    live: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> LiveClient:
    """`kagura live youtube` (default: `--video YT_VIDEO`) pointed at the fake and at
    `stage`, with the key from the environment and a budget that YouTube's interval
    outpaces (a quota test sets its own)."""
    command = ["youtube", *(args or ("--video", YT_VIDEO))]
    command += ["--api", youtube.api_url, "--oauth-api", youtube.oauth_url]
    command += ["--ca-file", str(youtube.ca_file)]
    section = {"youtube": {"api_key": "${YOUTUBE_API_KEY}", "budget_hours": 0.01}}
    section["youtube"] |= {"check_interval_s": 0.2, "backlog_s": 60}
    env = {"YOUTUBE_API_KEY": API_KEY, **(env or {})}
    return live_client(tmp_path, command, stage, token, section, live, env)


async def polled(youtube: FakeYouTube, video: str, polls: int) -> None:
    """Wait until the chat of `video` has been polled `polls` times."""
    await until(lambda: youtube.chat(video).polls >= polls, 20, f"{polls} polls of {video}")
