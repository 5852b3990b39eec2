"""Bilibili's danmaku packet framing: 16-byte big-endian headers, compressed batches.

Every packet is `>IHHII` (packet length, header length 16, protocol version, operation,
sequence) followed by its body. One WebSocket frame may hold several packets back to
back; a command packet of version 2 (zlib) or 3 (brotli) holds a compressed batch of
further packets. The web and open-platform variants share all of this.

Nothing here trusts the server: a header that does not add up ends that frame with a
problem report, and a compressed batch may not expand beyond `MAX_BATCH_BYTES` (a tiny
brotli body can expand to gigabytes). Decompression goes step by step, the first step on
the event loop and the rest, if any, in a worker thread, so a large batch never stalls
the loop and a bomb is refused after a few megabytes of work.
"""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import brotli

HEADER = struct.Struct(">IHHII")
HEADER_SIZE = HEADER.size  # 16
MAX_BATCH_BYTES = 8 * 2**20  # real batches are a few kilobytes
INLINE_STEP_BYTES = 64 * 2**10  # decompressed on the event loop before moving to a thread
OFFLOOP_INPUT_BYTES = 16 * 2**10  # compressed bodies this large go to a thread at once
HEARTBEAT_BODY = b"[object Object]"  # what the web page sends; the server ignores it


class Op(IntEnum):
    HEARTBEAT = 2
    HEARTBEAT_REPLY = 3
    COMMAND = 5
    AUTH = 7
    AUTH_REPLY = 8


class Ver(IntEnum):
    JSON = 0
    INT = 1  # heartbeats and auth
    ZLIB = 2
    BROTLI = 3


@dataclass(frozen=True, slots=True)
class Packet:
    op: int
    ver: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FrameError(ValueError):
    """Bytes that are not what the protocol promises; the text says what and where."""


def encode(op: int, body: bytes | str | dict[str, Any], ver: int = Ver.INT) -> bytes:
    """One packet (sequence 1, as the web page sends)."""
    if isinstance(body, dict):
        body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode()
    return HEADER.pack(HEADER_SIZE + len(body), HEADER_SIZE, ver, op, 1) + body


def split(frame: bytes) -> tuple[list[Packet], FrameError | None]:
    """The packets of one frame, and the problem that cut it short (None when clean).

    A heartbeat reply's body is the 4-byte popularity, but the server may echo the
    client's heartbeat body after it while leaving it out of the packet length: the reply
    is read as exactly 4 bytes and whatever follows it in the frame is that echo.
    """
    packets: list[Packet] = []
    offset = 0
    while offset < len(frame):
        left = len(frame) - offset
        if left < HEADER_SIZE:
            return packets, FrameError(f"{left} stray bytes at offset {offset}")
        length, header_size, ver, op, _ = HEADER.unpack_from(frame, offset)
        if header_size != HEADER_SIZE or length < HEADER_SIZE:
            return packets, FrameError(
                f"bad header at offset {offset} (length {length}, header {header_size})"
            )
        if op == Op.HEARTBEAT_REPLY:
            body = frame[offset + HEADER_SIZE : offset + HEADER_SIZE + 4]
            if len(body) < 4:
                return packets, FrameError(f"heartbeat reply cut short at offset {offset}")
            packets.append(Packet(op, ver, body))
            break  # the rest is the echoed heartbeat body
        if length > left:
            return packets, FrameError(
                f"packet at offset {offset} claims {length} bytes, the frame has {left}"
            )
        packets.append(Packet(op, ver, frame[offset + HEADER_SIZE : offset + length]))
        offset += length
    return packets, None


async def unpack(frame: bytes) -> tuple[list[Packet], list[FrameError]]:
    """Every packet of a frame with compressed batches opened (one level deep: a batch
    inside a batch is refused), and the problems met on the way."""
    packets: list[Packet] = []
    problems: list[FrameError] = []
    outer, problem = split(frame)
    if problem is not None:
        problems.append(problem)
    for packet in outer:
        if packet.op != Op.COMMAND or packet.ver not in (Ver.ZLIB, Ver.BROTLI):
            packets.append(packet)
            continue
        try:
            batch = await inflate(packet.ver, packet.body)
        except FrameError as exc:
            problems.append(exc)
            continue
        inner, problem = split(batch)
        if problem is not None:
            problems.append(problem)
        for item in inner:
            if item.ver in (Ver.ZLIB, Ver.BROTLI):
                problems.append(FrameError("a compressed batch inside a compressed batch"))
            else:
                packets.append(item)
    return packets, problems


async def inflate(ver: int, body: bytes, limit: int = MAX_BATCH_BYTES) -> bytes:
    """Decompress a zlib (2) or brotli (3) batch of at most `limit` bytes."""
    inflater = _Inflater(ver, body, limit)
    if len(body) < OFFLOOP_INPUT_BYTES:
        inflater.step()  # small bodies: one step costs less than a hop to a thread
    if not inflater.finished:
        await asyncio.to_thread(inflater.run)
    return b"".join(inflater.chunks)


class _Inflater:
    """Incremental decompression that counts its output as it goes."""

    def __init__(self, ver: int, body: bytes, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        self.finished = False
        self._pending = body
        self._zlib = zlib.decompressobj() if ver == Ver.ZLIB else None
        self._brotli = brotli.Decompressor() if ver != Ver.ZLIB else None

    def run(self) -> None:
        while not self.finished:
            self.step()

    def step(self) -> None:
        if self._zlib is not None:
            out = self._zlib_step(self._zlib)
        else:
            assert self._brotli is not None
            out = self._brotli_step(self._brotli)
        self.size += len(out)
        if self.size > self.limit:
            raise FrameError(f"compressed batch expands beyond {self.limit} bytes; refused")
        self.chunks.append(out)

    def _zlib_step(self, inflater: Any) -> bytes:
        try:
            out: bytes = inflater.decompress(self._pending, INLINE_STEP_BYTES)
        except zlib.error as exc:
            raise FrameError(f"bad zlib batch: {exc}") from None
        self._pending = inflater.unconsumed_tail
        self.finished = inflater.eof
        if not self.finished and not self._pending and not out:
            raise FrameError("zlib batch cut short")
        return out

    def _brotli_step(self, inflater: brotli.Decompressor) -> bytes:
        try:
            out: bytes = inflater.process(self._pending, output_buffer_limit=INLINE_STEP_BYTES)
        except brotli.error as exc:
            raise FrameError(f"bad brotli batch: {exc}") from None
        fed, self._pending = bool(self._pending), b""
        self.finished = inflater.is_finished()
        if not self.finished and not out and not fed:
            raise FrameError("brotli batch cut short")  # no input left, no output coming
        return out
