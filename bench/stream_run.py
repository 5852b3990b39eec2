"""One simulated stream through a real `kagura serve`, on a scaled clock: what the clients saw.

The replay (`bench/stream_replay.py`) is played `factor` times faster than it was written, and
every time setting of the stage is divided by the same factor (lane TTLs, the dedup window,
the pace's gap and idle timer, the greeting interval, the playback margin; the rate limit per
minute is multiplied), as are the fake engines' speeds (the LLM's first token and tokens, the
TTS's latency and audio length, the ASR's latency). So the stage behaves as in the
30-minute stream, compressed. What cannot be compressed is the streamer's real speech: it is
real PCM (piper's voice) sent by the admin at real time, heard by the server's own silero VAD
and Smart Turn, so each speech stretch lasts its scaled length but the detector's onset and
end-of-turn delays are real milliseconds (a longer share of stream time).

Clients: a platform client sends the replay's chat (`text-input` with `source`), an admin
sends the speech and drains its frames, a page plays each reply's audio for its length and
then acknowledges it, as a browser would. `/stage/stats` is polled for the hold (and the
queue's length); `/stage/queue` for the pace in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from kagura.config import StageConfig
from kagura.stage.pace import PACES
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from kagura.testing.scripts import ASRScript
from tests.support import speech
from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_END, CHAIN_START, StageClient

ALIASES = ["神乐", "かぐら"]
# The real durations the scaled ones stand for.
LLM_TTFT_S = 0.8
LLM_TOKENS_PER_S = 40.0
TTS_LATENCY_S = 0.3
TTS_SECONDS_PER_CHAR = 0.06
ASR_LATENCY_S = 0.3
PLAYBACK_MARGIN_S = 3.0
SPEECH_GAP_S = 0.12  # between repeated sentences of one stretch: under the VAD's pause
POLL_S = 0.1
REPLY_SENTENCES = (
    "That's a good one, let me think about it for a second.",
    "Oh, I love that question, thank you for asking!",
    "Haha, chat is on fire tonight, I can barely keep up.",
)
TOPICS = [  # a streamer's list for idle talk, as characters/kagura.yaml has
    "the best snack for a late-night stream",
    "a game you would love to play with chat",
    "what you would do with one day off",
    "a song that is stuck in your head",
    "the strangest dream you remember",
    "a skill you want to learn this year",
]
GREETS = hasattr(StageConfig(), "greet_every_s")  # the co-host's greetings are built


def load(path: Path, start_s: float = 0.0, length_s: float | None = None) -> list[dict[str, Any]]:
    """The replay's events from `start_s` for `length_s` seconds, times made relative."""
    end = float("inf") if length_s is None else start_s + length_s
    events = []
    for line in path.read_text("utf-8").splitlines():
        event = json.loads(line)
        if start_s <= event["t"] < end:
            event["t"] -= start_s
            if event["type"] == "streamer":
                event["until"] = min(event["until"], end) - start_s
            events.append(event)
    return events


def fake_reply(body: dict[str, Any]) -> str:
    """A short reply, the same for the same prompt (so a repeated reply means the stage asked
    the same thing twice), of a real reply's length."""
    asked = json.dumps(body["messages"][-1]["content"], ensure_ascii=False)
    digest = functools.reduce(lambda h, c: (h * 131 + ord(c)) % 1_000_003, asked, 7)
    return f"{REPLY_SENTENCES[digest % 3]} Answer {digest}."


