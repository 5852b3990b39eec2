"""`memory_recall.py`'s part (c): first audio from three real `kagura serve` on the stage —
memory off, by words, by words and meaning — answering the labelled viewers in turn."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from kagura.testing.fake_openai import FakeOpenAI, LLMScript

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from first_audio import TOKEN_INTERVAL_S, TTFT_S
from memory_recall_data import FACTS, labelled

from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_END, StageClient

REPLY = "Oh, welcome back! I remember you told me about that, how has it been going since then?"


async def first_audio(client: StageClient, text: str, user: str, uid: str = "") -> float:
    """Seconds from sending a viewer's chat line to the first audio of its reply."""
    started = time.perf_counter()
    source = {"platform": "bilibili", "user": {"name": user, "id": uid or f"id-{user}"}}
    await client.send({"type": "text-input", "text": text, "source": source})
    heard = None
    while (message := await client.recv(60)) != CHAIN_END:
        if message["type"] == "audio" and message["audio"] and heard is None:
            heard = time.perf_counter() - started
        elif message["type"] == "backend-synth-complete":
            await client.send({"type": "frontend-playback-complete"})
    if heard is None:
        raise RuntimeError(f"no audio for {text!r}")
    return heard


def llm(body: dict[str, Any]) -> str:
    if "long-term memory" in str(body["messages"][0]["content"]):
        return json.dumps({"facts": [{"viewer": 1, "text": "This viewer came back today."}]})
    return REPLY


SETTINGS = {
    "off": {"enabled": False},
    "words": {"extract": "llm", "embeddings": {"provider": "none"}},
    "meaning": {"extract": "llm", "embeddings": {"provider": "local"}},
}


async def wait_indexed(server: KaguraProcess, count: int) -> None:
    """Until the server has loaded the vectors of every note (read from the database)."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        for _ in range(1200):
            memory = (await http.get("/stage/stats")).json()["memory"]
            if memory["vectors"] >= count:
                return
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the index did not load: {memory}")


# The turn's debug line (`FirstAudio.describe`): the LLM request, in ms from the turn's start.
REQUESTED = re.compile(r"LLM request at ([\d.]+) ms")


async def bench_first_audio(
    workdir: Path, db_path: Path, turns: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds to the first audio per setting, and seconds from each turn's start to its
    LLM request (what recall adds on the way, read from the servers' debug timelines)."""
    results: dict[str, list[float]] = {name: [] for name in SETTINGS}
    items = labelled()
    with FakeOpenAI() as fake:
        fake.script = LLMScript(reply=llm, ttft_s=TTFT_S, tokens_per_s=1 / TOKEN_INTERVAL_S)
        base = {
            "llm": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
            "tts": {"provider": "piper"},
            "conversation": {"playback_margin_s": 0.5},
            "stage": {"user_rate_per_min": 0},
            "system": {"log_level": "debug"},  # the turns' timelines
        }
        servers = {}
        for name, memory in SETTINGS.items():
            data = workdir / name / "data"
            data.mkdir(parents=True)
            if name != "off":
                shutil.copy(db_path, data / "memory.sqlite3")
            servers[name] = KaguraProcess(workdir / name, {**base, "memory": memory})
        with servers["off"], servers["words"], servers["meaning"]:
            await wait_indexed(servers["meaning"], FACTS)
            async with (
                StageClient(servers["off"]) as off,
                StageClient(servers["words"]) as words,
                StageClient(servers["meaning"]) as hybrid,
            ):
                clients = {"off": off, "words": words, "meaning": hybrid}
                for client in clients.values():
                    await first_audio(client, "warm-up", "viewer1")  # engines load
                for n in range(turns):
                    item = items[(n * 37) % len(items)]
                    order = list(clients)[n % 3 :] + list(clients)[: n % 3]
                    for which in order:
                        heard = await first_audio(
                            clients[which], item.question, item.viewer, item.uid
                        )
                        results[which].append(heard)
            requested = {
                name: [float(ms) / 1000 for ms in REQUESTED.findall(server.whole_log())][1:]
                for name, server in servers.items()
            }
    return results, requested
