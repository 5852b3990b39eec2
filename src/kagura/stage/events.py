"""What a chat event is, which lane it waits in, how it is put into words, and what the
stage publishes about it.

Viewer names and text are untrusted: they are cleaned when the event is made, and reach the
LLM only as quoted data (`kagura.conversation.framing`). Who speaks is decided by the
connection's role, never by the text: only the admin's plain text is the streamer's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from kagura.conversation.blocklist import BlockedWords
from kagura.conversation.conversation import TurnInput
from kagura.conversation.events import ConversationEvent
from kagura.conversation.framing import (
    ViewerEvent,
    clean,
    clean_name,
    quoted_label,
    viewer_label,
    viewer_line,
)
from kagura.conversation.text import CJK
from kagura.memory import Sighting, Speaker, ViewerKey

MAX_GIFT_CHARS = 24  # a gift's name in a thank-you
GREETING_NAMES = 3  # viewers named when a burst of greetings is answered; the rest counted


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


# Event kinds from platform clients; None: not worth a turn (joins and likes come in floods;
# an entry may be greeted, `kagura.stage.host`; the stream's start and end open and close
# the show).
KIND_LANES: dict[str, Lane | None] = {
    "superchat": Lane.SUPERCHAT,
    "guard": Lane.MEMBERSHIP,
    "membership": Lane.MEMBERSHIP,
    "raid": Lane.MEMBERSHIP,  # a streamer bringing their viewers: greeted before gifts
    "gift": Lane.GIFT,
    "follow": Lane.GIFT,
    "danmaku": Lane.DANMAKU,
    "like": None,
    "enter": None,
    "live_start": None,
    "live_end": None,
}
# Kinds whose event names what was bought or given (`ChatEvent.label`). A client that sends
# no `label` for them puts that name in the text: it is read as the label, as it was before
# the two were split, and the viewer wrote nothing.
LABELLED = frozenset({"gift", "guard", "membership", "raid"})


def label_and_text(kind: str, text: str, label: str | None) -> tuple[str, str]:
    """An event's (label, viewer's words), whether its client split them or not."""
    if label is None and kind in LABELLED:
        return text, ""
    return label or "", text


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One input waiting for the stage: who sent it, what, and over which connection.

    `text` is only what the sender wrote (screened like any chat); `label` is the platform's
    name for what a paid or membership event bought ("Tier 1, 3 months"), never their words.
    """

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
    label: str = ""
    # The viewer's name may not be said (`safety`): shown as "a viewer", and their id, which
    # may spell the name (`name:<name>`, a login), is not shown on pages either.
    name_withheld: bool = False

    @property
    def user_key(self) -> str:
        """Who sent it, for rate limits and de-duplication ("" when unknown)."""
        if self.user_id:
            return f"{self.platform}:id:{self.user_id}"
        return f"{self.platform}:name:{self.user_name}" if self.user_name else ""

    @property
    def viewer(self) -> ViewerKey | None:
        """The viewer's identity for long-term memory (None: the streamer, or unknown)."""
        if self.lane in (Lane.STREAMER, Lane.IDLE) or not self.platform:
            return None
        if self.user_id:
            return ViewerKey(self.platform, self.user_id)
        return ViewerKey(self.platform, f"name:{self.user_name}") if self.user_name else None

    def sighting(self, at: float) -> Sighting | None:
        """What this event adds to its sender's profile (a free gift pays nothing)."""
        key = self.viewer
        if key is None:
            return None
        paid = self.amount if self.amount and not self.free else 0.0
        return Sighting(key, self.user_name, at, paid, self.currency)

    @property
    def worth(self) -> str:
        if self.amount is None:
            return ""
        amount = f"{self.amount:g}"
        return f"{amount} {self.currency}".strip()


@dataclass(frozen=True, slots=True)
class Announced:
    """A turn has started on `chat`: every client but the one that sent it shows the line."""

    chat: ChatEvent


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The reply was stopped: every client but `origin` (which stopped already) stops
    playing it. `heard`: what the interrupting client said it heard."""

    heard: str
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Cut:
    """The streamer cut what was on its way to air (`panic`: and stopped the stage): every
    page stops playing at once, whatever delay it watches with, and what was still waiting
    in the stream delay is never sent."""

    panic: bool = False


StageEvent = ConversationEvent | Announced | Interrupted | Cut


def platform_name(platform: str) -> str:
    """A platform's name as its events carry it (a withdrawal names its platform so)."""
    return clean_name(platform)


def display_line(event: ChatEvent) -> str:
    """The line other clients show in their chat log (`user-input-transcription`)."""
    if not event.user_name:
        return event.text
    tag = {"superchat": "Super Chat", "gift": "Gift", "guard": "Guard", "raid": "Raid"}.get(
        event.kind
    )
    if tag and event.worth:
        tag = f"{tag} {event.worth}"
    who = f"{event.user_name} [{tag}]" if tag else event.user_name
    said = " — ".join(part for part in (event.label, event.text) if part)
    return f"{who}: {said}" if said else who


