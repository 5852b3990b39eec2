"""Time to first audio on realistic replies, beside an honest floor, in one run.

A scripted OpenAI-compatible server streams each reply of `replies.CORPUS` at a realistic time
to first token and token rate; a real `kagura serve` speaks it with the real engines (piper for
English, espeak-ng `cmn` — Mandarin, `cmn-latn-pinyin` — for Chinese). For each reply:

- the floor: when the token that completes the first clause reaches a bare HTTP client of the
  same server (measured in each round, just before Kagura's turn, Kagura idle), plus the time
  the same engine takes to synthesise that clause alone (in this process, before and after all
  of Kagura's rounds, with nothing else running: not during a turn);
- Kagura's first audio: from sending `text-input` to receiving the first `audio` message, and
  where its time went, from the timeline the server logs for each turn (debug level);
- whether any later segment arrived after the one before it had finished playing.

Also (b): first audio with the embedded engines end to end (SmolLM2 + piper). Writes its
section of docs/benchmarks.md (rendered by `first_audio_report`).

With `--guard-ms 50`, every segment is also judged by a guard model (`safety.guard`): a
scripted Qwen3Guard that answers "safe" after exactly that long. The floor stays the same,
so the gap shows what the guard costs the first audio; written to a section of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import io
import json
import re
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
from kagura.testing.fake_guard import FakeGuard, GuardScript
from kagura.testing.fake_openai import FakeOpenAI, LLMScript

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from first_audio_report import render
from replies import CORPUS, Reply
from report import Busy, exit_on_sigterm, write_section

from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

TTFT_S = 0.200
TOKEN_INTERVAL_S = 0.020
# How long the engine is left idle before each synthesis alone: about what it is in a turn
# (the boundary's measurement, then the time to the first clause).
IDLE_BEFORE_S = 0.5
CHAIN_END = {"type": "control", "text": "conversation-chain-end"}
ENGINES = {
    "en": {"provider": "piper"},
    "zh": {"provider": "espeak", "espeak": {"voice": "cmn"}},
}
VOICES = {"en": "piper joe-medium", "zh": "espeak-ng cmn"}
GUARD_MODEL = "Qwen3Guard-Gen-0.6B"  # what the fake guard is asked for (it answers as one)
GUARD_TIMEOUT_MS = 5000  # far beyond the scripted delay: the guard never times out here
# The turn's debug line (`kagura.conversation.turn.FirstAudio.describe`), in ms from its start.
TIMELINE = re.compile(
    r"LLM request at ([\d.]+) ms, clause complete at ([\d.]+) ms, "
    r"synthesis ([\d.]+)-([\d.]+) ms, published at ([\d.]+) ms "
    r"\(turn started at ([\d.]+) s, monotonic\)"
)


@dataclass(frozen=True)
class Timeline:
    """Where one turn's first audio went, in seconds from the turn's start; and when the
    turn started, and `text-input` was sent, on the machine's monotonic clock (one clock for
    every process of this machine)."""

    requested: float
    clause: float
    synthesis_start: float
    synthesis_end: float
    published: float
    started: float = 0.0
    sent: float = 0.0


@dataclass
class Heard:
    """One Kagura turn as the client saw it: first audio, its text, every segment, and the
    server's timeline of it."""

    first_audio_s: float
    first_text: str
    segments: list[tuple[float, float]]  # (arrival s, duration s) of each audio
    timeline: Timeline | None = None


@dataclass
class Measured:
    """One reply's rounds: when its first clause reached a bare client, and Kagura's turn,
    in each round; the engine's time for the clause alone, from the quiet blocks between the
    rounds: after a pause as long as a turn leaves the engine idle (the floor's), and again
    at once (back to back, for comparison). The floor of a round is that round's clause
    arrival plus the median synthesis alone."""

    reply: Reply
    boundary_s: list[float] = field(default_factory=list)
    synthesis_s: list[float] = field(default_factory=list)
    back_to_back_s: list[float] = field(default_factory=list)
    turns: list[Heard] = field(default_factory=list)

    def synthesis_median_s(self, back_to_back: bool = False) -> float:
        return statistics.median(self.back_to_back_s if back_to_back else self.synthesis_s)

    def floors_s(self, back_to_back: bool = False) -> list[float]:
        return [b + self.synthesis_median_s(back_to_back) for b in self.boundary_s]

    def gaps_ms(self, back_to_back: bool = False) -> list[float]:
        pairs = zip(self.turns, self.floors_s(back_to_back), strict=True)
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


