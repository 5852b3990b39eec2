"""The widget channel's messages (protocol §3), parsed once, with errors a sender can act on.

Every broadcast message may carry an `id` (the hub assigns one when the sender did not);
widget pages answer `{"type": "ack", "id": ...}`, and the sender gets a `receipt` at once and
a `delivery` report when every widget acknowledged or the ack timeout passed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

MAX_ID_CHARS = 64
MAX_DURATION_MS = 600_000

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]


class _Message(BaseModel):
    # Extra fields are kept, not refused: a newer sender may add some an older hub ignores.
    model_config = ConfigDict(extra="allow")
    id: Id | None = None


class LLMResponse(_Message):
    type: Literal["llm_response"]
    content: str
    duration: Annotated[int, Field(gt=0, le=MAX_DURATION_MS)] = 8000


class Status(_Message):
    type: Literal["status"]
    content: str


class Expression(_Message):
    """An emotion name from the model's emotionMap (`name`) or an expression `index`."""

    type: Literal["expression"]
    name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    index: Annotated[int, Field(ge=0, le=1000)] | None = None


class Motion(_Message):
    type: Literal["motion"]
    group: Annotated[str, Field(max_length=64)]
    index: Annotated[int, Field(ge=0, le=1000)] | None = None


class Ack(BaseModel):
    type: Literal["ack"]
    id: Id


class Heartbeat(BaseModel):
    type: Literal["heartbeat"]


Broadcastable = LLMResponse | Status | Expression | Motion
WidgetMessage = Annotated[
    LLMResponse | Status | Expression | Motion | Ack | Heartbeat, Field(discriminator="type")
]
BROADCAST_TYPES = ("llm_response", "status", "expression", "motion")
_ADAPTER: TypeAdapter[WidgetMessage] = TypeAdapter(WidgetMessage)


class ProtocolError(ValueError):
    """A frame the hub cannot use; the text goes back to the sender as an `error`."""


def parse(frame: str | bytes) -> LLMResponse | Status | Expression | Motion | Ack | Heartbeat:
    if isinstance(frame, bytes):
        raise ProtocolError("binary frames are not supported; send JSON text")
    try:
        data = json.loads(frame)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(data, dict):
        raise ProtocolError("a message must be a JSON object")
    kind = data.get("type")
    if kind not in (*BROADCAST_TYPES, "ack", "heartbeat"):
        raise ProtocolError(
            f"unknown message type {kind!r}; expected one of "
            + ", ".join([*BROADCAST_TYPES, "ack", "heartbeat"])
        )
    try:
        message = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or kind
        raise ProtocolError(f"{kind}: {where}: {first['msg']}") from None
    if isinstance(message, Expression) and message.name is None and message.index is None:
        raise ProtocolError("expression: give a name or an index")
    return message


def wire(message: Broadcastable) -> dict[str, Any]:
    """The message as broadcast: unset optional fields left out."""
    return message.model_dump(mode="json", exclude_none=True)


def error(text: str, message_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "message": text}
    if message_id is not None:
        frame["id"] = message_id
    return frame
