"""Time from `text-input` to the first `audio` message, in one run:

(a) against a scripted OpenAI-compatible server (fixed time to first token and token rate)
    and a fixed-latency TTS: the pipeline's own overhead is the measured time minus the
    scripted model time;
(b) on the real embedded engines (SmolLM2 + piper).

Writes its section of docs/benchmarks.md. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from kagura.conversation.segmenter import Segmenter
from kagura.testing.client import ProtocolClient
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript, split_tokens
from kagura.testing.server import KaguraProcess

sys.path.insert(0, str(Path(__file__).parent))
from report import write_section

TTFT_S = 0.200
TOKENS_PER_S = 50.0
TTS_LATENCY_S = 0.050
REPLY = "Oh hello there, it is so nice to meet you today. I am Kagura, and I love a good chat!"
TARGET_OVERHEAD_MS = 5.0
TARGET_EMBEDDED_MS = 600.0


def first_segment(reply: str, first_min_words: int = 3) -> tuple[int, str]:
    """Which streamed token completes the first segment, and that segment's text."""
    segmenter = Segmenter(first_min_words)
    for index, token in enumerate(split_tokens(reply)):
        if pieces := segmenter.feed(token):
            return index, pieces[0]
    raise ValueError("the reply never completes a segment")


async def bare_model_time(base_url: str, runs: int) -> list[float]:
    """The model time as a bare HTTP client sees it: the scripted delays plus the fake
    server's own cost, with none of Kagura's work. Measured in the same run as Kagura."""
    index, text = first_segment(REPLY)
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Hello!"}]}
    samples = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for _ in range(runs + 1):
            started = time.perf_counter()
            tokens = 0
            async with http.stream("POST", "/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: {") and '"content":"' in line:
                        if '"content":""' not in line:
                            tokens += 1
                        if tokens > index:
                            break
            speech = {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"}
            (await http.post("/audio/speech", json=speech)).raise_for_status()
            samples.append(time.perf_counter() - started)
    return samples[1:]


async def time_to_first_audio(url: str, text: str, runs: int, warmup: int = 1) -> list[float]:
    samples = []
    async with ProtocolClient(url) as client:
        await client.connect_sequence()
        for i in range(warmup + runs):
            started = time.perf_counter()
            await client.send({"type": "text-input", "text": text})
            first = None
            while True:
                message = await client.recv(120)
                if message["type"] == "audio" and first is None:
                    first = time.perf_counter() - started
                if message["type"] == "backend-synth-complete":
                    await client.send({"type": "frontend-playback-complete"})
                if message == {"type": "control", "text": "conversation-chain-end"}:
                    break
            if first is None:
                raise RuntimeError(f"turn {i} produced no audio")
            if i >= warmup:
                samples.append(first)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": 1000 * statistics.median(ordered),
        "p90_ms": 1000 * ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "min_ms": 1000 * ordered[0],
    }


async def bench_scripted(workdir: Path, runs: int) -> dict[str, Any]:
    with FakeOpenAI() as fake:
        fake.script = LLMScript(reply=REPLY, ttft_s=TTFT_S, tokens_per_s=TOKENS_PER_S)
        fake.tts_script = TTSScript(latency_s=TTS_LATENCY_S)
        config = {
            "llm": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "tts": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "conversation": {"playback_margin_s": 0.5},
        }
        with KaguraProcess(workdir / "scripted", config) as server:
            samples = await time_to_first_audio(server.ws_url, "Hello!", runs)
        model = await bare_model_time(fake.base_url, runs)
    model_s = statistics.median(model)
    overheads = [s - model_s for s in samples]
    return {
        "total": summary(samples),
        "model": summary(model),
        "overhead": summary(overheads),
    }


async def bench_embedded(workdir: Path, runs: int) -> dict[str, Any]:
    config = {"conversation": {"playback_margin_s": 0.5}}
    with KaguraProcess(workdir / "embedded", config) as server:
        samples = await time_to_first_audio(server.ws_url, "Hello! Who are you?", runs, warmup=2)
    return {"total": summary(samples)}


def _row(name: str, runs: object, stats: dict[str, float] | None, target: str = "—") -> str:
    if stats is None:
        return f"| {name} | {runs} | — | — | — | {target} |"
    cells = [f"{stats[k]:.1f} ms" for k in ("median_ms", "p90_ms", "min_ms")]
    return f"| {name} | {runs} | {' | '.join(cells)} | {target} |"


def _verdict(value: float, target: float) -> str:
    return f"≤ {target:.0f} ms {'✅' if value <= target else '❌'}"


def render(scripted: dict[str, Any], embedded: dict[str, Any], runs: tuple[int, int]) -> str:
    overhead = scripted["overhead"]["median_ms"]
    first_audio = embedded["total"]["median_ms"]
    index, _ = first_segment(REPLY)
    nominal = 1000 * (TTFT_S + index / TOKENS_PER_S + TTS_LATENCY_S)
    model = (
        f"(a) model time, seen by a bare HTTP client: TTFT {TTFT_S * 1000:.0f} ms + "
        f"{index} tokens at {TOKENS_PER_S:.0f}/s + TTS {TTS_LATENCY_S * 1000:.0f} ms "
        f"= {nominal:.0f} ms scripted, plus the fake server's own cost"
    )
    return "\n".join(
        [
            "Time from sending `text-input` to receiving the first `audio` message over",
            "`/client-ws`, measured by a WebSocket client against a real `kagura serve` process.",
            "",
            "| measurement | runs | median | p90 | min | target |",
            "|---|---|---|---|---|---|",
            _row("(a) scripted LLM + TTS: first audio", runs[0], scripted["total"]),
            _row(model, runs[0], scripted["model"]),
            _row(
                "**(a) pipeline overhead** (measured − model)",
                runs[0],
                scripted["overhead"],
                _verdict(overhead, TARGET_OVERHEAD_MS),
            ),
            _row(
                "**(b) embedded SmolLM2 + piper: first audio**",
                runs[1],
                embedded["total"],
                _verdict(first_audio, TARGET_EMBEDDED_MS),
            ),
            "",
            f"Machine: {platform.machine()}, Python {platform.python_version()}, "
            f"{_cores()} cores. The overhead is everything Kagura does between the two sockets: "
            "WebSocket receive, prompt building, the HTTP streaming client, segmentation, the "
            "TTS request, WAV encoding, volumes, base64 and the send.",
        ]
    )


def _cores() -> int:
    import os

    return os.cpu_count() or 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="scripted runs")
    parser.add_argument("--embedded-runs", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scripted = await bench_scripted(Path(tmp), args.runs)
        embedded = await bench_embedded(Path(tmp), args.embedded_runs)
    text = render(scripted, embedded, (args.runs, args.embedded_runs))
    print(text)
    if not args.no_write:
        write_section("Time to first audio", text)


if __name__ == "__main__":
    asyncio.run(main())
