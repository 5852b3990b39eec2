"""What a chat event is, which lane it waits in, and how it is put into words.

Viewer names and text are untrusted: names are cleaned of control characters and clipped
before they reach a prompt or a chat log, and an event's text is only ever *said* (to the
LLM, to the clients), never interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from kagura.conversation.conversation import TurnInput
from kagura.protocol import outgoing as out
from kagura.protocol.client import ChatSource

MAX_NAME_CHARS = 32


class Lane(IntEnum):
    """Queues in priority order: a lower value is always served first."""

    STREAMER = 0
    SUPERCHAT = 1
    MEMBERSHIP = 2
    GIFT = 3
    DANMAKU = 4
    IDLE = 5

    @property
    def key(self) -> str:
        return self.name.lower()


# Event kinds from platform clients; None: not worth a turn (joins and likes come in floods).
KIND_LANES: dict[str, Lane | None] = {
    "superchat": Lane.SUPERCHAT,
    "guard": Lane.MEMBERSHIP,
    "membership": Lane.MEMBERSHIP,
    "gift": Lane.GIFT,
    "follow": Lane.GIFT,
    "danmaku": Lane.DANMAKU,
    "like": None,
    "enter": None,
}


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One input waiting for the stage: who sent it, what, and over which connection."""

    lane: Lane
    text: str
    kind: str = "danmaku"
    user_name: str = ""
    user_id: str = ""
    platform: str = ""
    amount: float | None = None
    currency: str = ""
    event_id: str = ""
    origin: str = ""  # client_uid of the connection that sent it
    free: bool = False  # a free gift: thanked with the template, never answered as paid

    @property
    def user_key(self) -> str:
        """Who sent it, for rate limits and de-duplication ("" when unknown)."""
        if self.user_id:
            return f"{self.platform}:id:{self.user_id}"
        return f"{self.platform}:name:{self.user_name}" if self.user_name else ""

    @property
    def worth(self) -> str:
        if self.amount is None:
            return ""
        amount = f"{self.amount:g}"
        return f"{amount} {self.currency}".strip()


def one_line(text: str) -> str:
    """Viewer text on one line: a newline inside chat could forge another viewer's line in
    the prompt (`...\nBob says: (Super Chat) ...`)."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).split())


def clean_name(name: str) -> str:
    """A viewer name safe to print and to put in a prompt: one line, no controls, short."""
    return one_line(name)[:MAX_NAME_CHARS]


def chat_event(
    text: str, source: ChatSource | None, *, streamer: bool, origin: str
) -> ChatEvent | None:
    """The event for one `text-input`; None for kinds the stage does not answer.

    Text from an admin connection without a `source` is the streamer's own; everything
    else is a viewer's, whatever it claims.
    """
    if source is None:
        if streamer:
            return ChatEvent(lane=Lane.STREAMER, text=text.strip(), origin=origin)
        return ChatEvent(lane=Lane.DANMAKU, text=one_line(text), origin=origin)
    kind_lane = KIND_LANES[source.kind]
    if kind_lane is None:
        return None
    user = source.user
    return ChatEvent(
        lane=kind_lane,
        text=one_line(text),
        kind=source.kind,
        user_name=clean_name(user.name) if user else "",
        user_id=str(user.id) if user and user.id is not None else "",
        platform=clean_name(source.platform),
        amount=source.amount,
        currency=clean_name(source.currency or ""),
        event_id=str(source.id) if source.id is not None else "",
        origin=origin,
        free=source.free and source.kind == "gift",
    )


def platform_name(platform: str) -> str:
    """A platform's name as its events carry it (a withdrawal names its platform so)."""
    return clean_name(platform)


def display_line(event: ChatEvent) -> str:
    """The line other clients show in their chat log (`user-input-transcription`)."""
    if not event.user_name:
        return event.text
    tag = {"superchat": "Super Chat", "gift": "Gift", "guard": "Guard"}.get(event.kind)
    if tag and event.worth:
        tag = f"{tag} {event.worth}"
    label = f"{event.user_name} [{tag}]" if tag else event.user_name
    return f"{label}: {event.text}" if event.text else label


def announcement(event: ChatEvent) -> out.Message:
    """`user-input-transcription` for the other clients, naming the viewer and platform."""
    return out.transcription(display_line(event), name=event.user_name, platform=event.platform)


def _said(event: ChatEvent) -> str:
    """What the event says, with what kind of event it is when that matters."""
    worth = f", {event.worth}" if event.worth else ""
    match event.kind:
        case "superchat":
            return f"(Super Chat{worth}) {event.text}".strip()
        case "gift":
            return f"(sent a gift: {event.text or 'a gift'}{worth})"
        case "guard" | "membership":
            return f"(became a member: {event.text or 'membership'}{worth})"
        case "follow":
            return "(followed the channel)"
        case _:
            return event.text


def turn_input(events: Sequence[ChatEvent]) -> TurnInput:
    """One turn's input: a single event names its viewer; a batch lists every viewer."""
    if events[0].lane is Lane.IDLE:
        return TurnInput(proactive=True)
    if len(events) == 1:
        event = events[0]
        return TurnInput(
            text=_said(event), speaker=event.user_name or None, platform=event.platform or None
        )
    lines = []
    for event in events:
        who = event.user_name or "A viewer"
        where = f" on {event.platform}" if event.platform else ""
        lines.append(f"{who}{where} says: {_said(event)}")
    header = "Several viewers wrote in chat. Answer them together in one reply, by name:"
    return TurnInput(text="\n".join([header, *lines]))


def join_names(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(name for name in names if name)) or ["everyone"]
    if len(unique) == 1:
        return unique[0]
    return f"{', '.join(unique[:-1])} and {unique[-1]}"


def thanks_text(template: str, events: Sequence[ChatEvent]) -> str:
    """The template thank-you for small gifts and follows (no LLM involved)."""
    names = join_names([event.user_name for event in events])
    gifts = [event.text for event in events if event.kind == "gift" and event.text]
    if any(event.kind == "follow" for event in events):
        gifts.append("follow")
    gift_text = join_names(gifts) if gifts else "gifts"
    try:
        return template.format(names=names, gifts=gift_text)
    except (KeyError, IndexError, ValueError):  # a broken template must not end the stage
        return f"Thank you {names} for the {gift_text}!"
