"""Twitch chat lines → stage events, one handler per IRC command (and per USERNOTICE kind).

- `PRIVMSG`: a chat message; with a `bits` tag it is a cheer, passed on as a paid event
  with the amount in bits (currency "bits") and the cheermotes (`Cheer100`) taken out of
  the text when they add up to the bits.
- `USERNOTICE`: `sub`/`resub` → membership labelled "Tier 1, 12 months", with the
  subscriber's own message (the line's trailing text) as its text; `subgift` → gift,
  `submysterygift` → one gift for the whole batch (the `subgift` notices that follow it
  are its parts and are not passed on again), `raid` → raid.
- `CLEARMSG` (a message deleted by a moderator) and `CLEARCHAT` (a user banned or timed
  out, or the whole chat cleared) → withdrawals of those messages, so the stage never
  answers what moderators removed.

Event ids are Twitch's message ids (`tw:<uuid>`). In a Shared Chat session, messages from
the other channels carry `source-room-id`; they are passed on only with `shared_chat`,
under their original id (`source-id`), so one message seen in two joined channels is one.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kagura.live.events import Item, LiveEvent, withdrawals
from kagura.live.platform import Authors, CommandTable

from .irc import Line

PLATFORM = "twitch"
BITS = "bits"
ACTION_START, ACTION_END = "\x01ACTION ", "\x01"  # `/me` messages
CHEERMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*?(\d+)$")
PLANS = {"prime": "Prime", "1000": "Tier 1", "2000": "Tier 2", "3000": "Tier 3"}
MAX_GIFTERS = 1024  # mystery-gift batches being counted down at once


class GiftBatches:
    """A `submysterygift` of N subs is followed by N `subgift` notices, one per recipient:
    the batch is passed on once, and its parts are counted off here."""

    def __init__(self) -> None:
        self._left: OrderedDict[tuple[str, str], int] = OrderedDict()

    def expect(self, gifter: tuple[str, str], count: int) -> None:
        self._left[gifter] = self._left.get(gifter, 0) + count
        self._left.move_to_end(gifter)
        while len(self._left) > MAX_GIFTERS:
            self._left.popitem(last=False)

    def part_of_batch(self, gifter: tuple[str, str]) -> bool:
        left = self._left.get(gifter, 0)
        if left <= 0:
            return False
        if left == 1:
            del self._left[gifter]
        else:
            self._left[gifter] = left - 1
        return True


@dataclass
class Chat:
    """What the handlers share, across reconnects."""

    shared_chat: bool = False
    authors: Authors = field(default_factory=Authors)
    batches: GiftBatches = field(default_factory=GiftBatches)

    def from_here(self, line: Line) -> bool:
        """Whether the line belongs to the channel it arrived in (not a Shared Chat
        partner's), or partners' lines are wanted too."""
        source = line.tags.get("source-room-id")
        return self.shared_chat or not source or source == line.tags.get("room-id")

    @staticmethod
    def message_id(line: Line) -> str | None:
        value = line.tags.get("source-id") or line.tags.get("id")
        return f"tw:{value}" if value else None


commands: CommandTable[Chat, Line] = CommandTable(PLATFORM)
commands.ignore(
    "ROOMSTATE", "USERSTATE", "GLOBALUSERSTATE", "PART", "MODE", "HOSTTARGET", "WHISPER",
    "002", "003", "004", "353", "366", "372", "375", "376",
)  # fmt: skip
notices: CommandTable[Chat, Line] = CommandTable(f"{PLATFORM} USERNOTICE")
notices.ignore(
    "announcement", "ritual", "bitsbadgetier", "unraid", "rewardgift", "viewermilestone",
    "giftpaidupgrade", "anongiftpaidupgrade", "primepaidupgrade", "communitypayforward",
    "standardpayforward", "onetapgiftredeemed",
)  # fmt: skip


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _event(line: Line, kind: Any, **fields: Any) -> LiveEvent:
    tags = line.tags
    sent = _int(tags.get("tmi-sent-ts"))
    return LiveEvent(
        platform=PLATFORM,
        kind=kind,
        user_name=tags.get("display-name") or tags.get("login") or line.login,
        user_id=tags.get("user-id") or None,
        room=line.channel or None,
        ts=sent / 1000 if sent else None,
        id=Chat.message_id(line),
        **fields,
    )


def without_cheers(text: str, bits: int) -> str:
    """`text` without its cheermotes, when the ones found add up to `bits` (else as is:
    a word like `mp3` is not taken for a cheer)."""
    words = text.split()
    found = {i: match for i, word in enumerate(words) if (match := CHEERMOTE.match(word))}
    if not found or sum(int(match.group(1)) for match in found.values()) != bits:
        return text
    return " ".join(word for i, word in enumerate(words) if i not in found)


@commands.on("PRIVMSG")
def _message(chat: Chat, line: Line) -> Iterator[Item]:
    if not chat.from_here(line):
        return
    text = line.text
    if text.startswith(ACTION_START):
        text = text[len(ACTION_START) :].removesuffix(ACTION_END)
    bits = _int(line.tags.get("bits"))
    if bits <= 0 and not text.strip():
        return
    event_id = Chat.message_id(line)
    if event_id:
        chat.authors.add(event_id, line.channel, line.login)
    if bits > 0:
        clean = without_cheers(text, bits)
        yield _event(line, "superchat", text=clean, amount=float(bits), currency=BITS)
    else:
        yield _event(line, "danmaku", text=text)


@commands.on("USERNOTICE")
def _user_notice(chat: Chat, line: Line) -> Iterator[Item]:
    kind = line.tags.get("msg-id", "")
    if kind == "sharedchatnotice":  # a partner channel's notice, in a Shared Chat session
        if not chat.shared_chat:
            return
        kind = line.tags.get("source-msg-id", "")
    elif not chat.from_here(line):
        return
    yield from notices.dispatch(chat, kind, line)


def _plan(line: Line) -> str:
    plan = line.tags.get("msg-param-sub-plan", "")
    return PLANS.get(plan.lower(), line.tags.get("msg-param-sub-plan-name") or "sub")


def _gifter(line: Line) -> tuple[str, str]:
    tags = line.tags
    return line.channel, tags.get("user-id") or tags.get("login") or "anonymous"


@notices.on("sub", "resub")
def _sub(chat: Chat, line: Line) -> Iterator[Item]:
    months = _int(line.tags.get("msg-param-cumulative-months"))
    label = _plan(line) + (f", {months} months" if months > 1 else "")
    event_id = Chat.message_id(line)
    login = line.tags.get("login", "").lower()  # a notice's prefix is Twitch's, not theirs
    if event_id and login and line.text.strip():  # their words: withdrawn if they are banned
        chat.authors.add(event_id, line.channel, login)
    yield _event(line, "membership", label=label, text=line.text)


@notices.on("subgift", "anonsubgift")
def _gift_sub(chat: Chat, line: Line) -> Iterator[Item]:
    if chat.batches.part_of_batch(_gifter(line)):
        return  # already passed on with its batch
    tags = line.tags
    recipient = tags.get("msg-param-recipient-display-name") or tags.get(
        "msg-param-recipient-user-name", ""
    )
    label = f"{_plan(line)} gift sub" + (f" for {recipient}" if recipient else "")
    yield _event(line, "gift", label=label)


@notices.on("submysterygift", "anonsubmysterygift")
def _gift_batch(chat: Chat, line: Line) -> Iterator[Item]:
    count = max(1, _int(line.tags.get("msg-param-mass-gift-count")))
    chat.batches.expect(_gifter(line), count)
    label = f"{count} {_plan(line)} gift subs" if count > 1 else f"{_plan(line)} gift sub"
    yield _event(line, "gift", label=label)


@notices.on("raid")
def _raid(chat: Chat, line: Line) -> Iterator[Item]:
    viewers = _int(line.tags.get("msg-param-viewerCount"))  # the raider sends the notice
    yield _event(line, "raid", label=f"{viewers} viewer" + ("s" if viewers != 1 else ""))


@commands.on("CLEARMSG")
def _deleted(chat: Chat, line: Line) -> Iterator[Item]:
    yield from chat.authors.removed(PLATFORM, [f"tw:{line.tags['target-msg-id']}"])


@commands.on("CLEARCHAT")
def _cleared(chat: Chat, line: Line) -> Iterator[Item]:
    login = line.text.lower() or None  # none: the whole chat was cleared
    yield from withdrawals(PLATFORM, chat.authors.sent(line.channel, login))
