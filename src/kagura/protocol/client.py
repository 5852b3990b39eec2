"""What `/client-ws` and `/proxy-ws` clients send (protocol §1.1, §2), validated once.

Unknown extra fields are ignored, because the original frontend sends some we do not use.
The list of message types is the union below, once: everything else derives from it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .frames import Dialect, ProtocolError

__all__ = ["KNOWN_TYPES", "ClientMessage", "ProtocolError", "parse"]

MAX_TEXT_CHARS = 4000
MAX_HEARD_CHARS = 32000
MAX_IMAGES = 4
# 16 kHz audio: the original frontend sends 4096-sample chunks; allow a few seconds per frame.
MAX_AUDIO_SAMPLES = 16000 * 10


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Image(_Message):
    source: str = "upload"
    data: str = Field(max_length=8_000_000, pattern=r"^data:image/[\w.+-]+;base64,")
    mime_type: str = ""


def image_urls(images: list[Image] | None) -> tuple[str, ...]:
    return tuple(image.data for image in images or ())


ChatKind = Literal[
    "danmaku", "superchat", "gift", "guard", "membership", "raid", "follow", "like", "enter"
]
# Platform ids arrive as numbers or strings; both are kept as text.
_Id = Annotated[str, Field(max_length=128)] | int


class ChatUser(_Message):
    name: str = Field(default="", max_length=64)
    id: _Id | None = None


class ChatSource(_Message):
    """Stage extension of `text-input`: who said it, where, and what kind of event it is."""

    platform: str = Field(default="", max_length=32)
    kind: ChatKind = "danmaku"
    user: ChatUser | None = None
    amount: float | None = Field(default=None, ge=0, le=10_000_000)
    currency: str | None = Field(default=None, max_length=16)
    id: _Id | None = None
    ts: float | None = None
    room: _Id | None = None  # the live room it came from, when a client listens to several
    free: bool = False  # a free (e.g. Bilibili silver) gift: thanked, never answered as paid


class TextInput(_Message):
    type: Literal["text-input"]
    text: str = Field(max_length=MAX_TEXT_CHARS)
    images: list[Image] | None = Field(default=None, max_length=MAX_IMAGES)
    source: ChatSource | None = None


class MicAudioData(_Message):
    type: Literal["mic-audio-data"]
    audio: list[float] = Field(max_length=MAX_AUDIO_SAMPLES)


class RawAudioData(_Message):
    type: Literal["raw-audio-data"]
    audio: list[float] = Field(max_length=MAX_AUDIO_SAMPLES)


class MicAudioEnd(_Message):
    type: Literal["mic-audio-end"]
    images: list[Image] | None = Field(default=None, max_length=MAX_IMAGES)


class AISpeakSignal(_Message):
    type: Literal["ai-speak-signal"]
    idle_time: float | None = None
    images: list[Image] | None = None


class InterruptSignal(_Message):
    type: Literal["interrupt-signal"]
    # Never rejected for its length: an interrupt must always interrupt. A heard text longer
    # than any reply is cut instead.
    text: str = ""

    @field_validator("text")
    @classmethod
    def _clip_heard(cls, text: str) -> str:
        return text[:MAX_HEARD_CHARS]


class SwitchConfig(_Message):
    type: Literal["switch-config"]
    file: str = Field(max_length=255)


class FetchAndSetHistory(_Message):
    type: Literal["fetch-and-set-history"]
    history_uid: str = Field(max_length=128)


class DeleteHistory(_Message):
    type: Literal["delete-history"]
    history_uid: str = Field(max_length=128)


class AddClientToGroup(_Message):
    type: Literal["add-client-to-group"]
    invitee_uid: str = Field(max_length=128)


class RemoveClientFromGroup(_Message):
    type: Literal["remove-client-from-group"]
    target_uid: str = Field(max_length=128)


MAX_WITHDRAW_IDS = 100


class ChatWithdraw(_Message):
    """Stage extension: a platform took these events back (a deleted super chat or message);
    the ones still waiting are never answered."""

    type: Literal["chat-withdraw"]
    platform: str = Field(max_length=32)
    ids: list[_Id] = Field(min_length=1, max_length=MAX_WITHDRAW_IDS)


class Simple(_Message):
    """Messages that carry nothing but their type."""

    type: Literal[
        "frontend-playback-complete",
        "audio-play-start",
        "fetch-configs",
        "fetch-backgrounds",
        "fetch-history-list",
        "create-new-history",
        "request-group-info",
        "request-init-config",
        "heartbeat",
    ]


ClientMessage = Annotated[
    TextInput
    | MicAudioData
    | RawAudioData
    | MicAudioEnd
    | AISpeakSignal
    | InterruptSignal
    | SwitchConfig
    | FetchAndSetHistory
    | DeleteHistory
    | AddClientToGroup
    | RemoveClientFromGroup
    | ChatWithdraw
    | Simple,
    Field(discriminator="type"),
]
DIALECT: Dialect[ClientMessage] = Dialect(ClientMessage)
KNOWN_TYPES = DIALECT.types


def parse(frame: str | bytes) -> ClientMessage:
    """Decode and validate one frame of `/client-ws` or `/proxy-ws`."""
    return DIALECT.parse(frame)