def viewer_event(event: ChatEvent) -> ViewerEvent:
    """The event in the prompt's terms: what the viewer wrote (quoted as their words), and
    Kagura's own wording of what they did and paid, the platform's label quoted inside it:
    "Alice becomes a member «Tier 1, 3 months»: «still here after 3 months»"."""
    worth = f" ({event.worth})" if event.worth else ""
    label = f" {quoted_label(event.label)}" if event.label else ""
    match event.kind:
        case "superchat":
            action = f"sends a Super Chat{worth}"
        case "gift":
            action = f"sends a gift{label}{worth}"
        case "guard" | "membership":
            action = f"becomes a member{label}{worth}"
        case "raid":
            action = f"raids the channel{' with' if label else ''}{label}"
        case "follow":
            return ViewerEvent(event.user_name, event.platform, action="follows the channel")
        case _:
            action = ""
    return ViewerEvent(event.user_name, event.platform, event.text, action)


MAX_READ_CHARS = 120  # a question read out before the answer: a line, not a speech
READ_ALOUD = {"en": "{name} asks: {text}", "zh": "{name}问：{text}"}


def asks(event: ChatEvent) -> bool:
    """A viewer's own words that the reply answers (not a gift's name, not the streamer)."""
    return bool(event.text and event.user_name) and event.lane in (Lane.DANMAKU, Lane.SUPERCHAT)


def question_preface(events: Sequence[ChatEvent]) -> str:
    """The first viewer question of a batch as the character reads it out before answering
    ("Bea asks: what's your favourite game?"), or "" when there is none. The text already
    passed the stage's filters and the safety lists; the output guard screens it again."""
    asked = next((event for event in events if asks(event)), None)
    if asked is None:
        return ""
    text = clean(asked.text, MAX_READ_CHARS)
    zh = bool(CJK.search(text))
    if text and text[-1] not in ".!?。！？…":
        text += "。" if zh else "."
    return READ_ALOUD["zh" if zh else "en"].format(name=asked.user_name, text=text)


def turn_input(
    events: Sequence[ChatEvent], character_names: Iterable[str] = (), greeting: bool = False
) -> TurnInput:
    """One turn's input: the streamer's own words as they are; viewers' as quoted lines, one
    per event (several waiting danmaku are answered together, by name); a burst of greetings
    as one line naming a few of them (`greeting_input`)."""
    names = tuple(character_names)
    first = events[0]
    if first.lane is Lane.IDLE:
        return TurnInput(proactive=True)
    if first.lane is Lane.STREAMER:
        return TurnInput(text=first.text)
    speakers = {
        key: Speaker(key, event.user_name) for event in events if (key := event.viewer) is not None
    }
    who = tuple(speakers.values())
    if greeting and len(events) > 1:
        # Only the viewers it names are recalled: fifty profiles for one "hi" would flood
        # the prompt. The one line is every greeter's: forgetting one of them drops it.
        everyone = frozenset(speakers)
        text = greeting_text(events, names)
        return TurnInput(text=text, speakers=who[:GREETING_NAMES], owners=(everyone,))
    lines = [viewer_line(viewer_event(event), names) for event in events]
    owners = tuple(_owner(event) for event in events)
    said = "\n".join(event.text for event in events if event.text)
    if len(lines) == 1:
        speaker = first.user_name or None
        return TurnInput(lines[0], speaker, speakers=who, owners=owners, search=said)
    header = "Several viewers wrote in chat. Answer them together in one reply, by name:"
    text = "\n".join([header, *lines])
    return TurnInput(text, speakers=who, owners=(frozenset(), *owners), search=said)


def _owner(event: ChatEvent) -> frozenset[ViewerKey]:
    key = event.viewer
    return frozenset() if key is None else frozenset((key,))


def greeting_text(events: Sequence[ChatEvent], character_names: Iterable[str] = ()) -> str:
    """A burst of hellos, answered once: the first `GREETING_NAMES` viewers by name (each
    name cleaned, and marked when it pretends to be the character), the rest counted."""
    names = tuple(character_names)
    labels = list(dict.fromkeys(viewer_label(e.user_name, "", names) for e in events))
    shown = labels[:GREETING_NAMES]
    others = len(labels) - len(shown)
    if others:
        who = f"{', '.join(shown)} and {others} other{'s' if others > 1 else ''}"
    else:
        who = join_names(shown)
    return (
        f"{len(events)} viewers greeted you in chat ({who}). Greet them all at once in one "
        f'short line, naming {who} (for example: "Hi {who}!"); do not answer each one.'
    )


def join_names(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(name for name in names if name)) or ["everyone"]
    if len(unique) == 1:
        return unique[0]
    return f"{', '.join(unique[:-1])} and {unique[-1]}"


def thanks_text(
    template: str, events: Sequence[ChatEvent], blocked: BlockedWords | None = None
) -> str:
    """The template thank-you for small gifts and follows (no LLM involved): it says only
    cleaned names and gift names (labels), and none that carries a blocked word. An event
    that carries the viewer's own words never comes here (`FloodPolicy`): they are read."""

    def sayable(text: str, limit: int) -> str:
        text = clean(text, limit)
        return "" if blocked is not None and blocked.found_in(text) else text

    names = join_names([sayable(event.user_name, 32) for event in events])
    gifts = [sayable(event.label, MAX_GIFT_CHARS) for event in events if event.kind == "gift"]
    gifts = [gift for gift in gifts if gift]
    if any(event.kind == "follow" for event in events):
        gifts.append("follow")
    gift_text = join_names(gifts) if gifts else "gifts"
    try:
        return template.format(names=names, gifts=gift_text)
    except (KeyError, IndexError, ValueError):  # a broken template must not end the stage
        return f"Thank you {names} for the {gift_text}!"
