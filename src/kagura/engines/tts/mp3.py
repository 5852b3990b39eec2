"""MP3 arriving in chunks, decoded as it comes: for services that only send MP3 (Edge).

PyAV's parser and decoder (FFmpeg's, already here for faster-whisper) keep their state
across chunks: the parser holds a frame split between two network messages until its end
arrives, and the decoder keeps the bit reservoir and the overlap between frames. So every
frame is decoded exactly once, as it would be from the whole file, and pieces join without
the clicks that decoding each chunk on its own would make at every boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import av
import numpy as np

from kagura.audio import Speech
from kagura.engines.errors import EngineError

from .pcm import PcmReader

# 48 kbit/s (Edge's format) for two minutes is 720 kB; a stream past this is not a segment.
MAX_MP3_BYTES = 4 * 1024 * 1024


class Mp3StreamReader:
    """Feed MP3 bytes in any chunks; get mono 16-bit pieces (the first channel)."""

    def __init__(self, *, source: str = "TTS server") -> None:
        self._source = source
        codec = av.CodecContext.create("mp3", "r")
        assert isinstance(codec, av.AudioCodecContext)  # what an audio codec's name gives
        self._codec = codec
        self._pcm: PcmReader | None = None
        self._received = 0

    def feed(self, data: bytes) -> Speech | None:
        self._received += len(data)
        if self._received > MAX_MP3_BYTES:
            raise EngineError(
                f"{self._source} sent more than {MAX_MP3_BYTES // 1024} kB of MP3 for one "
                "segment; is it reading the text or looping?"
            )
        samples = self._decode(self._packets(data))
        if not samples or self._pcm is None:
            return None
        return self._pcm.feed(samples)

    def flush(self) -> Speech | None:
        """The frames still held by the parser and the decoder, and what the reader held."""
        samples = self._decode([*self._packets(None), None])
        if self._pcm is None:
            if self._received:
                raise EngineError(
                    f"{self._source} sent {self._received} bytes with no MP3 audio in them"
                )
            raise EngineError(f"{self._source} sent no audio")
        last = self._pcm.feed(samples) if samples else None
        tail = self._pcm.flush()
        if last is None or tail is None:
            return last or tail
        return Speech(np.concatenate([last.samples, tail.samples]), last.sample_rate)

    def _packets(self, data: bytes | None) -> list[Any]:
        try:
            return self._codec.parse(data)
        except av.FFmpegError as exc:
            raise self._broken(exc) from None

    def _decode(self, packets: Iterable[Any]) -> bytes:
        """16-bit little-endian mono PCM of the frames in `packets` (None drains)."""
        out = bytearray()
        try:
            for packet in packets:
                for frame in self._codec.decode(packet):
                    out += self._pcm_of(frame)
        except av.FFmpegError as exc:
            raise self._broken(exc) from None
        return bytes(out)

    def _pcm_of(self, frame: av.AudioFrame) -> bytes:
        if self._pcm is None:
            self._pcm = PcmReader(frame.sample_rate, source=self._source)
        elif frame.sample_rate != self._pcm.sample_rate:
            raise EngineError(
                f"{self._source} changed sample rate mid-segment "
                f"({self._pcm.sample_rate} → {frame.sample_rate} Hz)"
            )
        channels = frame.layout.nb_channels
        array = frame.to_ndarray()
        mono = array[0] if frame.format.is_planar else array.reshape(-1)[::channels]
        if mono.dtype.kind == "f":
            mono = np.clip(mono * 32768.0, -32768, 32767)
        return mono.astype("<i2").tobytes()

    def _broken(self, exc: Exception) -> EngineError:
        return EngineError(f"{self._source} sent MP3 that does not decode: {exc}")
