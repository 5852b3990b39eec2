"""The Twitch and YouTube pieces on their own: IRC lines and tag escapes, cheers, gift
batches, who-said-what memory, the quota budget's arithmetic and its ledger.

IRC lines are written by the fake server's own writer (`kagura.testing.fake_twitch`),
independent of the client's parser, so the two cannot agree on a mistake.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from kagura.live.platform import Authors
from kagura.live.twitch import irc
from kagura.live.twitch.commands import Chat, GiftBatches, commands, without_cheers
from kagura.live.youtube.quota import PACIFIC, QuotaBudget
from kagura.testing.fake_twitch import clearchat, escape, privmsg, usernotice

# -- IRC ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("plain", "plain"),
        (r"a\sb\:c\\d", "a b;c\\d"),
        (r"line\rbreak\n", "line\rbreak\n"),
        (r"unknown\xescape", "unknownxescape"),  # an unknown escape is the character itself
        ("trailing\\", "trailing"),  # a lone backslash at the end stands for nothing
        ("", ""),
    ],
)
def test_tag_values_are_unescaped_as_ircv3_says(raw: str, value: str) -> None:
    assert irc.unescape(raw) == value


def test_what_the_server_escapes_the_client_reads_back() -> None:
    name = "semi;colon space back\\slash"
    assert irc.unescape(escape(name)) == name
    line = irc.parse(privmsg("chan", "bob", "a :colon inside", display_name=name, bits=10))
    assert (line.command, line.channel, line.login, line.text) == (
        "PRIVMSG",
        "chan",
        "bob",
        "a :colon inside",
    )
    assert line.tags["display-name"] == name and line.tags["bits"] == "10"


@pytest.mark.parametrize(
    ("raw", "command", "params", "prefix"),
    [
        ("PING :tmi.twitch.tv", "PING", ("tmi.twitch.tv",), ""),
        (":tmi.twitch.tv RECONNECT", "RECONNECT", (), "tmi.twitch.tv"),
        (":tmi.twitch.tv CLEARCHAT #dallas", "CLEARCHAT", ("#dallas",), "tmi.twitch.tv"),
        (":tmi.twitch.tv 001 justinfan1 :Welcome, GLHF!", "001", ("justinfan1", "Welcome, GLHF!"),
         "tmi.twitch.tv"),
        (":tmi.twitch.tv  CAP * ACK :a b", "CAP", ("*", "ACK", "a b"), "tmi.twitch.tv"),
    ],
)  # fmt: skip
def test_lines_split_into_command_params_and_prefix(
    raw: str, command: str, params: tuple[str, ...], prefix: str
) -> None:
    line = irc.parse(raw)
    assert (line.command, line.params, line.prefix) == (command, params, prefix)


@pytest.mark.parametrize("raw", ["", "@tags-only", ":prefix-only", "x" * 20_000])
def test_what_is_not_irc_is_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(irc.IrcError):
        irc.parse(raw)


def test_a_frame_holds_several_lines() -> None:
    assert irc.lines("PING :a\r\nPING :b\r\n\r\nPING :c\n") == ["PING :a", "PING :b", "PING :c"]


def test_the_token_gets_exactly_one_oauth_prefix() -> None:
    assert irc.oauth("abc") == irc.oauth("oauth:abc") == irc.oauth(" oauth:abc\n") == "oauth:abc"


# -- Twitch handlers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bits", "left"),
    [
        ("Cheer100 great stream", 100, "great stream"),
        ("Cheer50 hi Kappa50", 100, "hi"),
        ("mp3 players cost 100", 100, "mp3 players cost 100"),  # mp3 is not 100 bits
        ("Cheer100", 100, ""),
        ("no cheermote at all", 100, "no cheermote at all"),
    ],
)
def test_cheermotes_leave_the_text_when_they_add_up_to_the_bits(
    text: str, bits: int, left: str
) -> None:
    assert without_cheers(text, bits) == left


def test_a_gift_batch_counts_off_its_parts_then_lets_new_gifts_through() -> None:
    batches = GiftBatches()
    gifter = ("chan", "42")
    batches.expect(gifter, 2)
    assert [batches.part_of_batch(gifter) for _ in range(3)] == [True, True, False]
    assert not batches.part_of_batch(("chan", "other"))


def test_authors_withdraw_a_users_or_a_rooms_messages_once() -> None:
    authors = Authors(limit=3)
    sent = [("1", "a", "x"), ("2", "a", "y"), ("3", "b", "x"), ("4", "a", "x")]
    for message_id, room, who in sent:
        authors.add(message_id, room, who)
    assert authors.sent("a", "x") == ["4"]  # "1" was forgotten: the memory holds three
    assert authors.sent("a", "x") == []  # withdrawn once
    assert authors.sent("a") == ["2"] and authors.sent("b") == ["3"]


def test_a_partners_messages_in_a_shared_chat_are_skipped_unless_wanted() -> None:
    partner = privmsg("chan", "zed", "hi from the partner channel", msg_id="local")
    partner = partner.replace("@", "@source-room-id=999;source-id=original;", 1)
    line = irc.parse(partner)
    assert commands.dispatch(Chat(), "PRIVMSG", line) == []
    [event] = commands.dispatch(Chat(shared_chat=True), "PRIVMSG", line)
    assert event.id == "tw:original"  # one message seen in two channels is one event


def test_a_ban_withdraws_only_that_channels_messages_of_that_user() -> None:
    chat = Chat()
    for channel in ("a", "b"):
        commands.dispatch(chat, "PRIVMSG", irc.parse(privmsg(channel, "spam", "x", msg_id=channel)))
    [withdrawal] = commands.dispatch(chat, "CLEARCHAT", irc.parse(clearchat("a", "spam", 60)))
    assert withdrawal.ids == ("tw:a",)
    resub = irc.parse(usernotice("a", "fan", "resub", sub_plan="2000", cumulative_months=3))
    [event] = commands.dispatch(chat, "USERNOTICE", resub)
    assert (event.kind, event.label, event.text) == ("membership", "Tier 2, 3 months", "")
    assert event.user_name == "Fan"
    # A resub's own message is the viewer's words: banning them withdraws it like chat.
    said = usernotice("a", "fan", "resub", text="hi again", msg_id="r1", sub_plan="1000")
    [event] = commands.dispatch(chat, "USERNOTICE", irc.parse(said))
    assert (event.label, event.text) == ("Tier 1", "hi again")
    [withdrawal] = commands.dispatch(chat, "CLEARCHAT", irc.parse(clearchat("a", "fan", 60)))
    assert withdrawal.ids == ("tw:r1",)


# -- the quota budget ---------------------------------------------------------------------


def pacific(hour: int, minute: int = 0, day: int = 10) -> float:
    return datetime(2026, 6, day, hour, minute, tzinfo=PACIFIC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_polls_are_spaced_so_that_the_rest_lasts_the_budget_hours() -> None:
    clock = Clock(pacific(12))
    budget = QuotaBudget(10_000, 4, "key", clock=clock)
    assert budget.spacing(5) == pytest.approx(7.2)  # 5 units × 4 h / 10,000 units
    budget.charge(5_000)
    assert budget.spacing(5) == pytest.approx(14.4)  # half left: half the pace
    assert budget.spacing(100) == pytest.approx(288)  # a search costs twenty polls
    clock.now = pacific(23, 30)  # half an hour before the reset: spend what is left
    assert budget.spacing(5) == pytest.approx(5 * 1800 / 5_000)


def test_the_budget_never_runs_out_and_starts_afresh_at_midnight_pacific() -> None:
    clock = Clock(pacific(20))
    budget = QuotaBudget(100, 4, "key", clock=clock)
    budget.charge(98)
    assert budget.spacing(5) == pytest.approx(4 * 3600)  # less than a poll left: until reset
    assert budget.exhausted(20_000) == pytest.approx(4 * 3600)  # paused until the reset at most
    clock.now = pacific(0, 1, day=11)
    assert budget.remaining == 100 and budget.blocked_for() == 0


def test_replies_spend_their_share_only_and_reading_paces_itself_on_the_rest(
    tmp_path: Path,
) -> None:
    clock = Clock(pacific(12))
    ledger = tmp_path / "youtube-quota.json"
    budget = QuotaBudget(10_000, 4, "key", ledger, clock=clock, reply_share=0.25)
    assert budget.remaining == 7_500 and budget.replies_left == 2_500
    assert budget.spacing(5) == pytest.approx(5 * 4 * 3600 / 7_500)
    for _ in range(50):
        assert budget.can_reply(50)
        budget.charge_reply(50)
    assert not budget.can_reply(50) and budget.replies_left == 0  # the share is spent
    assert budget.remaining == 7_500  # and reading has lost nothing to it
    budget.charge(7_450)
    assert budget.remaining == 50 and not budget.can_reply(50)
    again = QuotaBudget(10_000, 4, "key", ledger, clock=clock, reply_share=0.25)  # a restart
    assert (again.spent, again.replies_spent) == (9_950, 2_500)
    clock.now = pacific(0, 1, day=11)
    assert again.replies_left == 2_500 and again.remaining == 7_500  # a new day
    assert QuotaBudget(10_000, 4, "key", clock=clock).remaining == 10_000  # no replies: all


def test_the_ledger_keeps_the_days_spending_under_a_fingerprint_of_the_key(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "data" / "youtube-quota.json"
    clock = Clock(pacific(9))
    first = QuotaBudget(10_000, 4, "secret-key-1", ledger, clock=clock)
    first.charge(105)
    assert QuotaBudget(10_000, 4, "secret-key-1", ledger, clock=clock).spent == 105  # a restart
    assert QuotaBudget(10_000, 4, "secret-key-2", ledger, clock=clock).spent == 0  # another key
    clock.now = pacific(9, day=11)
    assert QuotaBudget(10_000, 4, "secret-key-1", ledger, clock=clock).spent == 0  # a new day
    assert "secret-key" not in ledger.read_text()
    ledger.write_text("{not json")  # a damaged ledger: counted from zero, then rewritten
    damaged = QuotaBudget(10_000, 4, "secret-key-1", ledger, clock=clock)
    assert damaged.spent == 0
    damaged.charge(5)
    assert [entry["spent"] for entry in json.loads(ledger.read_text("utf-8")).values()] == [5]
