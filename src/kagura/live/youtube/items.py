"""YouTube live chat items → stage events, one handler per `snippet.type`.

Amounts are `amountMicros` / 10⁶ in the currency YouTube gives (`USD`, `JPY`, …), kept as
given. Super Stickers are paid like Super Chats and answered in the same lane, their text
being the sticker's description. Memberships carry their level as their label ("Member",
"Member, 12 months"), and a milestone the member's own comment as its text; gifted
memberships are a gift. A message deleted by a moderator, or
every waiting message of a viewer who was banned, is withdrawn. Event ids are YouTube's
message ids (`yt:<id>`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kagura.live.events import Item, LiveEvent, withdrawals
from kagura.live.platform import Authors, CommandTable

PLATFORM = "youtube"
MICROS = 1_000_000
CHAT_ENDED = "chatEndedEvent"

Chat = dict[str, Any]


@dataclass
class Stream:
    """What the handlers of one stream's chat share."""

    video_id: str
    authors: Authors = field(default_factory=Authors)


items: CommandTable[Stream, Chat] = CommandTable(PLATFORM)
items.ignore(
    "sponsorOnlyModeStartedEvent",
    "sponsorOnlyModeEndedEvent",
    "tombstone",
    "pollEvent",
    "giftMembershipReceivedEvent",  # the gifter's membershipGiftingEvent is thanked instead
    "fanFundingEvent",  # retired in 2017
    CHAT_ENDED,  # handled by the poller: it ends the stream
)


def published(item: Chat) -> float | None:
    """When the item was posted (unix seconds), if it says so readably."""
    value = (item.get("snippet") or {}).get("publishedAt")
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def _event(stream: Stream, item: Chat, kind: Any, **fields: Any) -> LiveEvent:
    author = item.get("authorDetails") or {}
    channel = author.get("channelId") or item["snippet"].get("authorChannelId")
    return LiveEvent(
        platform=PLATFORM,
        kind=kind,
        user_name=str(author.get("displayName", "")),
        user_id=str(channel) if channel else None,
        room=stream.video_id,
        id=f"yt:{item['id']}",
        ts=published(item),
        **fields,
    )


def _said(stream: Stream, event: LiveEvent) -> LiveEvent:
    """Remember who said it (a ban withdraws it while it waits)."""
    if event.id is not None and event.user_id is not None:
        stream.authors.add(event.id, stream.video_id, str(event.user_id))
    return event


def _amount(details: Chat) -> dict[str, Any]:
    return {"amount": int(details["amountMicros"]) / MICROS, "currency": str(details["currency"])}


@items.on("textMessageEvent")
def _text(stream: Stream, item: Chat) -> Iterator[Item]:
    snippet = item["snippet"]
    text = (snippet.get("textMessageDetails") or {}).get("messageText")
    text = str(text if text is not None else snippet.get("displayMessage", ""))
    if text.strip():
        yield _said(stream, _event(stream, item, "danmaku", text=text))


@items.on("superChatEvent")
def _super_chat(stream: Stream, item: Chat) -> Iterator[Item]:
    details = item["snippet"]["superChatDetails"]
    text = str(details.get("userComment") or "")
    yield _said(stream, _event(stream, item, "superchat", text=text, **_amount(details)))


@items.on("superStickerEvent")
def _super_sticker(stream: Stream, item: Chat) -> Iterator[Item]:
    details = item["snippet"]["superStickerDetails"]
    sticker = (details.get("superStickerMetadata") or {}).get("altText") or "a sticker"
    text = f"(sticker: {sticker})"
    yield _said(stream, _event(stream, item, "superchat", text=text, **_amount(details)))


@items.on("newSponsorEvent")
def _new_member(stream: Stream, item: Chat) -> Iterator[Item]:
    details = item["snippet"].get("newSponsorDetails") or {}
    level = str(details.get("memberLevelName") or "Member")
    label = f"upgraded to {level}" if details.get("isUpgrade") else level
    yield _event(stream, item, "membership", label=label)


@items.on("memberMilestoneChatEvent")
def _milestone(stream: Stream, item: Chat) -> Iterator[Item]:
    details = item["snippet"]["memberMilestoneChatDetails"]
    level = str(details.get("memberLevelName") or "Member")
    months = int(details.get("memberMonth") or 0)
    label = f"{level}, {months} months" if months > 1 else level
    comment = str(details.get("userComment") or "")
    yield _said(stream, _event(stream, item, "membership", label=label, text=comment))


@items.on("membershipGiftingEvent")
def _gifted(stream: Stream, item: Chat) -> Iterator[Item]:
    details = item["snippet"]["membershipGiftingDetails"]
    count = max(1, int(details.get("giftMembershipsCount") or 1))
    level = details.get("giftMembershipsLevelName")
    label = f"{count} gifted memberships" if count > 1 else "a gifted membership"
    yield _event(stream, item, "gift", label=f"{label} ({level})" if level else label)


@items.on("messageDeletedEvent")
def _deleted(stream: Stream, item: Chat) -> Iterator[Item]:
    target = item["snippet"]["messageDeletedDetails"]["deletedMessageId"]
    yield from stream.authors.removed(PLATFORM, [f"yt:{target}"])


@items.on("userBannedEvent")
def _banned(stream: Stream, item: Chat) -> Iterator[Item]:
    banned = item["snippet"]["userBannedDetails"]["bannedUserDetails"]["channelId"]
    yield from withdrawals(PLATFORM, stream.authors.sent(stream.video_id, str(banned)))
