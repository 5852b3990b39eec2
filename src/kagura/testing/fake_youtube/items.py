"""Live chat items as the Data API v3 lists them, built from its reference (independently
of the client's reader), for the fake YouTube's tests to post."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

Item = dict[str, Any]


def stamp(at: float | None = None) -> str:
    """RFC 3339 time as the API writes it."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def author(name: str, channel_id: str | None = None, **flags: bool) -> Item:
    channel = channel_id or f"UC{abs(hash(name)) % 10**22:022d}"
    return {
        "channelId": channel,
        "channelUrl": f"http://www.youtube.com/channel/{channel}",
        "displayName": name,
        "profileImageUrl": "https://yt3.ggpht.com/fake.jpg",
        "isVerified": flags.get("verified", False),
        "isChatOwner": flags.get("owner", False),
        "isChatSponsor": flags.get("sponsor", False),
        "isChatModerator": flags.get("moderator", False),
    }


def _item(
    message_id: str, who: Item | None, kind: str, display: str, at: float | None, **details: Any
) -> Item:
    snippet: Item = {"type": kind, "liveChatId": "", "publishedAt": stamp(at)}
    snippet |= {"hasDisplayContent": bool(display), "displayMessage": display, **details}
    item: Item = {"kind": "youtube#liveChatMessage", "etag": f"etag-{message_id}"}
    item |= {"id": message_id, "snippet": snippet}
    if who is not None:
        snippet["authorChannelId"] = who["channelId"]
        item["authorDetails"] = who
    return item


def text(message_id: str, who: Item, message: str, at: float | None = None) -> Item:
    details = {"textMessageDetails": {"messageText": message}}
    return _item(message_id, who, "textMessageEvent", message, at, **details)


def _money(micros: int, currency: str) -> Item:
    # uint64 fields are JSON strings in Google's APIs.
    shown = f"{micros / 1e6:,.2f} {currency}"
    return {"amountMicros": str(micros), "currency": currency, "amountDisplayString": shown}


def super_chat(message_id: str, who: Item, comment: str, micros: int, currency: str) -> Item:
    details = {**_money(micros, currency), "userComment": comment, "tier": 2}
    display = f"{details['amountDisplayString']} from {who['displayName']}: {comment}"
    return _item(message_id, who, "superChatEvent", display, None, superChatDetails=details)


def super_sticker(message_id: str, who: Item, alt: str, micros: int, currency: str) -> Item:
    sticker = {"stickerId": "sticker-1", "altText": alt, "language": "en"}
    details = {"superStickerMetadata": sticker, **_money(micros, currency), "tier": 1}
    display = f"Super Sticker {details['amountDisplayString']} from {who['displayName']}"
    return _item(message_id, who, "superStickerEvent", display, None, superStickerDetails=details)


def new_member(message_id: str, who: Item, level: str = "Member", upgrade: bool = False) -> Item:
    details = {"memberLevelName": level, "isUpgrade": upgrade}
    display = f"Welcome to {level}!"
    return _item(message_id, who, "newSponsorEvent", display, None, newSponsorDetails=details)


def milestone(message_id: str, who: Item, months: int, comment: str = "") -> Item:
    details = {"userComment": comment, "memberMonth": months, "memberLevelName": "Member"}
    return _item(
        message_id, who, "memberMilestoneChatEvent", comment, None,
        memberMilestoneChatDetails=details,
    )  # fmt: skip


def gifting(message_id: str, who: Item, count: int, level: str = "Member") -> Item:
    details = {"giftMembershipsCount": count, "giftMembershipsLevelName": level}
    display = f"Gifted {count} {level} memberships"
    return _item(
        message_id, who, "membershipGiftingEvent", display, None, membershipGiftingDetails=details
    )


def deleted(message_id: str, target: str) -> Item:
    details = {"deletedMessageId": target}
    return _item(message_id, None, "messageDeletedEvent", "", None, messageDeletedDetails=details)


def banned(message_id: str, who: Item, seconds: int = 300) -> Item:
    user = {k: who[k] for k in ("channelId", "channelUrl", "displayName", "profileImageUrl")}
    details = {"bannedUserDetails": user, "banType": "temporary", "banDurationSeconds": seconds}
    return _item(message_id, None, "userBannedEvent", "", None, userBannedDetails=details)


def chat_ended(message_id: str) -> Item:
    return _item(message_id, None, "chatEndedEvent", "", None)
