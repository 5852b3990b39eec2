"""First audio with the voices streamers use (GPT-SoVITS, CosyVoice, Fish Speech, Edge,
ElevenLabs, Azure), streamed and not, beside an honest floor, in one run.

Each voice is a local fake speaking that service's real wire format (TLS for the hosted ones)
with a realistic time to the first chunk and generation speed (a GPU server: the first chunk
after 150–300 ms, audio made at 3–4× real time; a hosted voice: its first audio after the
round trip and queue of a hosted API). A scripted OpenAI-compatible LLM streams each reply of
the corpus (`replies.CORPUS`, English and Chinese) to a real `kagura serve`; a WebSocket client
times the first `audio` message from sending `text-input`. The floor of a reply is when its first
clause is complete for a bare HTTP client of the LLM (measured just before each turn), plus
the time the voice server takes to send the first audio of that clause to a bare HTTP client
alone (the first chunk when it streams, the whole answer when it does not; measured before,
between and after Kagura's rounds, nothing else running). Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kagura.config import TTSConfig
from kagura.engines import tts
from kagura.testing.fake_cloud_voices import AZURE_KEY, ELEVENLABS_KEY, FakeCloudVoices
from kagura.testing.fake_cloud_voices import VoiceScript as CloudScript
from kagura.testing.fake_openai import FakeOpenAI
from kagura.testing.fake_voices import FakeVoices, VoiceScript

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from first_audio import TOKEN_INTERVAL_S, TTFT_S, boundary_s, kagura_turn, script
from replies import CORPUS, Reply
from report import Busy, exit_on_sigterm, nearest_rank, write_section

from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

IDLE_BEFORE_S = 0.5  # the voice server idles this long before each floor request, as in a turn
TARGET_MS = 15.0  # streaming voices: first audio within this of the floor (median)


@dataclass(frozen=True)
class Voice:
    name: str
    provider: str
    section: dict[str, Any]
    script: VoiceScript | CloudScript
    streamed: bool

    @property
    def hosted(self) -> bool:
        return isinstance(self.script, CloudScript)

    def fake(self, workdir: Path) -> FakeVoices | FakeCloudVoices:
        if isinstance(self.script, CloudScript):
            cloud = FakeCloudVoices(workdir / f"{self.provider}-fake")
            cloud.script = self.script
            return cloud
        return FakeVoices(self.script)

    def tts(self, fake: FakeVoices | FakeCloudVoices) -> dict[str, Any]:
        if isinstance(fake, FakeCloudVoices):
            where = {
                "edge": {"wss_url": fake.edge_url},
                "elevenlabs": {"base_url": fake.elevenlabs_url, "api_key": ELEVENLABS_KEY},
                "azure": {"endpoint": fake.azure_url, "api_key": AZURE_KEY},
            }[self.provider]
            where["ca_file"] = str(fake.ca_file)
        else:
            where = {"base_url": fake.base_url}
        return {
            "provider": self.provider,
            self.provider: {**where, **self.section},
            "segment_timeout_s": 30,
        }

    def timing(self) -> str:
        script = self.script
        text = f"{script.first_chunk_s * 1000:.0f} ms; "
        if isinstance(script, CloudScript):
            return text + f"{script.chunk_s * 1000:.0f} ms of audio a message"
        return text + (
            f"{script.chunk_s * 1000:.0f} ms of audio every {script.chunk_gap_s * 1000:.0f} ms"
        )


# Realistic timings of each server on a GPU (the first chunk, then audio at 3–4× real time).
GPT_SOVITS = {"ref_audio_path": "ref.wav", "prompt_text": "你好呀", "text_lang": "auto"}
GPT_SOVITS_SCRIPT = VoiceScript(first_chunk_s=0.25, chunk_s=0.25, chunk_gap_s=0.07)
VOICES = [
    Voice("GPT-SoVITS, streamed", "gpt_sovits", GPT_SOVITS, GPT_SOVITS_SCRIPT, True),
    Voice(
        "GPT-SoVITS, whole",
        "gpt_sovits",
        {**GPT_SOVITS, "streaming_mode": False},
        GPT_SOVITS_SCRIPT,
        False,
    ),
    Voice(
        "CosyVoice2 (sft), streamed",
        "cosyvoice",
        {"mode": "sft", "spk_id": "中文女"},
        VoiceScript(first_chunk_s=0.15, chunk_s=0.5, chunk_gap_s=0.15),
        True,
    ),
    Voice(
        "Fish Speech, streamed",
        "fish_speech",
        {"reference_id": "mira"},
        VoiceScript(first_chunk_s=0.3, chunk_s=0.2, chunk_gap_s=0.05),
        True,
    ),
    # Hosted: the round trip and queue of the service before its first audio.
    Voice(
        "Edge (zh-CN-XiaoxiaoNeural), streamed MP3",
        "edge",
        {"voice": "zh-CN-XiaoxiaoNeural"},
        CloudScript(first_chunk_s=0.35, chunk_s=0.2),
        True,
    ),
    Voice(
        "ElevenLabs (flash), streamed PCM",
        "elevenlabs",
        {"voice_id": "pNInz6obpgDQGcFmaJgB"},
        CloudScript(first_chunk_s=0.2, chunk_s=0.2),
        True,
    ),
    Voice(
        "Azure Speech, streamed PCM",
        "azure",
        {"voice": "zh-CN-XiaoxiaoNeural"},
        CloudScript(first_chunk_s=0.25, chunk_s=0.2),
        True,
    ),
]


@dataclass
class Measured:
    reply: Reply
    boundary_s: list[float] = field(default_factory=list)
    first_audio_s: list[float] = field(default_factory=list)
    voice_alone_s: list[float] = field(default_factory=list)

    def floor_s(self, boundary_s: float) -> float:
        return boundary_s + statistics.median(self.voice_alone_s)


async def first_audio_alone(engine: tts.TTSEngine, text: str) -> float:
    """How long the voice takes to hand over the clause's first audio, through the engine's
    own client but outside any turn (the first piece of a stream, or the whole answer)."""
    started = time.perf_counter()
    stream = tts.speak(engine, text)
    try:
        await anext(stream)
    finally:
        await stream.aclose()
    return time.perf_counter() - started


async def bench_voice(
    voice: Voice, workdir: Path, runs: int, busy: Busy, corpus: list[Reply]
) -> list[Measured]:
    replies = [Measured(reply) for reply in corpus]
    with voice.fake(workdir) as voices, FakeOpenAI() as fake:
        engine = tts.create(TTSConfig.model_validate(voice.tts(voices)))
        await engine.load()
        config = {
            "llm": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "tts": voice.tts(voices),
            "conversation": {"playback_margin_s": 0.5},
            "memory": {"extract": "counters"},
        }
        with KaguraProcess(workdir / voice.provider, config) as server:
            assert server.process is not None
            own = [server.process.pid]
            async with (
                httpx.AsyncClient(base_url=fake.base_url, timeout=30) as http,
                ProtocolClient(server.ws_url) as client,
            ):
                await client.connect_sequence()
                fake.script = script(replies[0].reply)
                await kagura_turn(client, "warm-up")
                for round_ in range(runs + 1):
                    busy.begin(f"{voice.name}: voice alone", own)
                    for measured in replies:
                        await asyncio.sleep(IDLE_BEFORE_S)
                        alone = await first_audio_alone(engine, measured.reply.spoken_first)
                        measured.voice_alone_s.append(alone)
                    if round_ == runs:
                        break
                    busy.begin(f"{voice.name}: turns", own)
                    for measured in replies:
                        fake.script = script(measured.reply)
                        measured.boundary_s.append(await boundary_s(http, measured.reply))
                        heard = await kagura_turn(client, "Hello!")
                        measured.first_audio_s.append(heard.first_audio_s)
                busy.end()
        await engine.aclose()
    return replies


def summary(measured: list[Measured]) -> dict[str, float]:
    first = [1000 * s for m in measured for s in m.first_audio_s]
    floors = [1000 * m.floor_s(b) for m in measured for b in m.boundary_s]
    over = [f - floor for f, floor in zip(first, floors, strict=True)]
    alone = [1000 * statistics.median(m.voice_alone_s) for m in measured]
    return {
        "turns": len(first),
        "first": statistics.median(first),
        "floor": statistics.median(floors),
        "alone": statistics.median(alone),
        "over": statistics.median(over),
        "over_p90": nearest_rank(over, 0.9),
    }


def render(results: dict[str, dict[str, float]], runs: int, busy: Busy) -> str:
    method = (
        f"Each reply of the corpus in `bench/replies.py` ({len(CORPUS)} replies, English and "
        f"Chinese) is streamed by the scripted OpenAI-compatible LLM ({TTFT_S * 1000:.0f} ms to "
        f"the first token, {TOKEN_INTERVAL_S * 1000:.0f} ms per token) to a real `kagura serve` "
        "that speaks through a local fake of each voice server (its real wire format; the "
        "first chunk and the generation speed of a GPU server, as below). A WebSocket client "
        "times the first `audio` message from sending `text-input`. The **honest floor**: when "
        "the first clause is complete for a bare HTTP client of the LLM (just before each "
        "turn) plus the median time the voice takes to hand over that clause's first audio "
        "outside any turn (the first piece when it streams, the whole answer when not), "
        f"measured {runs + 1} times, {IDLE_BEFORE_S * 1000:.0f} ms apart, before, between and "
        f"after Kagura's {runs} rounds."
    )
    lines = [
        "<!-- generated by bench/voices.py -->",
        f"_Measured {time.strftime('%Y-%m-%d')}._",
        "",
        method,
        "",
        "| voice (first chunk; chunk every) | turns | first audio | floor | … voice alone "
        "| first audio − floor (p90) | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for voice in VOICES:
        r = results[voice.name]
        timing = voice.timing()
        ok = "✅" if r["over"] <= TARGET_MS else "❌"
        target = f"≤ {TARGET_MS:.0f} ms {ok}" if voice.streamed else "—"
        lines.append(
            f"| {voice.name} ({timing}) | {r['turns']:.0f} | {r['first']:.0f} ms "
            f"| {r['floor']:.0f} ms | {r['alone']:.0f} ms | {r['over']:+.1f} ms "
            f"({r['over_p90']:+.1f}) | {target} |"
        )
    streamed, whole = results[VOICES[0].name], results[VOICES[1].name]
    lines += [
        "",
        f"Streaming GPT-SoVITS plays the first audio **{whole['first'] - streamed['first']:.0f} "
        f"ms sooner** than waiting for each whole sentence ({streamed['first']:.0f} vs "
        f"{whole['first']:.0f} ms, median; ratio {whole['first'] / streamed['first']:.2f}).",
        "",
        busy.describe(),
    ]
    return "\n".join(lines)


async def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of the corpus per voice")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--replies", type=int, default=0, help="only the first N (a try-out)")
    args = parser.parse_args()
    corpus = CORPUS[: args.replies] if args.replies else CORPUS
    busy = Busy()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES:
            measured = await bench_voice(voice, Path(tmp), args.runs, busy, corpus)
            results[voice.name] = summary(measured)
            print(voice.name, results[voice.name], flush=True)
    text = render(results, args.runs, busy)
    print(text)
    if not args.no_write:
        write_section("First audio with voice servers", text)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
