"""The protobuf payloads of Bilibili's `_V2` commands, read with the protobuf library.

`SEND_GIFT_V2` and `INTERACT_WORD_V2` carry their data as base64 protobuf in `data.pb`.
Bilibili publishes no `.proto`; the messages below list the fields we use, by the numbers
the site's own decoder uses. They are declared in code (no generated `_pb2` module, no
`protoc` at build time) as the equivalent of:

    syntax = "proto3";
    package kagura.bilibili;
    message GiftItem { int64 gift_id = 1; string gift_name = 2; int64 num = 3;
        int64 price = 5; int64 total_coin = 7; string coin_type = 8; string tid = 9;
        int64 timestamp = 10; string action = 18; }
    message SendGiftV2 { int64 uid = 1; string uname = 2; int64 guard_level = 5;
        repeated GiftItem gift_list = 10; }
    message InteractWordV2 { int64 uid = 1; string uname = 2; int64 msg_type = 5;
        int64 timestamp = 7; }

Every other field is skipped by the parser as unknown, so new fields never break us.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

PACKAGE = "kagura.bilibili"
FieldType = descriptor_pb2.FieldDescriptorProto
INT64, STRING, MESSAGE = FieldType.TYPE_INT64, FieldType.TYPE_STRING, FieldType.TYPE_MESSAGE
Field = tuple[str, int, int] | tuple[str, int, int, str]

MESSAGES: dict[str, list[Field]] = {
    "GiftItem": [
        ("gift_id", 1, INT64),
        ("gift_name", 2, STRING),
        ("num", 3, INT64),
        ("price", 5, INT64),
        ("total_coin", 7, INT64),
        ("coin_type", 8, STRING),
        ("tid", 9, STRING),
        ("timestamp", 10, INT64),
        ("action", 18, STRING),
    ],
    "SendGiftV2": [
        ("uid", 1, INT64),
        ("uname", 2, STRING),
        ("guard_level", 5, INT64),
        ("gift_list", 10, MESSAGE, "GiftItem"),
    ],
    "InteractWordV2": [
        ("uid", 1, INT64),
        ("uname", 2, STRING),
        ("msg_type", 5, INT64),
        ("timestamp", 7, INT64),
    ],
}


class PayloadError(ValueError):
    """A `data.pb` that is not valid base64 protobuf."""


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="kagura/bilibili_live.proto", package=PACKAGE, syntax="proto3"
    )
    for name, fields in MESSAGES.items():
        message = file.message_type.add(name=name)
        for field in fields:
            entry = message.field.add(name=field[0], number=field[1], type=field[2])
            if field[2] == MESSAGE:
                entry.label = FieldType.LABEL_REPEATED
                entry.type_name = f".{PACKAGE}.{field[3]}"  # type: ignore[misc]
            else:
                entry.label = FieldType.LABEL_OPTIONAL
    return file


_POOL = descriptor_pool.DescriptorPool()  # our own pool: no clash with anyone's names
_POOL.Add(_file())
_CLASSES: dict[str, type[Message]] = {
    name: message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))
    for name in MESSAGES
}


def decode(name: str, pb: Any) -> Any:
    """Parse the base64 protobuf `pb` as message `name` (fields read as attributes)."""
    if not isinstance(pb, str):
        raise PayloadError(f"data.pb should be a base64 string, got {type(pb).__name__}")
    try:
        raw = base64.b64decode(pb, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError(f"data.pb is not base64: {exc}") from None
    message = _CLASSES[name]()
    try:
        message.ParseFromString(raw)
    except DecodeError as exc:
        raise PayloadError(f"data.pb is not a valid {name}: {exc}") from None
    return message
