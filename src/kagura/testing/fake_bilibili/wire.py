"""The bytes a Bilibili danmaku server sends, written independently of Kagura's client.

The fake builds its packets here, from the protocol notes, rather than with the client's
own `packets` and `proto` modules: a mistake in the client's framing or field numbers
then shows up as a failing test instead of agreeing with itself. The protobuf writer is
the wire format's few rules (varints, length-delimited fields), enough for the fake.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import brotli

HEADER = struct.Struct(">IHHII")
OP_HEARTBEAT, OP_HEARTBEAT_REPLY, OP_COMMAND, OP_AUTH, OP_AUTH_REPLY = 2, 3, 5, 7, 8
VER_JSON, VER_INT, VER_ZLIB, VER_BROTLI = 0, 1, 2, 3


def packet(op: int, body: bytes, ver: int) -> bytes:
    return HEADER.pack(16 + len(body), 16, ver, op, 1) + body


def command(data: dict[str, Any]) -> bytes:
    """One uncompressed command packet (version 0)."""
    return packet(OP_COMMAND, json.dumps(data, ensure_ascii=False).encode(), VER_JSON)


def batch(packets: list[bytes], compression: str) -> bytes:
    """One command packet holding `packets`, compressed with "zlib" (2) or "brotli" (3)."""
    raw = b"".join(packets)
    if compression == "zlib":
        return packet(OP_COMMAND, zlib.compress(raw), VER_ZLIB)
    return packet(OP_COMMAND, brotli.compress(raw), VER_BROTLI)


def auth_reply(code: int) -> bytes:
    return packet(OP_AUTH_REPLY, json.dumps({"code": code}).encode(), VER_INT)


def heartbeat_reply(popularity: int, echo: bytes) -> bytes:
    """The reply as the real server sends it: the packet length covers the 4-byte
    popularity only, and the client's heartbeat body follows it anyway."""
    return (
        HEADER.pack(20, 16, VER_INT, OP_HEARTBEAT_REPLY, 1) + struct.pack(">I", popularity) + echo
    )


def parse(frame: bytes) -> list[tuple[int, int, bytes]]:
    """(op, ver, body) of each packet a client sent."""
    packets = []
    offset = 0
    while offset + 16 <= len(frame):
        length, _, ver, op, _ = HEADER.unpack_from(frame, offset)
        packets.append((op, ver, frame[offset + 16 : offset + length]))
        offset += max(length, 16)
    return packets


def bomb(size: int = 2**30) -> bytes:
    """A brotli command batch of a few kilobytes that expands to `size` zero bytes."""
    return packet(OP_COMMAND, brotli.compress(bytes(size), quality=5), VER_BROTLI)


# -- protobuf, written by hand ------------------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values are ten-byte varints
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pb_int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def pb_bytes(number: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return _varint((number << 3) | 2) + _varint(len(raw)) + raw


def b64(message: bytes) -> str:
    return base64.b64encode(message).decode()
