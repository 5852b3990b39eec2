"""The co-host on a real server: regulars greeted, the show opened and closed, idle topics.

A scripted LLM records every prompt; long-term memory is seeded, before the server starts,
with regulars (each with one fact) and the last stream's summary, as an earlier stream
would have left them.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from pathlib import Path
from typing import Any

import httpx

from kagura.memory import MemoryStore, Sighting, ViewerKey
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_START, stage_stats, viewer_and_page
from tests.support.wait import until

from .conftest import fake_engines
from .memory_helpers import brain, is_memory_request, memory_rows, reply_prompts

EVERY_S = 1.0
VIEWERS = 200
REGULARS = range(0, VIEWERS, 20)  # v0, v20, ... v180: known from earlier streams
BANNED = (13, 57)
LAST_STREAM = "We planned a picnic by the lake and argued about sandwiches."
SCOPE = "kagura-default"
MONTH_S = 30 * 86_400.0
GREETING = "(Viewers just came into the stream."
SUMMARIES = "SELECT text FROM notes WHERE kind = 'summary' ORDER BY id"


def fact(n: int) -> str:
    return f"v{n} collects blue marbles number {n}."


async def seed(data_dir: Path) -> None:
    """What an earlier stream left: regulars with a fact each, and its summary."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = MemoryStore(data_dir / "memory.sqlite3")
    await store.open()
    try:
        then = time.time() - MONTH_S
        keys = {n: ViewerKey("bilibili", f"id-v{n}") for n in REGULARS}
        await store.seen(SCOPE, [Sighting(key, f"v{n}", then) for n, key in keys.items()])
        notes: list[Any] = [("fact", fact(n), key, "") for n, key in keys.items()]
        await store.add(SCOPE, [*notes, ("summary", LAST_STREAM, None, "")])
    finally:
        await store.close()


def greetings(fake: FakeOpenAI) -> list[str]:
    return [p for p in reply_prompts(fake.chat_requests()) if p.startswith(GREETING)]


def greeted_count(prompt: str) -> int:
    """Everyone a greeting greets: named, and counted ("and 12 others")."""
    named = len(re.findall(r"\bv\d+ on bilibili", prompt))
    counted = re.findall(r"and (\d+) (?:others?|more regulars)|: (\d+) new viewers?", prompt)
    return named + sum(int(a or b) for a, b in counted)


def summary_requests(fake: FakeOpenAI) -> list[str]:
    """What each summary request asked the LLM to summarise."""
    return [
        str(body["messages"][-1]["content"])
        for body in fake.chat_requests()
        if is_memory_request(body) and '"summary"' in str(body["messages"][0]["content"])
    ]


def total_greeted(fake: FakeOpenAI) -> int:
    return sum(greeted_count(prompt) for prompt in greetings(fake))


