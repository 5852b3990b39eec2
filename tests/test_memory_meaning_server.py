"""Recall by meaning end to end: a real server with the embedded embedding model, a memory
database written before it starts (its vectors are made at start-up, as after an upgrade),
viewers chatting on the stage, and the prompts the LLM received."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kagura.memory import SHARED, MemoryStore, Sighting, ViewerKey
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher
from tests.support.wait import until

from .conftest import fake_engines
from .memory_helpers import ALICE_LATER, MOCHI, MOCHI_ZH, reply_prompts

NOTES: dict[str, list[str]] = {  # oldest first: the cats are not among the five newest
    "Alice": [MOCHI, *ALICE_LATER],
    "爱丽丝": [
        MOCHI_ZH,
        "爱丽丝周末在面包店打工。",
        "爱丽丝正在学开车。",
        "爱丽丝喜欢看侦探剧。",
        "爱丽丝搬到了河边的公寓。",
        "爱丽丝最喜欢绿色。",
    ],
    # Other viewers' cats: as close in meaning, and never in Alice's turn.
    "Bob": ["Bob's kitten is named Tom and loves boxes."],
    "小王": ["小王的猫叫可乐，很胖。"],
}
COUNT = sum(len(texts) for texts in NOTES.values())


async def seed(data_dir: Path) -> None:
    """The memory a past stream left, written as Kagura writes it (no vectors yet)."""
    store = MemoryStore(data_dir / "memory.sqlite3")
    await store.open()
    try:
        now = time.time()
        for name, texts in NOTES.items():
            key = ViewerKey("bilibili", f"id-{name}")
            await store.seen(SHARED, [Sighting(key, name, now)])
            for text in texts:  # one at a time: ids in this order
                await store.add(SHARED, [("fact", text, key, "")])
    finally:
        await store.close()


def server(fake: FakeOpenAI, workdir: Path, provider: str, **embeddings: Any) -> KaguraProcess:
    memory = {
        "enabled": True,
        "extract": "counters",  # nothing new is written: the prompts show recall only
        "shared_across_characters": True,
        "embeddings": {"provider": provider, **embeddings},
    }
    config = fake_engines(fake, memory=memory, stage={"user_rate_per_min": 0})
    config["system"] = {**config["system"], "data_dir": str(workdir / "data")}
    return KaguraProcess(workdir, config)


async def memory_stats(kagura: KaguraProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=kagura.http_url, timeout=10) as http:
        response = await http.get("/stage/stats")
    assert response.status_code == 200, response.text
    memory: dict[str, Any] = response.json()["memory"]
    return memory


async def ask(kagura: KaguraProcess, fake: FakeOpenAI, text: str, user: str) -> str:
    """The reply prompt of `user` saying `text` on the stage."""
    fake.clear_requests()
    async with StageClient(kagura) as admin, Watcher(admin) as seen:
        await admin.chat(text, user=user)
        await seen.wait_turns(1, timeout=20)
    [prompt] = reply_prompts(fake.chat_requests())
    return prompt


@pytest.mark.parametrize(
    ("user", "question", "meant", "others"),
    [
        ("Alice", "how is my kitty?", MOCHI, ("Tom", "可乐", "麻薯")),
        ("爱丽丝", "我的猫咪怎么样？", MOCHI_ZH, ("Tom", "可乐", "Mochi")),
    ],
    ids=["en", "zh"],
)
async def test_a_question_recalls_the_fact_it_means_and_no_one_elses(
    fake: FakeOpenAI, tmp_path: Path, user: str, question: str, meant: str, others: tuple[str]
) -> None:
    await seed(tmp_path / "data")
    with server(fake, tmp_path, "local") as kagura:
        stats = await until(
            lambda: _indexed(kagura), 60, "the vectors of the notes written before the start"
        )
        assert stats["embeddings"] == "ok"
        prompt = await ask(kagura, fake, question, user)
    assert f"«{meant}»" in prompt, prompt
    for word in others:
        assert word not in prompt, prompt


async def _indexed(kagura: KaguraProcess) -> dict[str, Any] | None:
    stats = await memory_stats(kagura)
    return stats if stats["vectors"] == COUNT else None


async def test_by_words_alone_the_question_finds_nothing(fake: FakeOpenAI, tmp_path: Path) -> None:
    """The same memory with `provider: none`: what recall by meaning adds, shown missing."""
    await seed(tmp_path / "data")
    with server(fake, tmp_path, "none") as kagura:
        stats = await memory_stats(kagura)
        assert (stats["embeddings"], stats["vectors"]) == ("off", 0)
        prompt = await ask(kagura, fake, "how is my kitty?", "Alice")
    assert "Alice is learning to drive." in prompt  # among her profile's five newest facts
    assert "Mochi" not in prompt, prompt


async def test_a_waiting_message_is_embedded_while_it_waits(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """With an embeddings server (`provider: openai`): the message queued behind a turn has
    its embedding asked for at once, not when its own turn starts, and only once."""
    await seed(tmp_path / "data")
    fake.script = LLMScript(reply="Let me think about that one.", ttft_s=1.0)
    with server(fake, tmp_path, "openai", openai={"base_url": fake.base_url}) as kagura:
        await until(lambda: _indexed(kagura), 60, "the vectors of the notes")
        fake.clear_requests()
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            await admin.chat("first one", user="Bob")
            await seen.wait_for(lambda m: m.get("text") == "conversation-chain-start")
            await admin.chat("how is my kitty?", user="Alice")  # waits for the first turn
            await seen.wait_turns(2, timeout=30)
    [embedded] = [
        r.at
        for r in fake.requests
        if r.path.endswith("/embeddings") and r.body["input"] == ["how is my kitty?"]
    ]
    asked = [
        r.at
        for r in fake.requests
        if r.path.endswith("/chat/completions") and "how is my kitty?" in str(r.body)
    ]
    # Asked while the first turn still waited a second for its first token, not at the
    # start of its own turn.
    assert asked and asked[0] - embedded > 0.5, (embedded, asked)
