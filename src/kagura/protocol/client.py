"""What `/client-ws` and `/proxy-ws` clients send (protocol §1.1, §2), validated once.

Unknown extra fields are ignored, because the original frontend sends some we do not use.
The list of message types is the union below, once: everything else derives from it.

A binary frame is microphone audio, 16-bit little-endian mono PCM at 16 kHz (`PcmAudio`):
`raw-audio-data` in a fifth of the bytes, and allowed exactly where that message is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .frames import Dialect, ProtocolError

__all__ = ["KNOWN_TYPES", "ClientMessage", "Incoming", "PcmAudio", "ProtocolError", "parse"]

MAX_TEXT_CHARS = 4000
MAX_LABEL_CHARS = 200  # a gift's or a membership's name as the platform words it
MAX_HEARD_CHARS = 32000
MAX_IMAGES = 4
# 16 kHz audio: the original frontend sends 4096-sample chunks; allow a few seconds per frame.
MAX_AUDIO_SAMPLES = 16000 * 10
# A sample: a finite number (JSON from Python may carry NaN or Infinity; browsers never do).
Sample = Annotated[float, Field(allow_inf_nan=False)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Image(_Message):
    source: str = "upload"
    data: str = Field(max_length=8_000_000, pattern=r"^data:image/[\w.+-]+;base64,")
    mime_type: str = ""


# What a message may carry, bounded the same wherever it is carried.
Images = Annotated[list[Image] | None, Field(max_length=MAX_IMAGES)]
AudioSamples = Annotated[list[Sample], Field(max_length=MAX_AUDIO_SAMPLES)]


def image_urls(images: list[Image] | None) -> tuple[str, ...]:
    return tuple(image.data for image in images or ())


# `live_start` / `live_end`: the platform's stream went live or ended (the show's opening
# and closing on the stage); they carry no viewer.
ChatKind = Literal[
    "danmaku",
    "superchat",
    "gift",
    "guard",
    "membership",
    "raid",
    "follow",
    "like",
    "enter",
    "live_start",
    "live_end",
]
# A uid of ours (a history, a client) is at most this long; platform ids arrive as numbers
# or strings, both kept as text.
_Uid = Annotated[str, Field(max_length=128)]
_Id = _Uid | int


class ChatUser(_Message):
    name: str = Field(default="", max_length=64)
    id: _Id | None = None


class ChatSource(_Message):
    """Stage extension of `text-input`: who said it, where, and what kind of event it is.

    `label` is the platform's wording of what was bought or given ("Tier 1, 3 months", a
    gift's name); the `text` beside it is only what the viewer wrote, and may be empty. A
    gift, guard, membership or raid without `label` is read the older way: its `text` is
    the label and the viewer wrote nothing.
    """

    platform: str = Field(default="", max_length=32)
    kind: ChatKind = "danmaku"
    user: ChatUser | None = None
    # Any finite amount parses: what it may count for is the stage's caps' to say
    # (`stage.max_amount_per_event`), so an absurd claim is answered, clipped, not refused.
    amount: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str | None = Field(default=None, max_length=16)
    id: _Id | None = None
    ts: float | None = None
    room: _Id | None = None  # the live room it came from, when a client listens to several
    free: bool = False  # a free (e.g. Bilibili silver) gift: thanked, never answered as paid
    label: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)


class TextInput(_Message):
    type: Literal["text-input"]
    text: str = Field(max_length=MAX_TEXT_CHARS)
    images: Images = None
    source: ChatSource | None = None


class MicAudioData(_Message):
    type: Literal["mic-audio-data"]
    audio: AudioSamples


class RawAudioData(_Message):
    type: Literal["raw-audio-data"]
    audio: AudioSamples


class MicAudioEnd(_Message):
    type: Literal["mic-audio-end"]
    images: Images = None


class AISpeakSignal(_Message):
    type: Literal["ai-speak-signal"]
    idle_time: float | None = None
    images: Images = None


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
    history_uid: _Uid


class DeleteHistory(_Message):
    type: Literal["delete-history"]
    history_uid: _Uid


class AddClientToGroup(_Message):
    type: Literal["add-client-to-group"]
    invitee_uid: _Uid


class RemoveClientFromGroup(_Message):
    type: Literal["remove-client-from-group"]
    target_uid: _Uid


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


@dataclass(frozen=True)
class PcmAudio:
    """A binary frame of microphone audio, as -1..1 floats. Its `type` is the message it
    stands for, so the permission table and the handlers treat both forms alike."""

    samples: npt.NDArray[np.float32]
    type: ClassVar[str] = "raw-audio-data"


Incoming = ClientMessage | PcmAudio


def parse_pcm(frame: bytes) -> PcmAudio:
    """16-bit little-endian mono PCM at 16 kHz → floats; a frame that cannot be that is an
    error naming why."""
    if not frame:
        raise ProtocolError("an empty binary frame: send 16-bit PCM samples")
    if len(frame) % 2:
        raise ProtocolError(
            f"a binary frame is 16-bit PCM, an even number of bytes; got {len(frame)}"
        )
    if len(frame) > 2 * MAX_AUDIO_SAMPLES:
        raise ProtocolError(
            f"a binary frame holds at most {MAX_AUDIO_SAMPLES} samples "
            f"({MAX_AUDIO_SAMPLES // 16000} s); got {len(frame) // 2}"
        )
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
    return PcmAudio(samples)


def parse(frame: str | bytes) -> Incoming:
    """Decode and validate one frame of `/client-ws` or `/proxy-ws`."""
    if isinstance(frame, bytes):
        return parse_pcm(frame)
    return DIALECT.parse(frame)