async def synthesis_alone(engine: tts.TTSEngine, replies: list[Measured]) -> None:
    """Each first clause's synthesis with nothing else running: no turn in Kagura, no stream
    from the fake server. In a turn the engine has been idle for a while when the clause
    comes, so it is measured so here (the floor), and once more right after (back to back,
    which a warm engine may do faster)."""
    for measured in replies:
        await asyncio.sleep(IDLE_BEFORE_S)
        measured.synthesis_s.append(await synthesis_s(engine, measured.reply.spoken_first))
        measured.back_to_back_s.append(await synthesis_s(engine, measured.reply.spoken_first))


def wav_seconds(payload: str) -> float:
    with wave.open(io.BytesIO(base64.b64decode(payload))) as wav:
        return wav.getnframes() / wav.getframerate()


def timelines(server: KaguraProcess) -> list[Timeline]:
    """Every first-audio timeline the server has logged so far (Rich wraps long lines)."""
    text = " ".join(server.log_path.read_text("utf-8", "replace").split())
    return [
        Timeline(*(float(ms) / 1000 for ms in found[:5]), started=float(found[5]))
        for found in TIMELINE.findall(text)
    ]


async def kagura_turn(
    client: ProtocolClient, text: str, server: KaguraProcess | None = None
) -> Heard:
    logged = len(timelines(server)) if server is not None else 0
    started = time.monotonic()
    await client.send({"type": "text-input", "text": text})
    segments: list[tuple[float, float]] = []
    first_text = ""
    while (message := await client.recv(60)) != CHAIN_END:
        if message["type"] == "audio" and message["audio"]:
            if not segments:
                first_text = message["display_text"]["text"]
            segments.append((time.monotonic() - started, wav_seconds(message["audio"])))
        elif message["type"] == "backend-synth-complete":
            await client.send({"type": "frontend-playback-complete"})
    if not segments:
        raise RuntimeError(f"no audio for {text!r}")
    heard = Heard(segments[0][0], first_text, segments)
    if server is not None:  # logged before the reply completes, so before the chain's end
        found = timelines(server)
        if len(found) <= logged:
            raise RuntimeError(
                "no first-audio timeline in the server's log: did its format change? "
                "(kagura.conversation.turn.FirstAudio.describe)"
            )
        heard.timeline = dataclasses.replace(found[-1], sent=started)
    return heard


def guard_section(guard_url: str | None) -> dict[str, object]:
    """The `safety` section: the lists as by default, and the fake guard when there is one."""
    if guard_url is None:
        return {}
    guard = {"provider": "chat_classifier", "base_url": guard_url, "model": GUARD_MODEL}
    return {"guard": {**guard, "format": "qwen3guard", "timeout_ms": GUARD_TIMEOUT_MS}}


