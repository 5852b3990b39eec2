"""PCM helpers shared by the TTS engines and the payload builder.

Everything stays in memory: audio is never written to disk on its way to the client.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Speech:
    """Mono 16-bit PCM, what every TTS engine returns."""

    samples: Int16Array
    sample_rate: int
    # The WAV file these samples came from, when a server sent one: sent on as it is.
    wav: bytes | None = None

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


def encode_wav(speech: Speech) -> bytes:
    """A complete WAV file: the original frontend plays audio as a `data:audio/wav` URL."""
    if speech.wav is not None:
        return speech.wav
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(speech.sample_rate)
        out.writeframes(speech.samples.astype("<i2", copy=False).tobytes())
    return buffer.getvalue()


def decode_wav(data: bytes) -> Speech:
    """Read a 16-bit PCM WAV (mono or the first channel of several)."""
    with wave.open(io.BytesIO(data), "rb") as source:
        if source.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit WAV, got {8 * source.getsampwidth()}-bit")
        channels = source.getnchannels()
        frames = source.readframes(source.getnframes())
        rate = source.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        return Speech(samples[::channels].copy(), rate)
    return Speech(samples, rate, wav=data)


def concatenate(parts: list[Speech]) -> Speech:
    """Speech one after another, at the first part's rate (voices differ in rate)."""
    if not parts:
        return Speech(np.zeros(0, np.int16), 16000)
    rate = parts[0].sample_rate
    samples = [
        part.samples if part.sample_rate == rate else _resampled(part, rate) for part in parts
    ]
    return Speech(np.concatenate(samples).astype(np.int16), rate)


def _resampled(speech: Speech, rate: int) -> Int16Array:
    floats = speech.samples.astype(np.float32) / 32768
    return float_to_int16(resample(floats, speech.sample_rate, rate))


def rms_volumes(speech: Speech, slice_ms: int = 20) -> list[float]:
    """RMS per `slice_ms` slice, normalised so the loudest slice is 1: the lip-sync curve."""
    step = max(1, speech.sample_rate * slice_ms // 1000)
    count = len(speech.samples) // step
    if count == 0:
        return []
    frames = speech.samples[: count * step].astype(np.float32).reshape(count, step)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    peak = float(rms.max())
    if peak <= 0.0:
        return [0.0] * count
    return [round(float(v), 4) for v in rms / peak]


def float_to_int16(samples: npt.NDArray[np.floating]) -> Int16Array:
    """Convert -1..1 floats (what browsers send) to 16-bit PCM, clipping out-of-range values."""
    converted: Int16Array = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    return converted


def resample(samples: npt.NDArray[np.floating], rate: int, target: int) -> FloatArray:
    """Float samples at `rate` as float32 samples at `target`, by linear interpolation: good
    enough for speech that a VAD, an echo check or a test hears, and needs no extra library."""
    samples = np.asarray(samples, dtype=np.float32)
    if rate == target or samples.size == 0:
        return samples
    times = np.arange(0, samples.size / rate, 1 / target)
    resampled: FloatArray = np.interp(times, np.arange(samples.size) / rate, samples).astype(
        np.float32
    )
    return resampled
