"""Time to first audio on realistic replies, beside the physical floor, in one run.

A scripted OpenAI-compatible server streams each reply of `replies.CORPUS` at a realistic time
to first token and token rate; a real `kagura serve` speaks it with the real engines (piper for
English, espeak-ng `cmn` for Chinese). For each reply:

- the floor: when the token that completes the first clause reaches a bare HTTP client, plus
  the time the same engine takes to synthesise that clause alone — both measured in this run;
- Kagura's first audio: from sending `text-input` to receiving the first `audio` message;
- whether any later segment arrived after the one before it had finished playing.

Also (b): first audio with the embedded engines end to end (SmolLM2 + piper). Writes its
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import statistics
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kagura.config import TTSConfig
from kagura.engines import tts
from kagura.testing.fake_openai import FakeOpenAI, LLMScript

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from replies import CORPUS, Reply
from report import exit_on_sigterm, machine, nearest_rank, write_section

from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

TTFT_S = 0.200
TOKEN_INTERVAL_S = 0.020
TARGET_MEDIAN_MS = 10.0
TARGET_P90_MS = 25.0
TARGET_EMBEDDED_MS = 600.0
CHAIN_END = {"type": "control", "text": "conversation-chain-end"}
ENGINES = {
    "en": {"provider": "piper"},
    "zh": {"provider": "espeak", "espeak": {"voice": "cmn"}},
}
VOICES = {"en": "piper joe-medium", "zh": "espeak-ng cmn"}


@dataclass
class Heard:
    """One Kagura turn as the client saw it: first audio, its text, every segment."""

    first_audio_s: float
    first_text: str
    segments: list[tuple[float, float]]  # (arrival s, duration s) of each audio


@dataclass
class Measured:
    """One reply's rounds. Each Kagura turn is paired with the floor measured around it (the
    clause's arrival just before, its synthesis alone just before and just after), so a
    moment of load on this shared machine weighs on both sides of the difference."""

    reply: Reply
    boundary_s: list[float] = field(default_factory=list)
    synthesis_s: list[float] = field(default_factory=list)
    turns: list[Heard] = field(default_factory=list)

    def floors_s(self) -> list[float]:
        return [b + s for b, s in zip(self.boundary_s, self.synthesis_s, strict=True)]

    def gaps_ms(self) -> list[float]:
        pairs = zip(self.turns, self.floors_s(), strict=True)
        return [1000 * (turn.first_audio_s - floor) for turn, floor in pairs]


def script(reply: Reply) -> LLMScript:
    return LLMScript(reply=reply.text, ttft_s=TTFT_S, tokens_per_s=1 / TOKEN_INTERVAL_S)


async def boundary_s(http: httpx.AsyncClient, reply: Reply) -> float:
    """When the first clause is complete for a bare HTTP client of the same fake server."""
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    received = 0
    started = time.perf_counter()
    async with http.stream("POST", "/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            delta = json.loads(line.removeprefix("data: "))["choices"][0]["delta"]
            received += len(delta.get("content") or "")
            if received >= len(reply.first):
                return time.perf_counter() - started
    raise RuntimeError(f"the stream ended before {reply.first!r} was complete")


async def synthesis_s(engine: tts.TTSEngine, text: str) -> float:
    started = time.perf_counter()
    await engine.synthesize(text)
    return time.perf_counter() - started


def wav_seconds(payload: str) -> float:
    with wave.open(io.BytesIO(base64.b64decode(payload))) as wav:
        return wav.getnframes() / wav.getframerate()


async def kagura_turn(client: ProtocolClient, text: str) -> Heard:
    started = time.perf_counter()
    await client.send({"type": "text-input", "text": text})
    segments: list[tuple[float, float]] = []
    first_text = ""
    while (message := await client.recv(60)) != CHAIN_END:
        if message["type"] == "audio" and message["audio"]:
            if not segments:
                first_text = message["display_text"]["text"]
            segments.append((time.perf_counter() - started, wav_seconds(message["audio"])))
        elif message["type"] == "backend-synth-complete":
            await client.send({"type": "frontend-playback-complete"})
    if not segments:
        raise RuntimeError(f"no audio for {text!r}")
    return Heard(segments[0][0], first_text, segments)


def playback_waits(segments: list[tuple[float, float]]) -> list[float]:
    """How long playback waited before each later segment (0: it was there in time)."""
    waits = []
    end = segments[0][0] + segments[0][1]
    for arrival, duration in segments[1:]:
        waits.append(max(0.0, arrival - end))
        end = max(arrival, end) + duration
    return waits


async def bench_language(lang: str, workdir: Path, runs: int) -> list[Measured]:
    replies = [Measured(reply) for reply in CORPUS if reply.lang == lang]
    engine = tts.create(TTSConfig.model_validate(ENGINES[lang]))
    await engine.load()
    for measured in replies:  # the first calls into a model are slow: not the floor
        await engine.synthesize(measured.reply.spoken_first)
    with FakeOpenAI() as fake:
        config = {
            "llm": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "tts": ENGINES[lang],
            "conversation": {"playback_margin_s": 0.5},
        }
        with KaguraProcess(workdir / lang, config) as server:
            async with (
                httpx.AsyncClient(base_url=fake.base_url, timeout=30) as http,
                ProtocolClient(server.ws_url) as client,
            ):
                await client.connect_sequence()
                fake.script = script(replies[0].reply)
                await kagura_turn(client, "warm-up")  # the engines load in the background
                for _ in range(runs):
                    for measured in replies:
                        fake.script = script(measured.reply)
                        measured.boundary_s.append(await boundary_s(http, measured.reply))
                        spoken = measured.reply.spoken_first
                        before = await synthesis_s(engine, spoken)
                        measured.turns.append(await kagura_turn(client, "Hello!"))
                        after = await synthesis_s(engine, spoken)
                        measured.synthesis_s.append((before + after) / 2)
    await engine.aclose()
    return replies


async def bench_embedded(workdir: Path, runs: int, warmup: int = 2) -> list[float]:
    samples = []
    config = {"conversation": {"playback_margin_s": 0.5}}
    with KaguraProcess(workdir / "embedded", config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            for i in range(warmup + runs):
                heard = await kagura_turn(client, "Hello! Who are you?")
                if i >= warmup:
                    samples.append(heard.first_audio_s)
    return samples


def _verdict(value: float, target: float) -> str:
    return f"≤ {target:.0f} ms {'✅' if value <= target else '❌'}"


def _reply_row(m: Measured) -> str:
    first = m.reply.first.replace("|", "\\|")
    if len(first) > 40:
        first = first[:37] + "..."
    kagura = statistics.median(t.first_audio_s for t in m.turns)
    right = sum(t.first_text == m.reply.first for t in m.turns)
    cells = [
        m.reply.lang,
        f"`{first}`" + (f" ({m.reply.kind})" if m.reply.kind else ""),
        str(m.reply.words),
        f"{1000 * statistics.median(m.boundary_s):.0f}",
        f"{1000 * statistics.median(m.synthesis_s):.0f}",
        f"{1000 * statistics.median(m.floors_s()):.0f}",
        f"{1000 * kagura:.0f}",
        f"{statistics.median(m.gaps_ms()):+.1f}",
        f"{right}/{len(m.turns)}",
        str(sum(wait > 0 for t in m.turns for wait in playback_waits(t.segments))),
    ]
    return "| " + " | ".join(cells) + " |"


def render(measured: list[Measured], embedded: list[float], runs: int, load: float) -> str:
    gaps = [gap for m in measured for gap in m.gaps_ms()]
    waits = [w for m in measured for t in m.turns for w in playback_waits(t.segments)]
    stalled = [w for w in waits if w > 0]
    median, p90 = statistics.median(gaps), nearest_rank(gaps, 0.9)
    by_lang = {
        lang: statistics.median(g for m in measured if m.reply.lang == lang for g in m.gaps_ms())
        for lang in ("en", "zh")
    }
    rows = [
        f"| **first audio − floor, median** ({len(gaps)} turns) | {median:+.1f} ms | "
        f"{_verdict(median, TARGET_MEDIAN_MS)} |",
        f"| **first audio − floor, p90** | {p90:+.1f} ms | {_verdict(p90, TARGET_P90_MS)} |",
        f"| first audio − floor, median: English ({VOICES['en']}) | {by_lang['en']:+.1f} ms | — |",
        f"| first audio − floor, median: Chinese ({VOICES['zh']}) | {by_lang['zh']:+.1f} ms | — |",
        f"| **later segments that arrived after the one before had finished playing** | "
        f"{len(stalled)} of {len(waits)}"
        + (f" (longest wait {1000 * max(stalled):.0f} ms)" if stalled else "")
        + f" | 0 {'✅' if not stalled else '❌'} |",
    ]
    if embedded:
        value = 1000 * statistics.median(embedded)
        rows.append(
            f"| (b) embedded SmolLM2 + piper, first audio median ({len(embedded)} turns; "
            f"p90 {1000 * nearest_rank(embedded, 0.9):.0f} ms) | {value:.0f} ms | "
            f"{_verdict(value, TARGET_EMBEDDED_MS)} |"
        )
    return "\n".join(
        [
            "Each reply of the corpus in `bench/replies.py` is streamed by the scripted "
            f"OpenAI-compatible server ({TTFT_S * 1000:.0f} ms to the first token, "
            f"{TOKEN_INTERVAL_S * 1000:.0f} ms per token) to a real `kagura serve`, which speaks "
            f"it with {VOICES['en']} (English) or {VOICES['zh']} (Chinese); a WebSocket client "
            "times the first `audio` message from sending `text-input`. The **floor** is the "
            "earliest the first clause can be heard: when its last token reaches a bare HTTP "
            "client of the same server, plus the time the same engine takes to synthesise that "
            "clause alone, measured around each of Kagura's turns in this run "
            f"({runs} rounds of the corpus; medians per reply below).",
            "",
            "| measurement | value | target |",
            "|---|---|---|",
            *rows,
            "",
            "| lang | first clause | words | clause complete (ms) | synthesis alone (ms) | "
            "floor (ms) | Kagura first audio (ms) | − floor (ms) | first audio = clause | "
            "playback waits |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *(_reply_row(m) for m in measured),
            "",
            "A playback wait is counted when a segment reaches the client after the audio before "
            "it would have finished playing, had the client played each segment as it arrived. "
            + machine(load),
        ]
    )


async def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds of the corpus")
    parser.add_argument("--embedded-runs", type=int, default=10, help="0 skips (b)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        measured = [
            m for lang in ("en", "zh") for m in await bench_language(lang, Path(tmp), args.runs)
        ]
        embedded = await bench_embedded(Path(tmp), args.embedded_runs) if args.embedded_runs else []
    text = render(measured, embedded, args.runs, load_before)
    print(text)
    if not args.no_write:
        write_section("Time to first audio", text)


if __name__ == "__main__":
    asyncio.run(main())
