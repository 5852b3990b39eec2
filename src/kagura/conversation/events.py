"""What a conversation tells the world: typed events, the only thing a turn publishes.

A turn knows nothing of wire formats. It publishes these events in order, and whoever listens
decides what to do with them: the server encodes each one once per dialect at the edge
(`kagura.server.encoder`) and sends it to the clients whose role hears it; the widget channel
takes the finished reply; a voice input follows the reply being spoken, to know its echo.

Every turn publishes `TurnStarted`, then any of `Transcription`, `Failure` and `Segment`,
then `ReplyComplete` when the whole reply has been sent (not when interrupted), and always
`TurnEnded` last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kagura.audio import Speech
from kagura.config import CharacterConfig
from kagura.live2d import ModelInfo


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """A turn begins: the character is thinking. `proactive`: it speaks unasked (idle talk,
    a page's `ai-speak-signal`)."""

    proactive: bool = False


@dataclass(frozen=True, slots=True)
class Transcription:
    """What the speaker was heard to say (spoken input, transcribed at the turn's start)."""

    text: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment of the reply, in order: what to play, show and perform.

    `text` is as the LLM wrote it (`[emotion]` tags included, for clients that want them);
    `shown` is the same without tags; `separator` goes before it when it is appended to the
    segments before it (a space between English sentences, none in Chinese). A voice that
    streams sends a segment's audio in parts: `part` 0 carries the segment, later parts
    (`continued`) only more of its audio, with nothing new to show or perform."""

    index: int
    text: str
    shown: str
    separator: str
    speech: Speech | None  # None: performed and shown, not spoken
    expressions: tuple[int | str, ...]
    motions: tuple[dict[str, Any], ...]
    speaker: str  # the character's name
    avatar: str
    part: int = 0

    @property
    def continued(self) -> bool:
        return self.part > 0


@dataclass(frozen=True, slots=True)
class Withheld:
    """The output guard kept a segment of the reply from being said (`rule`: why); it is
    never synthesised, shown or remembered as said. For the streamer's audit, not the show."""

    text: str
    rule: str


@dataclass(frozen=True, slots=True)
class Failure:
    """A stage of the turn failed (ASR, LLM, TTS); the turn still goes on to its end."""

    message: str


@dataclass(frozen=True, slots=True)
class ReplyComplete:
    """Every segment has been published; `text` is the whole reply as shown (without tags,
    its segments joined with their separators)."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The turn is over and recorded. `completed`: `ReplyComplete` was published (False when
    the turn was interrupted or timed out before its reply was complete)."""

    interrupted: bool
    completed: bool


@dataclass(frozen=True, slots=True)
class CharacterChanged:
    """The conversation has a new character: every client shows its model."""

    character: CharacterConfig
    model: ModelInfo


TurnEvent = TurnStarted | Transcription | Segment | Withheld | Failure | ReplyComplete | TurnEnded
ConversationEvent = TurnEvent | CharacterChanged
Publish = Callable[[ConversationEvent], None]