def config(fake: FakeOpenAI, pace: str, factor: float) -> dict[str, Any]:
    base = StageConfig()
    lanes = {
        name: {"ttl_s": getattr(base.lanes, name).ttl_s / factor}
        for name in ("streamer", "superchat", "membership", "gift", "danmaku", "idle")
    }
    stage: dict[str, Any] = {
        "pace": pace,
        "min_gap_s": PACES[pace].min_gap_s / factor,
        "idle_after_s": PACES[pace].idle_after_s / factor,
        "lanes": lanes,
        "dedup_window_s": base.dedup_window_s / factor,
        "user_rate_per_min": base.user_rate_per_min * factor,
        "turn_timeout_s": base.turn_timeout_s / factor,
        "streamer_addressing": "by_name",
        "character_aliases": ALIASES,
        "stats_log_interval_s": 0,
    }
    extra: dict[str, Any] = {}
    if GREETS:  # the co-host's greetings and idle topics (built together)
        stage["greet_every_s"] = getattr(base, "greet_every_s") / factor  # noqa: B009
        extra["character"] = {"topics": TOPICS}
    engine = {"provider": "openai", "openai": {"base_url": fake.base_url}}
    return extra | {
        "llm": engine,
        "tts": engine,
        "asr": engine,
        "memory": {"enabled": False},
        "conversation": {
            "playback_margin_s": PLAYBACK_MARGIN_S / factor,
            "merge_ahead_s": 1.5 / factor,
        },
        "stage": stage,
        "system": {"log_level": "warning"},
    }


@functools.cache
def spoken(text: str) -> speech.Audio:
    """The sentence in piper's voice, its edge silence trimmed."""
    audio = speech.piper(text)
    start, end = speech.speech_edges(audio)
    return audio[int(start * speech.RATE) : int(end * speech.RATE)]


def stretch(text: str, seconds: float) -> speech.Audio:
    """`seconds` of continuous speech: the sentence again and again, cut at the length."""
    sentence = np.concatenate([spoken(text), speech.silence(SPEECH_GAP_S)])
    repeats = int(seconds * speech.RATE / sentence.size) + 1
    return np.tile(sentence, repeats)[: int(seconds * speech.RATE)]


@dataclass
class Seen:
    """Everything the benchmark's clients saw, in wall-clock seconds from the replay's start."""

    sent: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    speech: list[tuple[float, float, dict[str, Any]]] = field(default_factory=list)
    page: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    holds: list[tuple[float, bool, int]] = field(default_factory=list)  # speaking, waiting
    stats: dict[str, Any] = field(default_factory=dict)
    queue: dict[str, Any] = field(default_factory=dict)
    prompts: list[str] = field(default_factory=list)
    wall_s: float = 0.0


class Page:
    """A stage page: plays each reply's audio for its length, then acknowledges playback."""

    def __init__(self, client: StageClient, seen: Seen, clock: Any) -> None:
        self.client, self.seen, self.clock = client, seen, clock
        self._played_until = 0.0
        self._ack: asyncio.Task[None] | None = None

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                message = json.loads(await self.client.ws.recv())
                now = self.clock()
                if message["type"] == "audio":
                    length = len(message.get("volumes") or []) * message["slice_length"] / 1000
                    self._played_until = max(self._played_until, now) + length
                    message = {"type": "audio", "text": message["display_text"]["text"]}
                elif message["type"] == "backend-synth-complete":
                    self._ack = asyncio.create_task(self._acknowledge(self._played_until - now))
                elif message in (CHAIN_START, CHAIN_END) or message["type"] == "interrupt-signal":
                    if self._ack is not None and message != CHAIN_END:
                        self._ack.cancel()
                    self._played_until = now
                self.seen.page.append((now, message))

    async def _acknowledge(self, after_s: float) -> None:
        await asyncio.sleep(max(0.0, after_s))
        await self.client.send({"type": "frontend-playback-complete"})


async def drain(client: StageClient) -> None:
    with contextlib.suppress(Exception):
        while True:
            await client.ws.recv()


async def poll(http: httpx.AsyncClient, seen: Seen, clock: Any, stop: asyncio.Event) -> None:
    while not stop.is_set():
        stats = (await http.get("/stage/stats")).json()
        waiting = sum(stats["waiting"].values())
        seen.holds.append((clock(), bool(stats["streamer_speaking"]), waiting))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_S)


async def speak(admin: StageClient, fake: FakeOpenAI, event: dict[str, Any], factor: float,
                seen: Seen, clock: Any) -> None:  # fmt: skip
    """The streamer talks for the stretch's scaled length; the recognizer will hear `text`."""
    fake.asr_script = ASRScript(text=event["text"], latency_s=ASR_LATENCY_S / factor)
    audio = stretch(event["text"], (event["until"] - event["t"]) / factor)
    started = clock()
    await speech.stream(admin, speech.padded(audio, 0, 0))
    seen.speech.append((started, clock(), event))
    await speech.stream(admin, speech.silence(1.5))  # the microphone stays open a moment


