"""`kagura live twitch` as a real process against a fake Twitch chat (IRC over WebSocket,
TLS), with a `ProxyRecorder` as the stage so every event can be counted exactly."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from kagura.testing.fake_twitch import (
    FakeTwitch,
    clearchat,
    clearmsg,
    privmsg,
    room_id,
    usernotice,
)
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.live import LiveClient
from tests.support.wait import until

from .live_helpers import (
    TWITCH_BOT,
    TWITCH_CHANNELS,
    TWITCH_OAUTH,
    WATCHDOG_S,
    joined,
    received,
    summary,
    twitch_client,
)

pytestmark = pytest.mark.live

CHANNEL, OTHER = TWITCH_CHANNELS


async def test_anonymous_login_and_every_kind_of_message(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    with twitch_client(tmp_path, twitch, recorder, CHANNEL, OTHER) as live:
        await joined(twitch, CHANNEL, OTHER)
        [(nick, with_password)] = twitch.read(lambda: list(twitch.logins))
        assert nick.startswith("justinfan") and nick[9:].isdigit() and not with_password
        capabilities = twitch.read(lambda: list(twitch.capabilities))
        assert capabilities == ["REQ :twitch.tv/tags twitch.tv/commands"]
        assert twitch.read(lambda: sorted(twitch.joins)) == sorted([CHANNEL, OTHER])
        # Several lines in one frame, tags with escaped characters, a /me, a cheer.
        twitch.send(
            CHANNEL,
            privmsg(CHANNEL, "alice", "hello there", msg_id="m1"),
            privmsg(CHANNEL, "bob", "\x01ACTION waves\x01", display_name="Bob;The Builder"),
            privmsg(CHANNEL, "carol", "Cheer100 Cheer50 great stream", bits=150, msg_id="m3"),
            privmsg(CHANNEL, "dan", "a name with spaces", display_name="ダン"),
        )
        twitch.send(
            CHANNEL,
            usernotice(CHANNEL, "erin", "sub", msg_id="n1", sub_plan="1000", cumulative_months=1),
            usernotice(CHANNEL, "fay", "resub", text="still here after 12 months",
                       sub_plan="Prime", cumulative_months=12),
            usernotice(CHANNEL, "gus", "submysterygift", sub_plan="1000", mass_gift_count=3),
            *(usernotice(CHANNEL, "gus", "subgift", sub_plan="1000",
                         recipient_display_name=f"Lucky {n}") for n in range(3)),
            usernotice(CHANNEL, "hal", "subgift", sub_plan="2000",
                       recipient_display_name="Ivy Twin"),
            usernotice(CHANNEL, "jo", "raid", displayName="Jo", viewerCount=42),
            usernotice(CHANNEL, "kim", "announcement", text="not for the stage"),
        )  # fmt: skip
        twitch.send(OTHER, privmsg(OTHER, "lee", "in the other channel"))
        messages = await received(recorder, 10)
        assert live.stop() == 0
    assert [summary(message) for message in messages] == [
        ("danmaku", "hello there", "Alice", None, False),
        ("danmaku", "waves", "Bob;The Builder", None, False),
        ("superchat", "great stream", "Carol", 150.0, False),
        ("danmaku", "a name with spaces", "ダン", None, False),
        ("membership", "", "Erin", None, False),  # a sub without a message of its own
        ("membership", "still here after 12 months", "Fay", None, False),
        ("gift", "", "Gus", None, False),  # its three parts are not repeated
        ("gift", "", "Hal", None, False),
        ("raid", "", "Jo", None, False),
        ("danmaku", "in the other channel", "Lee", None, False),
    ]
    # What was bought, in the platform's words, beside (never inside) what the viewer wrote.
    assert [message["source"].get("label") for message in messages[4:9]] == [
        "Tier 1",
        "Prime, 12 months",
        "3 Tier 1 gift subs",
        "Tier 2 gift sub for Ivy Twin",
        "42 viewers",
    ]
    alice, cheer = messages[0]["source"], messages[2]["source"]
    assert (alice["id"], alice["room"]) == ("tw:m1", CHANNEL)
    assert alice["user"]["id"] == room_id("user:alice")
    assert (cheer["currency"], cheer["id"]) == ("bits", "tw:m3")
    assert messages[9]["source"]["room"] == OTHER
    assert recorder.invalid == []


async def test_moderators_deleting_messages_and_banning_users_withdraw_them(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    with twitch_client(tmp_path, twitch, recorder, CHANNEL, OTHER) as live:
        await joined(twitch, CHANNEL, OTHER)
        twitch.send(
            CHANNEL,
            privmsg(CHANNEL, "alice", "fine message", msg_id="a1"),
            privmsg(CHANNEL, "spammer", "buy followers", msg_id="s1"),
            privmsg(CHANNEL, "spammer", "cheap followers", msg_id="s2"),
            privmsg(CHANNEL, "bob", "rude words", msg_id="b1"),
        )
        twitch.send(OTHER, privmsg(OTHER, "spammer", "elsewhere", msg_id="o1"))
        await received(recorder, 5)
        twitch.send(CHANNEL, clearmsg(CHANNEL, "bob", "b1", "rude words"))
        twitch.send(CHANNEL, clearchat(CHANNEL, "spammer", duration_s=600))  # a timeout
        twitch.send(OTHER, clearchat(OTHER))  # the whole chat of the other channel cleared
        messages = await received(recorder, 8)
        assert live.stop() == 0
    assert [summary(message) for message in messages[5:]] == [
        ("withdraw", "tw:b1"),
        ("withdraw", "tw:s1", "tw:s2"),  # this channel's messages of that user only
        ("withdraw", "tw:o1"),
    ]
    assert all(message["platform"] == "twitch" for message in messages[5:])


async def test_logging_in_with_a_token_from_the_environment(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    live_config = {"twitch": {"login": TWITCH_BOT, "token": "${TWITCH_TOKEN}"}}
    env = {"TWITCH_TOKEN": TWITCH_OAUTH}
    with twitch_client(tmp_path, twitch, recorder, live=live_config, env=env) as live:
        await joined(twitch)
        assert twitch.read(lambda: list(twitch.logins)) == [(TWITCH_BOT, True)]
        assert twitch.read(lambda: list(twitch.passwords)) == [f"oauth:{TWITCH_OAUTH}"]
        twitch.send(CHANNEL, privmsg(CHANNEL, "alice", "hi bot"))
        await received(recorder, 1)
        assert live.stop() == 0
    assert TWITCH_OAUTH not in live.log() and "logged in as kagura_bot" in live.log()


async def test_a_refused_login_is_a_clear_error_naming_the_setting(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    env = {"TWITCH_TOKEN": "oauth:not-the-right-token"}
    login = {"twitch": {"login": TWITCH_BOT}}
    with twitch_client(tmp_path, twitch, recorder, live=login, env=env) as live:
        assert live.wait(30) == 2
    log = live.log()
    assert "Login authentication failed" in log and "live.twitch.token" in log
    assert "not-the-right-token" not in log
    assert twitch.read(lambda: twitch.refused) == 1  # not retried: retrying cannot help


async def test_pings_both_ways_keep_a_quiet_chat_alive_and_a_dead_one_is_reconnected(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    live_config = {"watchdog_s": WATCHDOG_S, "twitch": {"ping_s": 0.3}}
    with twitch_client(tmp_path, twitch, recorder, live=live_config) as live:
        await joined(twitch)
        assert twitch.ping() == 1
        await until(lambda: twitch.read(lambda: list(twitch.pongs)), 10, "the PONG")
        assert twitch.read(lambda: twitch.pongs) == [":tmi.twitch.tv"]
        # Twice the watchdog's time without a chat line: the client's own PINGs keep it up.
        await until(lambda: twitch.read(lambda: twitch.client_pings) >= 20, 20, "client PINGs")
        assert "(watchdog)" not in live.log() and twitch.read(lambda: twitch.connects) == 1
        twitch.read(lambda: setattr(twitch, "answer_pings", False))  # a silent death
        await until(lambda: "(watchdog)" in live.log(), 15, "the watchdog")
        twitch.read(lambda: setattr(twitch, "answer_pings", True))
        await joined(twitch, connects=2)
        twitch.send(CHANNEL, privmsg(CHANNEL, "alice", "back again"))
        [message] = await received(recorder, 1)
        assert message["text"] == "back again"
        assert live.stop() == 0


async def test_reconnect_requested_mid_stream_rejoins_and_carries_on(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    with twitch_client(tmp_path, twitch, recorder, CHANNEL, OTHER) as live:
        await joined(twitch, CHANNEL, OTHER)
        twitch.send(CHANNEL, privmsg(CHANNEL, "alice", "before", msg_id="r1"))
        await received(recorder, 1)
        assert twitch.reconnect() == 1
        await joined(twitch, CHANNEL, OTHER, connects=2)
        assert twitch.send(OTHER, privmsg(OTHER, "bob", "after", msg_id="r2")) >= 1
        messages = await received(recorder, 2)
        assert [message["text"] for message in messages] == ["before", "after"]
        assert "asked for a reconnect (RECONNECT)" in live.log()
        assert live.stop(signal.SIGINT) == 0


async def test_lines_that_are_not_irc_are_skipped_and_reading_goes_on(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    with twitch_client(tmp_path, twitch, recorder) as live:
        await joined(twitch)
        twitch.send(
            CHANNEL,
            "@just-tags-and-nothing-else",
            ":only.a.prefix",
            usernotice(CHANNEL, "x", "resub", sub_plan="1000", cumulative_months="many"),
            clearmsg(CHANNEL, "x", "", "").replace("target-msg-id=;", ""),  # no target
            ":tmi.twitch.tv SOMETHINGNEW #kagura_tv :from the future",
            f":nobody!nobody@nobody.tmi.twitch.tv PRIVMSG #{CHANNEL} :no tags at all",
            "x" * 20_000,
        )
        messages = await received(recorder, 2)
        assert [(m["text"], m["source"].get("label")) for m in messages] == [
            ("", "Tier 1"),  # an unreadable month count is just left out
            ("no tags at all", None),
        ]
        log = live.log()
        assert "no command" in log and "a line of 20000 characters" in log
        assert "a CLEARMSG message" in log
        assert twitch.read(lambda: twitch.connects) == 1
        assert live.stop() == 0


async def test_the_stage_restarting_mid_stream_loses_and_repeats_nothing(
    tmp_path: Path, twitch: FakeTwitch, recorder: ProxyRecorder
) -> None:
    def chat(prefix: str, count: int) -> list[str]:
        texts = [f"{prefix}{n}" for n in range(count)]
        for start in range(0, count, 4):
            lines = [privmsg(CHANNEL, f"v{n}", text) for n, text in enumerate(texts[start:][:4])]
            twitch.send(CHANNEL, *lines)
        return texts

    with twitch_client(tmp_path, twitch, recorder) as live:
        await joined(twitch)
        sent = chat("before-", 8)
        await received(recorder, 8)
        recorder.stop()
        await until(lambda: "reconnecting in" in live.log(), 10, "the client to notice")
        sent += chat("while-down-", 12)
        await until(lambda: "buffered 12" in live.log(), 10, "the events to be buffered")
        recorder.start()
        sent += chat("after-", 8)
        messages = await received(recorder, len(sent))
        assert [message["text"] for message in messages] == sent
        ids = recorder.ids()
        assert len(ids) == len(set(ids)) == len(sent)
        assert live.stop() == 0


def test_settings_that_cannot_work_are_named(tmp_path: Path, twitch: FakeTwitch) -> None:
    cases = [
        ([], {}, "no channel to read: pass --channel NAME or set live.twitch.channels"),
        (["--channel", "no spaces allowed"], {}, "is not a Twitch channel name"),
        (["--channel", "ok"], {"TWITCH_TOKEN": "x"}, "live.twitch.login: set it"),
    ]
    for args, env, message in cases:
        live = LiveClient(tmp_path / "bad", ["twitch", *args], env=env)
        with live:
            assert live.wait(30) == 2
        assert message in live.log(), live.log()
        live.log_path.unlink()
