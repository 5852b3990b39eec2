"""The edge: the core's typed events in each dialect the server speaks, encoded once.

The turn and the stage publish typed events (`kagura.conversation.events`,
`kagura.stage.events`); only here do they become wire messages:

- the Open-LLM-VTuber dialect of `/client-ws` and `/proxy-ws` (`Encoder.encode`): an event
  becomes zero or more frames, serialised once however many clients receive them, so a
  segment's WAV is base64-encoded once per segment whatever the size of the audience;
- the widget channel's dialect (`WidgetDialect`): each finished reply as one speech bubble,
  with the mood of its first expressive segment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from kagura.conversation.events import (
    CharacterChanged,
    Failure,
    ReplyComplete,
    Segment,
    Transcription,
    TurnEnded,
    TurnStarted,
)
from kagura.protocol import outgoing as out
from kagura.protocol import widget as w
from kagura.stage.events import Announced, Cut, Interrupted, StageEvent, asks, display_line

CHAIN_START = out.control("conversation-chain-start")
CHAIN_END = out.control("conversation-chain-end")
SYNTH_COMPLETE = out.simple("backend-synth-complete")
FORCE_NEW_MESSAGE = out.simple("force-new-message")


@dataclass(frozen=True, slots=True)
class Encoded:
    """One event's frames. Most events read the same for every client (`frames`); a few
    name the client they are sent to (`for_client`), and some are not for the client that
    caused them (`skip`)."""

    frames: tuple[str, ...] = ()
    skip: str = ""
    for_client: Callable[[str], tuple[str, ...]] | None = None

    def to(self, client_uid: str) -> tuple[str, ...]:
        if client_uid == self.skip:
            return ()
        if self.for_client is not None:
            return self.for_client(client_uid)
        return self.frames


class Encoder:
    """Open-LLM-VTuber frames for events; `counts` says how many of each message type it
    has serialised (a benchmark or a test can see that audio is encoded once per segment).
    `questions`: mark the viewers' words a reply answers, for the pages to caption."""

    def __init__(self, *, questions: bool = False) -> None:
        self.counts: Counter[str] = Counter()
        self.questions = questions

    def encode(self, event: StageEvent) -> Encoded:
        if isinstance(event, CharacterChanged):
            return Encoded(for_client=lambda uid: (self._frame(model_and_conf(event, uid)),))
        skip = ""
        if isinstance(event, Announced):
            skip = event.chat.origin
        elif isinstance(event, Interrupted):
            skip = event.origin
        frames = messages(event, questions=self.questions)
        return Encoded(tuple(self._frame(message) for message in frames), skip)

    def _frame(self, message: out.Message) -> str:
        self.counts[message["type"]] += 1
        return out.frame(message)


def messages(event: StageEvent, *, questions: bool = False) -> list[out.Message]:
    """The messages of one event, in order (protocol §1.3), for every client alike."""
    match event:
        case TurnStarted(proactive=proactive):
            lead = [out.full_text(out.PROACTIVE_TEXT)] if proactive else []
            return [*lead, CHAIN_START, out.full_text(out.THINKING_TEXT)]
        case Transcription(text=text):
            return [out.transcription(text)]
        case Announced(chat=chat):
            line = display_line(chat)
            # Who the streamer can ban from the chat log; not a viewer whose name may not be
            # shown (their id may spell it): they are banned from the safety panel's entry.
            viewer = None if chat.name_withheld else chat.viewer
            uid = viewer.uid if viewer is not None else ""
            asked = questions and asks(chat)
            who = {"name": chat.user_name, "platform": chat.platform, "user_id": uid}
            return [out.transcription(line, **who, question=asked)]
        case Segment(continued=True):
            return [out.more_audio(event.speech)]
        case Segment():
            return [
                out.audio(
                    event.speech,
                    text=event.separator + event.text,
                    name=event.speaker,
                    avatar=event.avatar,
                    expressions=event.expressions,
                    motions=event.motions,
                )
            ]
        case Failure(message=message):
            return [out.error(message)]
        case ReplyComplete():
            return [SYNTH_COMPLETE]
        case TurnEnded(completed=completed):
            return [*([] if completed else [SYNTH_COMPLETE]), FORCE_NEW_MESSAGE, CHAIN_END]
        case Interrupted(heard=heard):
            return [out.interrupt_signal(heard)]
        case Cut():
            return [out.interrupt_signal("")]  # every page stops playing, nothing to report
    return []


def model_and_conf(event: CharacterChanged, client_uid: str) -> out.Message:
    """`set-model-and-conf` for the new character, naming the client it is sent to."""
    character = event.character
    return out.model_and_conf(
        event.model.wire(),
        conf_name=character.conf_name,
        conf_uid=character.conf_uid,
        client_uid=client_uid,
    )


class WidgetDialect:
    """The stage's replies in the widget channel's words: the whole reply goes out when its
    text is known (reply complete, not after the audio has played), after the mood of its
    first segment with an expression or a motion (models without expressions perform
    emotions as motions)."""

    def __init__(self, max_chars: int, duration_ms: int) -> None:
        self.max_chars = max_chars
        self.duration_ms = duration_ms
        self._mood: list[w.Broadcastable] | None = None

    def encode(self, event: StageEvent) -> list[w.Broadcastable]:
        match event:
            case TurnStarted():
                self._mood = None
            case Segment() if self._mood is None and (event.expressions or event.motions):
                self._mood = _mood(event)
            case ReplyComplete(text=text):
                mood, self._mood = self._mood or [], None
                text = text[: self.max_chars]
                if text:
                    return [*mood, w.LLMResponse(content=text, duration=self.duration_ms)]
        return []


def _mood(segment: Segment) -> list[w.Broadcastable]:
    actions: list[w.Broadcastable] = []
    if segment.expressions:
        first = segment.expressions[0]
        if isinstance(first, int):
            actions.append(w.Expression(index=first))
        else:
            actions.append(w.Expression(name=first))
    if segment.motions:
        motion = segment.motions[0]
        actions.append(w.Motion(group=str(motion["group"]), index=motion.get("index")))
    return actions