async def post(server: KaguraProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_stream_greets_regulars_opens_and_closes(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script = LLMScript(reply=brain)
    config = fake_engines(
        fake,
        memory={"enabled": True},
        stage={"greet_every_s": EVERY_S, "greet_max_names": 5, "user_rate_per_min": 0},
    )
    server = KaguraProcess(tmp_path, config)
    await seed(Path(server.config["system"]["data_dir"]))
    with server:
        async with viewer_and_page(server) as (platform, seen):
            # The show starts: a warm-up drawing on the last stream; a second start is none.
            assert (await post(server, "/stage/show", {"state": "start"}))["changed"]
            await seen.wait_turns(1)
            assert not (await post(server, "/stage/show", {"state": "start"}))["changed"]
            [opening] = reply_prompts(fake.chat_requests())
            assert "stream is starting" in opening and f"«{LAST_STREAM}»" in opening

            for n in BANNED:
                await post(server, "/stage/ban", {"platform": "bilibili", "user_id": f"id-v{n}"})
            for n in range(VIEWERS):  # 200 viewers come in
                await platform.chat("", user=f"v{n}", kind="enter")
            everyone = VIEWERS - len(BANNED)
            await until(lambda: total_greeted(fake) == everyone, 30, "everyone greeted")

            prompts = greetings(fake)
            await seen.wait_turns(1 + len(prompts))  # the opening, then each greeting
            named = re.findall(r"\bv(\d+) on bilibili", "\n".join(prompts))
            assert len(named) == len(set(named))  # nobody twice
            assert not {str(n) for n in BANNED} & set(named)  # a banned viewer never
            for n in REGULARS:  # each regular by name, with what the character remembers
                assert sum(f"v{n} on bilibili: you remember «{fact(n)}»" in p for p in prompts) == 1
            # At most one greeting per EVERY_S (each greeting is a turn of its own).
            starts = [at for at, m in seen.seen if m == CHAIN_START][1:]
            assert len(starts) == len(prompts) <= 1 + VIEWERS // 50
            assert all(b - a >= EVERY_S * 0.9 for a, b in itertools.pairwise(starts))

            # They come in again, one of them chats: answered, and nobody greeted twice.
            turns = len(starts) + 1
            for n in range(VIEWERS):
                await platform.chat("", user=f"v{n}", kind="enter")
            await platform.chat("hello again", user="v5")
            await seen.wait_turns(turns + 1)
            await asyncio.sleep(3 * EVERY_S)  # a greeting would be due by now
            assert len(greetings(fake)) == len(prompts)

            # Supporters, then the show ends: a goodbye naming the top three, a summary kept.
            turns += 1
            for n, amount in ((1, 50), (2, 30), (3, 100), (4, 10)):
                await platform.chat("thanks!", user=f"v{n}", kind="superchat", amount=amount)
            await seen.wait_turns(turns + 4)
            kept, asked_before = len(memory_rows(server, SUMMARIES)), len(summary_requests(fake))
            assert (await post(server, "/stage/show", {"state": "end"}))["changed"]
            await seen.wait_turns(turns + 5)
            closing = reply_prompts(fake.chat_requests())[-1]
            assert "stream is ending" in closing
            assert "top supporters by name: v3 (100), v1 (50), v2 (30)." in closing
            # Written from what the stream said, goodbye included (longer streams have had
            # summaries of their trimmed parts already: one more is added).
            await until(
                lambda: any("stream is ending" in asked for asked in summary_requests(fake)),
                15,
                "the stream's summary asked for",
            )
            asked = len(summary_requests(fake)) - asked_before  # each answer is one note
            await until(lambda: len(memory_rows(server, SUMMARIES)) == kept + asked, 15, "kept")


TOPICS = [f"the history of teapot number {n}" for n in range(8)]


async def test_idle_talk_uses_each_topic_once_then_memory(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script = LLMScript(reply="Let me tell you something.")
    config = fake_engines(
        fake,
        memory={"enabled": True},
        character={"topics": TOPICS},
        stage={"idle_after_s": 0.2},
    )
    server = KaguraProcess(tmp_path, config)
    await seed(Path(server.config["system"]["data_dir"]))
    idle_turns = 20
    with server:
        async with viewer_and_page(server) as (_, seen):
            await seen.wait_turns(idle_turns, timeout=60)
    asked = reply_prompts(fake.chat_requests())[:idle_turns]
    topics = [[t for t in TOPICS if f"«{t}»" in prompt] for prompt in asked[: len(TOPICS)]]
    assert sorted(found for [found] in topics) == sorted(TOPICS)  # every topic, each once
    rest = asked[len(TOPICS) :]
    assert not any(f"«{t}»" in prompt for t in TOPICS for prompt in rest)
    # Then what memory holds, a different note each time (11 notes were seeded).
    remembered = [re.findall(r"drawing on [^«]*«(.*?)»", prompt) for prompt in rest]
    assert all(remembered[: len(REGULARS) + 1])
    said = [found[0] for found in remembered if found]
    assert len(said) == len(set(said)) == len(REGULARS) + 1


async def test_a_platforms_live_events_open_and_close_the_show(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """What a platform client sends when its stream starts and ends (Bilibili's `LIVE` and
    `PREPARING`, YouTube's broadcast end); memory off: every arrival is a newcomer."""
    fake.script = LLMScript(reply="Hello hello!")
    config = fake_engines(fake, stage={"greet_every_s": EVERY_S, "blocked_users": ["Blocky"]})
    with KaguraProcess(tmp_path, config) as server:
        async with viewer_and_page(server) as (platform, seen):
            await platform.chat("", kind="live_start")
            await platform.chat("", kind="live_start")  # Bilibili may say it twice
            await seen.wait_turns(1)
            await platform.chat("", user="Blocky", kind="enter")  # never greeted
            await platform.chat("", user="Zed", kind="enter")
            await seen.wait_turns(2)
            await platform.chat("", kind="live_end")
            await seen.wait_turns(3)
            stats = await stage_stats(server)
    opening, greeting, closing = reply_prompts(fake.chat_requests())
    assert "stream is starting" in opening and "look forward to today" in opening
    assert greeting.endswith("Welcome the newcomers together: Zed on bilibili.)")
    assert "stream is ending" in closing and "thank everyone for watching" in closing
    assert stats["show"]["state"] == "end" and seen.count(lambda m: m == CHAIN_START) == 3


async def test_a_busy_stream_still_greets_but_chat_goes_first(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """Chat never stops waiting here; a greeting still comes, at most every three intervals
    (a simulated busy stream greeted nobody when greetings waited for a quiet moment)."""
    every_s = 0.5
    fake.script = LLMScript(reply="Sure thing, let me answer that one.", tokens_per_s=40)
    config = fake_engines(
        fake, stage={"greet_every_s": every_s, "user_rate_per_min": 0, "batch_max": 1}
    )
    with KaguraProcess(tmp_path, config) as server:
        async with viewer_and_page(server) as (platform, seen):
            for n in range(40):  # more chat than the character can answer meanwhile
                await platform.chat(f"question number {n}?", user=f"c{n}")
            await until(lambda: len(reply_prompts(fake.chat_requests())) >= 1, 10, "busy")
            for n in range(3):
                await platform.chat("", user=f"guest{n}", kind="enter")
            await until(lambda: len(greetings(fake)) >= 1, 30, "a greeting amid the chat")
            stats = await stage_stats(server)
            assert sum(stats["waiting"].values()) > 0  # chat was still waiting
            prompts = reply_prompts(fake.chat_requests())
            first_greeting = next(i for i, p in enumerate(prompts) if p.startswith(GREETING))
            assert first_greeting >= 1  # chat went first
            starts = [at for at, m in seen.seen if m == CHAIN_START]
            assert len(starts) >= first_greeting + 1
