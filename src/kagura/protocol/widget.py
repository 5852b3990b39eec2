"""The widget channel's messages (protocol §3), parsed with the shared skeleton.

Every broadcast message may carry an `id` (the hub assigns one when the sender did not);
widget pages answer `{"type": "ack", "id": ...}`, and the sender gets a `receipt` at once and
a `delivery` report when every widget acknowledged or the ack timeout passed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .frames import Dialect, ProtocolError, error

__all__ = ["DIALECT", "Broadcastable", "ProtocolError", "WidgetMessage", "error", "parse"]

MAX_ID_CHARS = 64
MAX_DURATION_MS = 600_000

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]


class _Message(BaseModel):
    # Extra fields are kept, not refused: a newer sender may add some an older hub ignores.
    model_config = ConfigDict(extra="allow")
    id: Id | None = None


class LLMResponse(_Message):
    type: Literal["llm_response"] = "llm_response"
    content: str
    duration: Annotated[int, Field(gt=0, le=MAX_DURATION_MS)] = 8000


class Status(_Message):
    type: Literal["status"] = "status"
    content: str


class Expression(_Message):
    """An emotion name from the model's emotionMap (`name`) or an expression `index`."""

    type: Literal["expression"] = "expression"
    name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    index: Annotated[int, Field(ge=0, le=1000)] | None = None

    @model_validator(mode="after")
    def _names_one(self) -> Self:
        if self.name is None and self.index is None:
            raise ValueError("expression: give a name or an index")
        return self


class Motion(_Message):
    type: Literal["motion"] = "motion"
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
DIALECT: Dialect[WidgetMessage] = Dialect(WidgetMessage)
BROADCAST_DIALECT: Dialect[Broadcastable] = Dialect(
    Annotated[Broadcastable, Field(discriminator="type")]
)


def parse(frame: str | bytes) -> LLMResponse | Status | Expression | Motion | Ack | Heartbeat:
    return DIALECT.parse(frame)


def broadcastable(message: Broadcastable | dict[str, Any]) -> Broadcastable:
    """A message a program hands the server: a dict is checked like a frame from the wire,
    without a trip through JSON (`ProtocolError` when it is not a broadcast message)."""
    return message if isinstance(message, BaseModel) else BROADCAST_DIALECT.validate(message)


def wire(message: Broadcastable) -> dict[str, Any]:
    """The message as broadcast: unset optional fields left out."""
    return message.model_dump(mode="json", exclude_none=True)