async def bench_language(
    lang: str, workdir: Path, runs: int, busy: Busy, guard_url: str | None = None
) -> list[Measured]:
    replies = [Measured(reply) for reply in CORPUS if reply.lang == lang]
    engine = tts.create(TTSConfig.model_validate(ENGINES[lang]))
    await engine.load()
    for measured in replies:  # the first calls into a model are slow: not the floor
        await engine.synthesize(measured.reply.spoken_first)
    with FakeOpenAI() as fake:
        config = {
            "system": {"log_level": "debug"},  # the turns' timelines
            "llm": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "tts": ENGINES[lang],
            "conversation": {"playback_margin_s": 0.5},
            # Recall stays on the path; the LLM's background memory jobs (a summary when
            # memory trims) would stream from the fake server during the measurements.
            "memory": {"extract": "counters"},
            "safety": guard_section(guard_url),
        }
        with KaguraProcess(workdir / lang, config) as server:
            assert server.process is not None
            own = [server.process.pid]
            async with (
                httpx.AsyncClient(base_url=fake.base_url, timeout=30) as http,
                ProtocolClient(server.ws_url) as client,
            ):
                await client.connect_sequence()
                fake.script = script(replies[0].reply)
                await kagura_turn(client, "warm-up")  # the engines load in the background
                # Alone before, between and after the rounds: a drift of the machine's speed
                # over the run weighs on the floor as on the turns.
                for round_ in range(runs + 1):
                    busy.begin(f"{lang} synthesis alone", own)
                    await synthesis_alone(engine, replies)
                    if round_ == runs:
                        break
                    busy.begin(f"{lang} turns", own)
                    for measured in replies:
                        fake.script = script(measured.reply)
                        measured.boundary_s.append(await boundary_s(http, measured.reply))
                        measured.turns.append(await kagura_turn(client, "Hello!", server))
                busy.end()
    await engine.aclose()
    return replies


async def bench_embedded(workdir: Path, runs: int, busy: Busy, warmup: int = 2) -> list[float]:
    samples = []
    config = {"conversation": {"playback_margin_s": 0.5}}
    with KaguraProcess(workdir / "embedded", config) as server:
        assert server.process is not None
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            busy.begin("embedded", [server.process.pid])
            for i in range(warmup + runs):
                heard = await kagura_turn(client, "Hello! Who are you?")
                if i >= warmup:
                    samples.append(heard.first_audio_s)
            busy.end()
    return samples


def method(runs: int, guard_ms: float = 0) -> str:
    guard = (
        f" Every segment is also judged by a guard model (`safety.guard`, chat_classifier): a "
        f"scripted Qwen3Guard on loopback that answers after {guard_ms:g} ms; the floor does "
        "not include it."
        if guard_ms
        else ""
    )
    return (
        "Each reply of the corpus in `bench/replies.py` is streamed by the scripted "
        f"OpenAI-compatible server ({TTFT_S * 1000:.0f} ms to the first token, "
        f"{TOKEN_INTERVAL_S * 1000:.0f} ms per token) to a real `kagura serve`, which speaks "
        f"it with {VOICES['en']} (English) or {VOICES['zh']} (Chinese); a WebSocket client "
        "times the first `audio` message from sending `text-input`. The **honest floor** is "
        "the earliest the first clause can be heard: when its last token reaches a bare HTTP "
        "client of the same server (measured just before each of Kagura's turns, Kagura "
        "idle), plus the median time the same engine takes to synthesise that clause alone, "
        "in the benchmark's process with nothing else running (not during a turn): "
        f"{runs + 1} times, before, between and after Kagura's rounds, each after "
        f"{1000 * IDLE_BEFORE_S:.0f} ms idle as in a turn. {runs} rounds of the corpus; each "
        "turn is compared with its own reply's floor." + guard
    )


async def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds of the corpus")
    parser.add_argument("--embedded-runs", type=int, default=10, help="0 skips (b)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--guard-ms",
        type=float,
        default=0,
        help="judge every segment with a fake guard model answering after this many ms "
        "(skips (b); writes its own section)",
    )
    args = parser.parse_args()
    busy = Busy()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        guard_url = None
        if args.guard_ms:
            answers = GuardScript(delay_s=args.guard_ms / 1000)
            guard_url = stack.enter_context(FakeGuard(answers)).base_url
        measured = [
            m
            for lang in ("en", "zh")
            for m in await bench_language(lang, Path(tmp), args.runs, busy, guard_url)
        ]
        embedded_runs = 0 if args.guard_ms else args.embedded_runs
        embedded = await bench_embedded(Path(tmp), embedded_runs, busy) if embedded_runs else []
    text = render(
        method(args.runs, args.guard_ms), VOICES, measured, embedded, busy, args.guard_ms
    )
    print(text)
    if not args.no_write:
        title = "Time to first audio"
        if args.guard_ms:
            title += f" with a {args.guard_ms:g} ms guard model"
        write_section(title, text)


if __name__ == "__main__":
    asyncio.run(main())
