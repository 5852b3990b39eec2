"""Memory belongs to its viewer (issue #23): a namesake's `!forget me` erases only them, and a
raid of strangers erases nobody. Real servers, real stage clients, a scripted LLM."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher, stage_stats
from tests.support.wait import wait_until

from .conftest import fake_engines
from .memory_helpers import is_memory_request, memory_rows

REPLY = "Nice to hear from you."
ALICE_FACT = "Alice has a cat named Tom."
ALI_FACT = "Ali likes pasta."
OTHER_ALI_FACT = "This Ali plays the guitar."
BOB_FACT = "Bob's dog is called Rex."
ITALIAN = "The stream talked about Italian cooking."
# Extraction answers by a word of the exchange: (the viewer's number or None, the fact).
FACTS: dict[str, tuple[int | None, str]] = {
    "Tom": (1, ALICE_FACT),
    "pasta": (1, ALI_FACT),
    "guitar": (1, OTHER_ALI_FACT),
    "Rex": (1, BOB_FACT),
    "Italian": (None, ITALIAN),
}


def brain(body: dict[str, Any]) -> str:
    if not is_memory_request(body):
        return REPLY
    said = str(body["messages"][-1]["content"])
    facts = [{"viewer": who, "text": text} for word, (who, text) in FACTS.items() if word in said]
    return json.dumps({"facts": facts})


def server(fake: FakeOpenAI, workdir: Path, **memory: Any) -> KaguraProcess:
    stage = {"user_rate_per_min": 0, "greet_every_s": 0}
    config = fake_engines(fake, memory={"enabled": True, **memory}, stage=stage)
    return KaguraProcess(workdir, config)


async def send(client: StageClient, text: str, name: str, uid: str) -> None:
    source = {"platform": "bilibili", "kind": "danmaku", "user": {"name": name, "id": uid}}
    await client.send({"type": "text-input", "text": text, "source": source})


async def say(client: StageClient, seen: Watcher, text: str, name: str, uid: str) -> None:
    """One viewer's message, answered: waits for its turn to end."""
    turns = seen.count(lambda m: m == {"type": "control", "text": "conversation-chain-end"})
    await send(client, text, name, uid)
    await seen.wait_turns(turns + 1, timeout=20)


def facts_of(kagura: KaguraProcess, uid: str) -> list[str]:
    query = "SELECT n.text FROM notes AS n JOIN viewers AS v ON v.id = n.viewer_id WHERE v.uid = ?"
    return [row[0] for row in memory_rows(kagura, query, uid)]


def general_notes(kagura: KaguraProcess) -> list[str]:
    return [row[0] for row in memory_rows(kagura, "SELECT text FROM notes WHERE viewer_id IS NULL")]


async def test_a_namesakes_forget_me_erases_only_them(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path) as kagura:
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            await say(admin, seen, "my cat is called Tom", "Alice", "1")
            await say(admin, seen, "I love pasta", "Ali", "2")
            await say(admin, seen, "I play the guitar", "Ali", "3")  # same name, another uid
            await say(admin, seen, "we cooked Italian food today", "Bob", "4")
            wait_until(lambda: ITALIAN in general_notes(kagura), 15, "the Italian note")
            wait_until(lambda: facts_of(kagura, "3"), 15, "the other Ali's fact")
            assert facts_of(kagura, "1") == [ALICE_FACT]
            assert facts_of(kagura, "2") == [ALI_FACT]
            before = len(memory_rows(kagura, "SELECT id FROM notes"))
            assert before == 4

            await say(admin, seen, "!forget me", "Ali", "2")
            fake.clear_requests()
            await say(admin, seen, "what did everyone say?", "Carol", "5")
        uids = [row[0] for row in memory_rows(kagura, "SELECT uid FROM viewers")]
        assert "2" not in uids and {"1", "3", "4", "5"} <= set(uids)
        assert facts_of(kagura, "2") == []
        assert facts_of(kagura, "1") == [ALICE_FACT]  # not a substring match on "Ali"
        assert facts_of(kagura, "3") == [OTHER_ALI_FACT]  # the namesake keeps theirs
        assert general_notes(kagura) == [ITALIAN]  # "Ital-ian" is not "Ali"
        assert len(memory_rows(kagura, "SELECT id FROM notes")) == before - 1
    [prompt] = [p for p in all_reply_messages(fake)]
    assert "my cat is called Tom" in prompt  # Alice's line is kept
    assert "I play the guitar" in prompt  # and the other Ali's
    assert "I love pasta" not in prompt  # the Ali who asked is gone
    assert "removed at their request" in prompt


def all_reply_messages(fake: FakeOpenAI) -> list[str]:
    """Every message of each reply request, joined: what the model was shown."""
    return [
        "\n".join(str(m["content"]) for m in body["messages"])
        for body in fake.chat_requests()
        if not is_memory_request(body)
    ]


RAID = 100_000
MAX_VIEWERS = 4  # Alice, Bob and two strangers: the raiders answered must evict each other
# Drops of events that had been accepted first: counted in `accepted` already.
AFTER_ACCEPTED = frozenset({"overflow", "expired", "cleared", "skipped"})


async def offers(kagura: KaguraProcess) -> tuple[int, dict[str, Any]]:
    """How many events the stage has been offered (each accepted or refused once)."""
    stats = await stage_stats(kagura)
    refused = sum(n for why, n in stats["dropped"].items() if why not in AFTER_ACCEPTED)
    return int(stats["accepted"] + refused), stats


async def test_a_raid_of_strangers_keeps_every_earlier_viewer(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path, max_viewers=MAX_VIEWERS) as kagura:
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            await say(admin, seen, "my cat is called Tom", "Alice", "1")
            await say(admin, seen, "my dog is Rex", "Bob", "2")
            wait_until(lambda: facts_of(kagura, "2"), 15, "Bob's fact")
            offered, _ = await offers(kagura)
        async with StageClient(kagura, "platform") as platform:
            await platform.connect_sequence()
            started = time.monotonic()
            for n in range(RAID):
                await send(platform, f"hello from the raid {n}", f"raider{n}", f"r{n}")
            sent_s = time.monotonic() - started
            deadline = time.monotonic() + 60
            while (await offers(kagura))[0] < offered + RAID and time.monotonic() < deadline:
                await platform.quiet(0.2)
            took_s = time.monotonic() - started
            total, stats = await offers(kagura)
            assert total == offered + RAID, "the server did not take the whole raid"
        print(f"raid: {RAID} events sent in {sent_s:.1f} s, taken in {took_s:.1f} s; {stats}")
        assert facts_of(kagura, "1") == ["Alice has a cat named Tom."]
        assert facts_of(kagura, "2") == [BOB_FACT]
        assert stats["accepted"] - stats["answered"] > 0.99 * RAID  # nearly all never answered

        def viewers() -> int:
            return int(memory_rows(kagura, "SELECT count(*) FROM viewers")[0][0])

        wait_until(lambda: viewers() <= MAX_VIEWERS, 10, "the viewer cap")
        uids = {row[0] for row in memory_rows(kagura, "SELECT uid FROM viewers")}
        assert {"1", "2"} <= uids