NOT_CHAT = ("streamer", "show")  # replay events that no platform client sends


async def play(replay: list[dict[str, Any]], platforms: dict[str, StageClient],
               admin: StageClient, http: httpx.AsyncClient, fake: FakeOpenAI, factor: float,
               seen: Seen, clock: Any) -> None:  # fmt: skip
    talking: list[asyncio.Task[None]] = []
    for event in replay:
        delay = event["t"] / factor - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        now = clock()
        if event["type"] == "streamer":
            talking.append(asyncio.create_task(speak(admin, fake, event, factor, seen, clock)))
        elif event["type"] == "show":
            if GREETS:
                await http.post("/stage/show", json={"state": event["state"]})
        elif event["kind"] != "enter" or GREETS:
            source: dict[str, Any] = {k: event[k] for k in ("platform", "kind", "user")}
            if "amount" in event:
                source["amount"] = event["amount"]
            message = {"type": "text-input", "text": event["text"], "source": source}
            await platforms[event["platform"]].send(message)
            seen.sent.append((now, event))
    await asyncio.gather(*talking)


async def warm_up(admin: StageClient, fake: FakeOpenAI) -> None:
    """The streamer's mic check before the show: loads the voice models, is not answered."""
    fake.asr_script = ASRScript(text="Mic check, one two.")
    await speech.stream(admin, speech.padded(spoken("Mic check, one two."), 0.3, 1.5))


async def run(workdir: Path, replay: list[dict[str, Any]], pace: str, factor: float,
              tail_s: float = 3.0) -> Seen:  # fmt: skip
    """Play `replay` at `pace`, `factor` times faster; then `tail_s` (wall) for what waits."""
    seen = Seen()
    for event in replay:  # synthesised before the clock starts
        if event["type"] == "streamer":
            spoken(event["text"])
    with FakeOpenAI() as fake:
        fake.script = LLMScript(
            reply=fake_reply, ttft_s=LLM_TTFT_S / factor, tokens_per_s=LLM_TOKENS_PER_S * factor
        )
        fake.tts_script = TTSScript(
            latency_s=TTS_LATENCY_S / factor, seconds_per_char=TTS_SECONDS_PER_CHAR / factor
        )
        with KaguraProcess(workdir / pace, config(fake, pace, factor)) as server:
            async with (
                httpx.AsyncClient(base_url=server.http_url, timeout=10) as http,
                StageClient(server, "page") as page_client,
                StageClient(server) as admin,
                contextlib.AsyncExitStack() as stack,
            ):
                # One client per platform, as `kagura live <platform>` runs one each: a
                # platform connection speaks for its own platform only.
                names = sorted({e["platform"] for e in replay if e["type"] not in NOT_CHAT})
                platforms = {
                    name: await stack.enter_async_context(StageClient(server, "platform"))
                    for name in names
                }
                for client in (page_client, admin, *platforms.values()):
                    await client.connect_sequence()
                drainer = asyncio.create_task(drain(admin))
                await warm_up(admin, fake)
                fake.clear_requests()
                origin = time.monotonic()

                def clock() -> float:
                    return time.monotonic() - origin

                page = Page(page_client, seen, clock)
                stop = asyncio.Event()
                tasks = [
                    asyncio.create_task(page.read()),
                    asyncio.create_task(poll(http, seen, clock, stop)),
                ]
                await play(replay, platforms, admin, http, fake, factor, seen, clock)
                await asyncio.sleep(tail_s)
                seen.wall_s = clock()
                stop.set()
                seen.stats = (await http.get("/stage/stats")).json()
                seen.queue = (await http.get("/stage/queue")).json()
                for task in [*tasks, drainer]:
                    task.cancel()
                await asyncio.gather(*tasks, drainer, return_exceptions=True)
            seen.prompts = [str(r["messages"][-1]["content"]) for r in fake.chat_requests()]
    return seen
