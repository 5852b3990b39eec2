"""Sound in and out of the terminal: WAV files and the microphone as 16 kHz PCM frames,
replies played on the sound device or written as WAV files.

The sound device is PortAudio through `sounddevice`, loaded only when it is used: a machine
without PortAudio or without a device still chats from WAV files or typed lines, and says
what is missing. Every buffer is bounded: the microphone queue keeps the newest frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import wave
from pathlib import Path
from typing import Any

import numpy as np

from kagura.audio import Speech, decode_wav, encode_wav, float_to_int16
from kagura.voice.echo import to_16k

log = logging.getLogger(__name__)

RATE = 16000
FRAME_MS = 20  # what a browser's audio worklet sends at a time
FRAME_SAMPLES = RATE * FRAME_MS // 1000
MAX_WAV_SECONDS = 120.0  # longest utterance file sent (the server keeps 60 s at most)
MIC_QUEUE_FRAMES = 250  # 5 s of microphone audio waiting to be sent, then the oldest goes


class SoundError(Exception):
    """A file or device the chat cannot use; the text names it and what to do."""


def device_module() -> Any:
    """`sounddevice`, or `SoundError` saying why there is no sound device."""
    try:
        import sounddevice
    except OSError as exc:  # the module loads PortAudio at import time
        raise SoundError(f"no sound device: {exc} (on Debian: apt install libportaudio2)") from None
    except ImportError:
        raise SoundError("no sound device: the sounddevice package is not installed") from None
    return sounddevice


def utterance_frames(path: Path) -> list[bytes]:
    """A WAV file (16-bit, any rate, first channel) as 20 ms frames of 16 kHz PCM."""
    try:
        speech = decode_wav(path.read_bytes())
    except (OSError, EOFError, ValueError, wave.Error) as exc:
        raise SoundError(f"{path}: cannot read it as a 16-bit PCM WAV file ({exc})") from None
    if speech.duration_s > MAX_WAV_SECONDS:
        raise SoundError(f"{path}: {speech.duration_s:.0f} s long; at most {MAX_WAV_SECONDS:g} s")
    if not len(speech.samples):
        raise SoundError(f"{path}: no audio in it")
    pcm = float_to_int16(to_16k(speech)).astype("<i2").tobytes()
    step = 2 * FRAME_SAMPLES
    return [pcm[start : start + step] for start in range(0, len(pcm), step)]


SILENT_FRAME = bytes(2 * FRAME_SAMPLES)


def join_reply(parts: list[Speech]) -> Speech:
    """A reply's segments as one clip: at their own rate, or 16 kHz if the rates differ."""
    rates = {part.sample_rate for part in parts}
    if len(rates) == 1:
        return Speech(np.concatenate([part.samples for part in parts]), rates.pop())
    joined = np.concatenate([to_16k(part) for part in parts])
    return Speech(float_to_int16(joined), RATE)


class ReplyFiles:
    """One WAV file per reply in `folder`: reply-01.wav, reply-02.wav, … never
    overwriting a file that is already there."""

    def __init__(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SoundError(f"--out {folder}: cannot create the folder ({exc})") from None
        self.folder = folder
        self._next = 1

    def write(self, speech: Speech) -> Path:
        while (path := self.folder / f"reply-{self._next:02d}.wav").exists():
            self._next += 1
        path.write_bytes(encode_wav(speech))
        self._next += 1
        return path


class Player:
    """Plays one clip at a time on the default output device; `stop()` cuts it short
    (the streamer interrupted the reply)."""

    def __init__(self) -> None:
        self._sd = device_module()
        try:
            self._sd.query_devices(kind="output")
        except Exception as exc:  # PortAudio reports a missing device as its own error
            raise SoundError(f"no sound output device: {exc}") from None

    async def play(self, speech: Speech) -> None:
        samples = speech.samples.astype(np.int16)
        await asyncio.to_thread(self._play, samples, speech.sample_rate)

    def _play(self, samples: Any, rate: int) -> None:
        self._sd.play(samples, rate)
        self._sd.wait()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._sd.stop()


class Microphone:
    """The default input device as 20 ms frames of 16 kHz 16-bit mono PCM."""

    def __init__(self) -> None:
        self._sd = device_module()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(MIC_QUEUE_FRAMES)
        self._stream: Any = None
        self.dropped = 0

    def start(self) -> None:
        loop = asyncio.get_running_loop()

        def heard(data: Any, frames: int, time: Any, status: Any) -> None:
            loop.call_soon_threadsafe(self._put, bytes(data))

        try:
            self._stream = self._sd.RawInputStream(
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=FRAME_SAMPLES,
                callback=heard,
            )
            self._stream.start()
        except Exception as exc:  # PortAudio's errors: no device, busy, rate refused
            raise SoundError(f"cannot open the microphone: {exc}") from None

    def _put(self, frame: bytes) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # the oldest goes: the stage hears the present
            self.dropped += 1
        self._queue.put_nowait(frame)

    async def frame(self) -> bytes:
        return await self._queue.get()

    def close(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.stop()
                self._stream.close()
            self._stream = None
