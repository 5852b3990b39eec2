"""Speech as servers stream it: any chunking gives the same samples, in order."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from kagura.audio import Speech, encode_wav
from kagura.engines.errors import EngineError
from kagura.engines.tts.pcm import MAX_SEGMENT_AUDIO_S, PcmReader, WavStreamReader, collect


def _tone(rate: int = 24000, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16)


def _read(reader: PcmReader | WavStreamReader, data: bytes, step: int) -> list[Speech]:
    pieces = [reader.feed(data[i : i + step]) for i in range(0, len(data), step)]
    pieces.append(reader.flush())
    return [p for p in pieces if p is not None]


@pytest.mark.parametrize("step", [1, 3, 1000, 1 << 20])
def test_raw_pcm_in_any_chunks_is_the_same_audio(step: int) -> None:
    samples = _tone()
    pieces = _read(PcmReader(24000), samples.astype("<i2").tobytes() + b"\x01", step)
    joined = np.concatenate([p.samples for p in pieces])
    assert np.array_equal(joined, samples)
    assert all(p.sample_rate == 24000 for p in pieces)
    if step < 1000:  # slivers are held until a piece is worth sending
        assert all(p.duration_s >= 0.1 for p in pieces[:-1])


@pytest.mark.parametrize("step", [7, 44, 4096])
def test_a_streamed_wav_with_placeholder_sizes(step: int) -> None:
    samples = _tone(32000)
    wav = bytearray(encode_wav(Speech(samples, 32000)))
    struct.pack_into("<I", wav, 4, 0xFFFFFFFF)  # what streaming servers write
    struct.pack_into("<I", wav, 40, 0xFFFFFFFF)
    reader = WavStreamReader()
    pieces = _read(reader, bytes(wav), step)
    assert reader.sample_rate == 32000
    assert np.array_equal(np.concatenate([p.samples for p in pieces]), samples)


def test_a_chunk_after_the_samples_is_not_played() -> None:
    samples = _tone()
    wav = encode_wav(Speech(samples, 24000)) + b"LIST\x10\x00\x00\x00INFOISFT\x04\x00\x00\x00abcd"
    pieces = _read(WavStreamReader(), wav, 333)
    assert np.array_equal(np.concatenate([p.samples for p in pieces]), samples)


def test_stereo_keeps_the_first_channel() -> None:
    samples = _tone()
    stereo = np.stack([samples, -samples], axis=1).reshape(-1)
    pieces = _read(PcmReader(24000, channels=2), stereo.astype("<i2").tobytes(), 999)
    assert np.array_equal(np.concatenate([p.samples for p in pieces]), samples)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "not a WAV"),
        (b"RIFF", "bad WAV"),
        (b"", "no audio"),
    ],
)
def test_what_is_not_a_wav_is_an_error(data: bytes, message: str) -> None:
    reader = WavStreamReader(source="GPT-SoVITS at http://x")
    with pytest.raises(EngineError, match=message):
        reader.feed(data)
        reader.flush()


def test_eight_bit_wav_is_refused_with_what_to_ask_for() -> None:
    wav = bytearray(encode_wav(Speech(_tone(), 24000)))
    struct.pack_into("<H", wav, 34, 8)
    with pytest.raises(EngineError, match="16-bit"):
        WavStreamReader().feed(bytes(wav))


def test_a_server_that_never_stops_is_cut_off() -> None:
    reader = PcmReader(8000)
    second = b"\0\0" * 8000
    with pytest.raises(EngineError, match="more than"):
        for _ in range(int(MAX_SEGMENT_AUDIO_S) + 2):
            reader.feed(second)


async def test_collect_joins_pieces_and_refuses_a_rate_change() -> None:
    async def pieces(*rates: int):  # type: ignore[no-untyped-def]
        for rate in rates:
            yield Speech(np.ones(10, np.int16), rate)

    whole = await collect(pieces(16000, 16000))
    assert len(whole.samples) == 20
    with pytest.raises(EngineError, match="changed sample rate"):
        await collect(pieces(16000, 24000))
    with pytest.raises(EngineError, match="no audio"):
        await collect(pieces())


async def test_an_openai_compatible_server_that_streams_is_played_as_it_streams() -> None:
    """Kokoro-FastAPI and the like stream `/audio/speech`: the first piece is handed over
    while the server is still sending; a server that sends a whole WAV (with its length)
    gives one piece, the WAV as sent."""
    from kagura.config import TTSConfig
    from kagura.engines.tts.openai_compat import OpenAICompatibleTTS
    from kagura.testing.fake_openai import FakeOpenAI, TTSScript

    with FakeOpenAI() as fake:
        settings = {"provider": "openai", "openai": {"base_url": fake.base_url}}
        config = TTSConfig.model_validate(settings)
        engine = OpenAICompatibleTTS(config)
        text = "A sentence long enough for several chunks of audio."
        try:
            fake.tts_script = TTSScript(stream_chunk_s=0.25, chunk_gap_s=0.3)
            pieces = engine.stream(text)
            first = await anext(pieces)
            handed = time.monotonic()
            arrived = [first, *[p async for p in pieces]]
            # Handed over while the server still had seconds of chunks to send.
            assert time.monotonic() - handed > 1.0
            assert len(arrived) > 3 and first.duration_s < 0.5
            total = sum(p.duration_s for p in arrived)
            assert total == pytest.approx(0.06 * len(text), abs=0.01)

            fake.tts_script = TTSScript()
            [whole] = [p async for p in engine.stream(text)]
            assert whole.wav is not None and whole.duration_s == pytest.approx(total, abs=0.01)
        finally:
            await engine.aclose()
