"""Speech as TTS servers send it over the network, turned into `Speech` pieces as it arrives.

Servers answer with a whole WAV, a WAV streamed header-first (sizes left 0 or 0xFFFFFFFF
because the length is not known yet), or raw 16-bit PCM at a rate their API documents.
Network chunks split samples anywhere; these readers keep the odd byte for the next chunk and
hold back slivers too short to be worth a message, so a streaming engine's pieces are whole
samples, in order, gapless. Every reader bounds what one segment may hold: a server that never
stops sending is an error, not a memory leak.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import numpy as np

from kagura.audio import Speech
from kagura.engines.errors import EngineError

# Audio of one segment beyond this is a server gone wrong (a segment is a sentence or two).
MAX_SEGMENT_AUDIO_S = 120.0
# A streamed piece shorter than this waits for more: a message per 10 ms of sound costs more
# to send and play than it gains.
MIN_PIECE_S = 0.1
# A WAV header longer than this is not a header (a streamed WAV's data chunk starts early).
MAX_WAV_HEADER_BYTES = 4096
_PCM_16 = 1
_PLACEHOLDER_SIZES = (0, 0xFFFFFFFF, 0x7FFFFFFF)
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


class PcmReader:
    """Raw 16-bit little-endian PCM of `channels` channels at `sample_rate`, in any chunks;
    yields mono pieces (the first channel)."""

    def __init__(self, sample_rate: int, *, channels: int = 1, source: str = "TTS server") -> None:
        if sample_rate <= 0 or channels <= 0:
            raise EngineError(f"{source} sent audio at {sample_rate} Hz, {channels} channels")
        self.sample_rate = sample_rate
        self._frame_bytes = 2 * channels
        self._channels = channels
        self._source = source
        self._pending = bytearray()
        self._min_bytes = int(MIN_PIECE_S * sample_rate) * self._frame_bytes
        self._max_bytes = int(MAX_SEGMENT_AUDIO_S * sample_rate) * self._frame_bytes
        self._total = 0

    def feed(self, data: bytes) -> Speech | None:
        """Take the next chunk; a piece once at least `MIN_PIECE_S` of whole frames is held."""
        self._total += len(data)
        if self._total > self._max_bytes:
            raise EngineError(
                f"{self._source} sent more than {MAX_SEGMENT_AUDIO_S:g} s of audio for one "
                "segment; is it reading the text or looping?"
            )
        self._pending += data
        if len(self._pending) < self._min_bytes:
            return None
        return self._take(len(self._pending) // self._frame_bytes * self._frame_bytes)

    def flush(self) -> Speech | None:
        """What is left at the end of the stream (a trailing odd byte is dropped)."""
        return self._take(len(self._pending) // self._frame_bytes * self._frame_bytes)

    def _take(self, size: int) -> Speech | None:
        if size <= 0:
            return None
        chunk = bytes(self._pending[:size])
        del self._pending[:size]
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.int16)
        if self._channels > 1:
            samples = samples[:: self._channels].copy()
        return Speech(samples, self.sample_rate)


class WavStreamReader:
    """A 16-bit PCM WAV arriving in chunks: the header is read once it is complete, then the
    data flows through a `PcmReader`. Streaming servers write placeholder sizes (0 or
    0xFFFFFFFF): then the data runs to the end of the stream; a real size is honoured, so a
    chunk after the samples (`LIST` metadata) is never played as sound."""

    def __init__(self, *, source: str = "TTS server") -> None:
        self._source = source
        self._header = bytearray()
        self._pcm: PcmReader | None = None
        self._left: int | None = None  # data bytes still to come, when the header says

    @property
    def sample_rate(self) -> int | None:
        return self._pcm.sample_rate if self._pcm is not None else None

    def feed(self, data: bytes) -> Speech | None:
        if self._pcm is not None:
            return self._samples(data)
        self._header += data
        parsed = self._parse_header()
        if parsed is None:
            if len(self._header) > MAX_WAV_HEADER_BYTES:
                raise EngineError(f"{self._source} sent a WAV without a data chunk")
            return None
        rate, channels, data_start = parsed
        self._pcm = PcmReader(rate, channels=channels, source=self._source)
        (size,) = struct.unpack_from("<I", self._header, data_start - 4)
        self._left = None if size in _PLACEHOLDER_SIZES else size
        rest = bytes(self._header[data_start:])
        self._header.clear()
        return self._samples(rest) if rest else None

    def _samples(self, data: bytes) -> Speech | None:
        assert self._pcm is not None
        if self._left is not None:
            data, self._left = data[: self._left], max(0, self._left - len(data))
        return self._pcm.feed(data) if data else None

    def flush(self) -> Speech | None:
        if self._pcm is None:
            if self._header:
                raise EngineError(
                    f"{self._source} sent a bad WAV: it ends inside its header "
                    f"({len(self._header)} bytes)"
                )
            raise EngineError(f"{self._source} sent no audio")
        return self._pcm.flush()

    def _parse_header(self) -> tuple[int, int, int] | None:
        """(rate, channels, where the samples start), or None while the header is incomplete."""
        header = bytes(self._header)
        if len(header) < 12:
            return None
        if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            raise EngineError(f"{self._source} sent something that is not a WAV: {header[:12]!r}")
        offset = 12
        rate = channels = 0
        while offset + 8 <= len(header):
            chunk_id = header[offset : offset + 4]
            (size,) = struct.unpack_from("<I", header, offset + 4)
            body = offset + 8
            if chunk_id == b"data":
                if not rate:
                    raise EngineError(f"{self._source} sent a WAV whose data comes before 'fmt '")
                return rate, channels, body
            if body + size > len(header):
                return None
            if chunk_id == b"fmt ":
                fmt, channels, rate = struct.unpack_from("<HHI", header, body)
                (bits,) = struct.unpack_from("<H", header, body + 14)
                if fmt not in (_PCM_16, _WAVE_FORMAT_EXTENSIBLE) or bits != 16:
                    raise EngineError(
                        f"{self._source} sent {bits}-bit WAV (format {fmt}); Kagura plays "
                        "16-bit PCM: ask the server for it"
                    )
            offset = body + size + (size & 1)
        return None


class WavOrPcm:
    """A WAV when the body starts with a RIFF header, else bare 16-bit PCM at `sample_rate`:
    servers that say audio/wav and send bare samples when streaming (Fish Speech), or that
    ignore the format asked for (some OpenAI-compatible ones)."""

    def __init__(self, sample_rate: int, *, source: str = "TTS server") -> None:
        self._sample_rate = sample_rate
        self._source = source
        self._start = b""  # until there are enough bytes to tell
        self._reader: WavStreamReader | PcmReader | None = None

    def feed(self, data: bytes) -> Speech | None:
        if self._reader is not None:
            return self._reader.feed(data)
        self._start += data
        if len(self._start) < 4:
            return None
        return self._choose().feed(self._start)

    def flush(self) -> Speech | None:
        if self._reader is None:
            if not self._start:
                raise EngineError(f"{self._source} sent no audio")
            self._choose().feed(self._start)
        assert self._reader is not None
        return self._reader.flush()

    def _choose(self) -> WavStreamReader | PcmReader:
        if self._start[:4] == b"RIFF":
            self._reader = WavStreamReader(source=self._source)
        else:
            self._reader = PcmReader(self._sample_rate, source=self._source)
        return self._reader


async def collect(pieces: AsyncIterator[Speech], *, source: str = "TTS server") -> Speech:
    """A streamed segment as one `Speech`, for callers that want it whole."""
    parts: list[Speech] = []
    async for piece in pieces:
        if parts and piece.sample_rate != parts[0].sample_rate:
            raise EngineError(
                f"{source} changed sample rate mid-segment "
                f"({parts[0].sample_rate} → {piece.sample_rate} Hz)"
            )
        parts.append(piece)
    if not parts:
        raise EngineError(f"{source} sent no audio")
    if len(parts) == 1:
        return parts[0]
    return Speech(np.concatenate([p.samples for p in parts]), parts[0].sample_rate)
