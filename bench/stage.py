"""The stage under load, against a real `kagura serve` process and the scripted fake engines.

Flood: 10 platform connections send 2,000 chat events per second for 60 s (`--flood-seconds`)
while a page acknowledges playback. Measured: the server's memory growth (RSS), its event-loop
lag (sampled inside the server, `/stage/stats`), and the age of every answered event when its
turn started, against the lane's time-to-live.

Fan-out: 500 page clients; one reply is broadcast to all. Measured: delivery time of the
turn's first message (sent → received) and the spread of each audio frame across clients,
with and without one stalled client (a raw socket that never reads) among them.

Writes its section of docs/benchmarks.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from kagura.testing.fake_openai import FakeOpenAI, LLMScript

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from report import exit_on_sigterm, write_section

from tests.support.server import KaguraProcess
from tests.support.stage import stage_url, stalled_client

RATE = 2000
CONNECTIONS = 10
DANMAKU_TTL_S = 30.0
TARGETS = {"memory_mb": 30.0, "lag_p99_ms": 50.0, "fanout_p99_ms": 100.0}


def engines(fake: FakeOpenAI) -> dict[str, Any]:
    return {
        "llm": {"provider": "openai", "openai": {"base_url": fake.base_url}},
        "tts": {"provider": "openai", "openai": {"base_url": fake.base_url}},
        "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
        "conversation": {"playback_margin_s": 0.5},
        "stage": {"stats_log_interval_s": 0, "lanes": {"danmaku": {"ttl_s": DANMAKU_TTL_S}}},
        "system": {"log_level": "warning"},
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- flood ---------------------------------------------------------------------------------


def chat_frame(n: int, rng: random.Random) -> str:
    """A flood's mix: danmaku from many viewers, some repeats, about one gift a second and a
    super chat every ten seconds (more paid events than that would fill every turn)."""
    user = f"viewer{rng.randrange(5000)}"
    roll = rng.random()
    kind, amount = "danmaku", None
    if roll < 0.00005:
        kind, amount = "superchat", 30.0
    elif roll < 0.0005:
        kind, amount = "gift", rng.choice([0.1, 1.0, 50.0])
    text = rng.choice(["hello!", "lol", "ping"]) if roll > 0.9 else f"message {n}"
    # The send time rides in the text, so the page can tell each answered event's age.
    text = f"{text} @{time.monotonic():.3f}"
    source = {"platform": "bilibili", "kind": kind, "user": {"name": user, "id": user}}
    if amount is not None:
        source["amount"] = amount
    return json.dumps({"type": "text-input", "text": text, "source": source})


async def flood_sender(url: str, seconds: float, rate: float, counter: list[int]) -> None:
    rng = random.Random(os.getpid() ^ id(counter))
    async with websockets.connect(url, max_queue=None) as ws:
        started = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) - sent
            for _ in range(due):
                await ws.send(chat_frame(next(_serial), rng))
            sent += max(0, due)
            await asyncio.sleep(0.005)
        counter.append(sent)


_serial = itertools.count()


async def answered_ages(url: str, stop: asyncio.Event) -> list[float]:
    """A page that acknowledges playback and notes the age of each answered chat line."""
    ages: list[float] = []
    async with websockets.connect(url, max_queue=None, max_size=None) as ws:
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            if frame.startswith('{"type": "audio"'):
                continue
            message = json.loads(frame)
            if message["type"] == "backend-synth-complete":
                await ws.send('{"type": "frontend-playback-complete"}')
            elif message["type"] == "user-input-transcription" and " @" in message["text"]:
                sent_at = float(message["text"].rsplit(" @", 1)[1])
                ages.append(time.monotonic() - sent_at)
    return ages


async def bench_flood(workdir: Path, seconds: float) -> dict[str, Any]:
    with FakeOpenAI() as fake:
        fake.script = LLMScript(reply="Thanks for chatting, everyone!", ttft_s=0.2)
        with KaguraProcess(workdir / "flood", engines(fake)) as server:
            assert server.process is not None
            pid = server.process.pid
            stop = asyncio.Event()
            page = asyncio.create_task(answered_ages(stage_url(server, role="page"), stop))
            await asyncio.sleep(2)  # settle after start-up
            baseline = rss_mb(pid)
            peak = baseline
            counts: list[int] = []
            url = stage_url(server, role="platform")
            senders = [
                asyncio.create_task(flood_sender(url, seconds, RATE / CONNECTIONS, counts))
                for _ in range(CONNECTIONS)
            ]
            while not all(task.done() for task in senders):
                peak = max(peak, rss_mb(pid))
                await asyncio.sleep(1)
            await asyncio.gather(*senders)
            async with httpx.AsyncClient(base_url=server.http_url) as http:
                stats = (await http.get("/stage/stats")).json()
            stop.set()
            ages = await page
    return {
        "seconds": seconds,
        "sent": sum(counts),
        "memory_growth_mb": peak - baseline,
        "baseline_mb": baseline,
        "lag": stats["loop_lag"],
        "stats": stats,
        "answered_lines": len(ages),
        "oldest_answered_s": max(ages, default=0.0),
    }


# -- fan-out -------------------------------------------------------------------------------


async def fanout_round(clients: list[Any], admin: Any, n: int) -> tuple[list[float], list[float]]:
    """One turn: per-client delivery time of its first message, and audio spread."""
    arrivals: list[dict[str, list[float]]] = [{} for _ in clients]

    async def read(index: int, ws: Any) -> None:
        while True:
            frame = await ws.recv()
            now = time.monotonic()
            kind = frame[10 : frame.index('"', 10)]
            arrivals[index].setdefault(kind, []).append(now)
            if frame == '{"type": "control", "text": "conversation-chain-end"}':
                return

    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(clients)]
    sent = time.monotonic()
    await admin.send(json.dumps({"type": "text-input", "text": f"round {n}"}))
    async with asyncio.timeout(60):
        while True:
            frame = await admin.recv()
            if '"backend-synth-complete"' in frame:
                await admin.send('{"type": "frontend-playback-complete"}')
            if frame == '{"type": "control", "text": "conversation-chain-end"}':
                break
        await asyncio.gather(*readers)
    first = [1000 * (a["control"][0] - sent) for a in arrivals]
    spread = []
    for frame in range(min(len(a.get("audio", [])) for a in arrivals)):
        times = [a["audio"][frame] for a in arrivals]
        spread += [1000 * (t - min(times)) for t in times]
    return first, spread


async def bench_fanout(workdir: Path, clients: int, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with FakeOpenAI() as fake:
        fake.script = LLMScript(reply="Hello everyone, welcome!", ttft_s=0.05)
        config = engines(fake) | {"stage": {"stats_log_interval_s": 0}}
        # Every page of the benchmark comes from this one address.
        config["system"] = {**config["system"], "max_connections_per_address": clients + 16}
        with KaguraProcess(workdir / "fanout", config) as server:
            url = stage_url(server, role="page")
            pages = [await websockets.connect(url, max_queue=None) for _ in range(clients)]
            for ws in pages:
                await asyncio.wait_for(_skip_connect(ws), 30)
            async with websockets.connect(stage_url(server), max_queue=None) as admin:
                await _skip_connect(admin)
                for label in ("all reading", "one stalled"):
                    stalled = await stalled_client(url) if label == "one stalled" else None
                    firsts, spreads = [], []
                    for n in range(rounds):
                        first, spread = await fanout_round(pages, admin, n)
                        firsts.append(percentile(first, 0.99))
                        spreads.append(percentile(spread, 0.99))
                    results[label] = {
                        "first_p99_ms": statistics.median(firsts),
                        "first_p99_spread": (min(firsts), max(firsts)),
                        "audio_p99_ms": statistics.median(spreads),
                    }
                    if stalled is not None:
                        stalled.close()
            for ws in pages:
                await ws.close()
    return results


async def _skip_connect(ws: Any) -> None:
    while '"start-mic"' not in await ws.recv():
        pass


# -- report --------------------------------------------------------------------------------


def verdict(value: float, target: float, unit: str) -> str:
    return f"≤ {target:g} {unit} {'✅' if value <= target else '❌'}"


def render(flood: dict[str, Any], fanout: dict[str, Any], clients: int, rounds: int) -> str:
    stats = flood["stats"]
    dropped = ", ".join(f"{k} {v}" for k, v in stats["dropped"].items()) or "none"
    rows = [
        "| measurement | value | target |",
        "|---|---|---|",
        f"| flood: events sent ({CONNECTIONS} connections, {flood['seconds']:g} s) | "
        f"{flood['sent']} ({flood['sent'] / flood['seconds']:.0f}/s) | {RATE}/s |",
        f"| flood: server memory growth (RSS peak − start, start "
        f"{flood['baseline_mb']:.0f} MB) | {flood['memory_growth_mb']:.1f} MB | "
        f"{verdict(flood['memory_growth_mb'], TARGETS['memory_mb'], 'MB')} |",
        f"| flood: event-loop lag p99 (p50 {flood['lag'].get('p50_ms', 0)} ms, max "
        f"{flood['lag'].get('max_ms', 0)} ms; {flood['lag'].get('samples', 0)} samples) | "
        f"{flood['lag'].get('p99_ms', 0)} ms | "
        f"{verdict(flood['lag'].get('p99_ms', 0), TARGETS['lag_p99_ms'], 'ms')} |",
        f"| flood: oldest answered chat line when its turn started | "
        f"{flood['oldest_answered_s']:.1f} s ({flood['answered_lines']} lines) | "
        f"{verdict(flood['oldest_answered_s'], DANMAKU_TTL_S, 's')} (danmaku TTL) |",
    ]
    for label, result in fanout.items():
        low, high = result["first_p99_spread"]
        rows.append(
            f"| fan-out to {clients} clients, {label}: first message delivered, p99 "
            f"(median of {rounds} rounds; {low:.0f}–{high:.0f} ms) | "
            f"{result['first_p99_ms']:.1f} ms | "
            f"{verdict(result['first_p99_ms'], TARGETS['fanout_p99_ms'], 'ms')} |"
        )
        rows.append(
            f"| fan-out, {label}: audio frame spread across clients, p99 | "
            f"{result['audio_p99_ms']:.1f} ms | — |"
        )
    return "\n".join(
        [
            "`bench/stage.py` against a real `kagura serve` with the scripted fake engines. The",
            "flood is danmaku from 5,000 viewers (10 % repeats) with a few gifts and super chats;",
            "a page acknowledges playback. Fan-out times are seen by clients in the benchmark",
            "process, so they include that process's own scheduling of many sockets. The",
            "machine is shared: the load average during the run is given below.",
            "",
            *rows,
            "",
            f"Flood counters: accepted {stats['accepted']}, answered {stats['answered']}, "
            f"merged {stats['merged']}; dropped: {dropped}. Load average at the end: "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        ]
    )


async def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        flood = await bench_flood(Path(tmp), args.flood_seconds)
        fanout = await bench_fanout(Path(tmp), args.clients, args.rounds)
    text = render(flood, fanout, args.clients, args.rounds)
    print(text)
    if not args.no_write:
        write_section("Stage: chat flood and fan-out", text)


if __name__ == "__main__":
    asyncio.run(main())
