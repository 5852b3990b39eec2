"""Where the performer's voice goes: a sound device, or a WAV file played in real time.

The device is PortAudio through `sounddevice`, loaded only when used: its callback pulls
the player's frames as the device needs them, so the player's clock is the device's. The
file sink stands in for a device where there is none (tests, a recording): it takes the
player's audio at the pace of real time and writes it as it goes, so the mouth and the
acknowledgements keep the timing a device would give, and the file holds what was said,
without the silence between replies. Its header is kept right after every write, so the
file can be read while the performer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import wave
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np

from .player import Player

log = logging.getLogger(__name__)

FILE_TICK_S = 0.01  # the file sink takes audio this often
DEVICE_BLOCK_S = 0.02  # frames PortAudio asks for at a time


class SoundError(Exception):
    """A sound device or file the performer cannot use; the text names it and what to do."""


class Sink(Protocol):
    def start(self, player: Player) -> None: ...

    async def run(self) -> None:
        """Play until cancelled; returns (or raises `SoundError`) if the output fails."""

    def close(self) -> None: ...


class FileSink:
    """`path` as a mono 16-bit WAV file at the player's rate, written in real time."""

    def __init__(self, path: Path) -> None:
        """Opens the file at once: a path that cannot be written is a usage error."""
        self.path = path
        self._player: Player | None = None
        self._open = contextlib.ExitStack()  # the file and its WAV writer, closed together
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: BinaryIO | None = self._open.enter_context(path.open("wb"))
        except OSError as exc:
            raise SoundError(f"--audio-file {path}: cannot write it ({exc})") from None
        self._wav: wave.Wave_write | None = None

    def start(self, player: Player) -> None:
        assert self._file is not None, "closed"
        self._wav = self._open.enter_context(wave.open(self._file, "wb"))  # noqa: SIM115 - the stack closes it
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(player.rate)
        self._wav.writeframes(b"")  # a valid (empty) file from the start
        self._file.flush()
        self._player = player

    async def run(self) -> None:
        player, wav, file = self._player, self._wav, self._file
        assert player is not None and wav is not None and file is not None, "start() first"
        last = time.monotonic()
        owed = 0.0  # fractions of a frame carried to the next tick
        while True:
            await asyncio.sleep(FILE_TICK_S)
            now = time.monotonic()
            owed += (now - last) * player.rate
            last = now
            wanted = int(owed)
            samples = player.read(wanted, pad=False)
            # Nothing (or less) to play: the time is not owed later, as a device's is not.
            owed = owed - wanted if len(samples) == wanted else 0.0
            if len(samples):
                pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
                try:
                    wav.writeframes(pcm)  # the header is brought up to date each time
                    file.flush()
                except OSError as exc:
                    raise SoundError(f"cannot write {self.path}: {exc}") from None

    def close(self) -> None:
        self._wav = self._file = None
        with contextlib.suppress(Exception):
            self._open.close()


def device_module() -> Any:
    """`sounddevice`, or `SoundError` saying why there is no sound device."""
    try:
        import sounddevice
    except OSError as exc:  # the module loads PortAudio at import time
        raise SoundError(
            f"no sound device: {exc} (on Debian: apt install libportaudio2); "
            "--audio-file PATH writes the voice to a file instead"
        ) from None
    except ImportError:
        raise SoundError("no sound device: the sounddevice package is not installed") from None
    return sounddevice


def output_devices() -> list[tuple[int, str]]:
    """The sound outputs PortAudio knows: (number, name)."""
    sd = device_module()
    return [
        (index, str(device["name"]))
        for index, device in enumerate(sd.query_devices())
        if device.get("max_output_channels", 0) > 0
    ]


def _device_spec(device: str) -> int | str | None:
    device = device.strip()
    if not device:
        return None
    return int(device) if device.isdigit() else device


class DeviceSink:
    """A sound output (by name, part of a name, or number; "" for the default)."""

    def __init__(self, device: str) -> None:
        self._sd = device_module()
        self._spec = _device_spec(device)
        try:
            info = self._sd.query_devices(self._spec, kind="output")
        except Exception as exc:  # PortAudio reports a missing or ambiguous device its way
            names = ", ".join(f"{i}: {name}" for i, name in output_devices()) or "none"
            shown = "the default output" if self._spec is None else f"--device {device!r}"
            raise SoundError(
                f"{shown}: no such sound output ({exc}); outputs: {names}; "
                "--audio-file PATH writes the voice to a file instead"
            ) from None
        self.name = str(info["name"])
        self._stream: Any = None
        self._failed: asyncio.Future[str] | None = None

    def start(self, player: Player) -> None:
        loop = asyncio.get_running_loop()
        failed: asyncio.Future[str] = loop.create_future()
        self._failed = failed

        def pull(outdata: Any, frames: int, when: Any, status: Any) -> None:
            outdata[:, 0] = player.read(frames, pad=True)

        def stopped() -> None:
            if not failed.done():
                failed.set_result("the output stream stopped")

        def finished() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: we are shutting down
                loop.call_soon_threadsafe(stopped)

        try:
            self._stream = self._sd.OutputStream(
                samplerate=player.rate,
                channels=1,
                dtype="float32",
                device=self._spec,
                blocksize=int(player.rate * DEVICE_BLOCK_S),
                latency="low",
                callback=pull,
                finished_callback=finished,
            )
            self._stream.start()
        except Exception as exc:  # PortAudio's errors: busy, rate refused, gone
            raise SoundError(f"cannot play on {self.name!r}: {exc}") from None
        player.latency_frames = int(float(self._stream.latency) * player.rate)
        log.info("voice on %r (latency %.0f ms)", self.name, 1000 * float(self._stream.latency))

    async def run(self) -> None:
        assert self._failed is not None, "start() first"
        problem = await self._failed
        raise SoundError(f"{self.name!r}: {problem}")

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()
