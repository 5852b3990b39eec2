"""Incoming WebSocket messages, validated once at the edge.

Anything that is not JSON, has no `type`, has an unknown `type` or bad fields becomes a
`ProtocolError` whose text names the problem; the connection stays open. Unknown extra
fields are ignored, because the original frontend sends some we do not use.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

MAX_TEXT_CHARS = 4000
MAX_HEARD_CHARS = 32000
MAX_IMAGES = 4
# 16 kHz audio: the original frontend sends 4096-sample chunks; allow a few seconds per frame.
MAX_AUDIO_SAMPLES = 16000 * 10


class ProtocolError(Exception):
    """A bad frame; the message is sent back to the client as an `error`."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Image(_Message):
    source: str = "upload"
    data: str = Field(max_length=8_000_000, pattern=r"^data:image/[\w.+-]+;base64,")
    mime_type: str = ""


def image_urls(images: list[Image] | None) -> tuple[str, ...]:
    return tuple(image.data for image in images or ())


ChatKind = Literal["danmaku", "superchat", "gift", "guard", "membership", "follow", "like", "enter"]
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
    | Simple,
    Field(discriminator="type"),
]
_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
KNOWN_TYPES = sorted(
    {
        literal
        for model in (
            TextInput,
            MicAudioData,
            RawAudioData,
            MicAudioEnd,
            AISpeakSignal,
            InterruptSignal,
            SwitchConfig,
            FetchAndSetHistory,
            DeleteHistory,
            AddClientToGroup,
            RemoveClientFromGroup,
            Simple,
        )
        for literal in model.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
    }
)


def parse(frame: str) -> ClientMessage:
    """Decode and validate one text frame."""
    try:
        data = json.loads(frame)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(data, dict):
        raise ProtocolError("a message must be a JSON object with a 'type'")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("the message has no 'type' (a string)")
    if kind not in KNOWN_TYPES:
        raise ProtocolError(f"unknown message type {_clip(kind)!r}")
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"bad {kind!r} message: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error["loc"][1:]) or "message"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
