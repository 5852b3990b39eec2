"""Long-term memory end to end: a real server, real stage clients, a scripted LLM that
answers memory requests with extraction JSON, and the database read as it is on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher
from tests.support.wait import wait_until

from .conftest import fake_engines
from .memory_helpers import (
    MALFORMED,
    SUMMARY,
    brain,
    facts_of,
    is_memory_request,
    memory_rows,
    reply_prompts,
    viewer_uids,
)

NO_RATE_LIMIT = {"user_rate_per_min": 0}
ON = {"enabled": True}


def server(
    fake: FakeOpenAI, workdir: Path, llm: dict[str, Any] | None = None, **memory: Any
) -> KaguraProcess:
    """Memory on (with `memory` settings), and no per-viewer rate limit: a test's viewer may
    say more than three things at once."""
    config = fake_engines(fake, memory={**ON, **memory}, stage=NO_RATE_LIMIT, llm=llm or {})
    return KaguraProcess(workdir, config)


async def say(client: StageClient, seen: Watcher, text: str, user: str) -> None:
    """One viewer's message, answered: waits for its turn to end."""
    turns = seen.count(lambda m: m == {"type": "control", "text": "conversation-chain-end"})
    await client.chat(text, user=user)
    await seen.wait_turns(turns + 1, timeout=20)


async def test_a_viewer_is_remembered_across_a_restart(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path) as first:
        async with StageClient(first) as admin, Watcher(admin) as seen:
            await say(admin, seen, "my cat is called Mochi", "Alice")
            await say(admin, seen, "my dog is called Rex", "Bob")
        wait_until(lambda: facts_of(first, "id-Bob"), 15, "Bob's fact in the database")
        assert facts_of(first, "id-Alice") == ["Alice's cat is called Mochi."]
    fake.clear_requests()
    with server(fake, tmp_path) as second:  # the next stream: same data folder
        async with StageClient(second) as admin, Watcher(admin) as seen:
            await say(admin, seen, "do you remember my cat?", "Alice")
    [prompt] = reply_prompts(fake.chat_requests())
    assert "do you remember my cat?" in prompt
    assert "Mochi" in prompt
    assert "Rex" not in prompt and "Bob" not in prompt
    # Framed as data: quoted, inside Kagura's own marks, before the viewer's line.
    assert "«Alice's cat is called Mochi.»" in prompt
    assert prompt.index("[End of memory") < prompt.index("Alice on bilibili says")


async def test_trimmed_memory_is_summarised_and_recalled(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path, llm={"memory_budget_tokens": 64}) as kagura:
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            for n in range(4):  # about 30 tokens a turn: the budget overflows
                await say(admin, seen, f"tell me a long story about the volcano, part {n}", "Dee")
            wait_until(
                lambda: memory_rows(kagura, "SELECT text FROM notes WHERE kind = 'summary'"),
                15,
                "a summary of the trimmed conversation",
            )
            fake.clear_requests()
            await say(admin, seen, "what about that volcano?", "Eve")
    [prompt] = reply_prompts(fake.chat_requests())
    assert SUMMARY in prompt


def summary_requests(fake: FakeOpenAI) -> list[str]:
    """What each summary request asked the LLM to summarise."""
    return [
        str(body["messages"][-1]["content"])
        for body in fake.chat_requests()
        if is_memory_request(body) and '"summary"' in str(body["messages"][0]["content"])
    ]


async def test_a_stream_ends_with_a_summary_without_a_forgotten_viewer(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script = LLMScript(reply=brain)
    summaries = "SELECT text FROM notes WHERE kind = 'summary'"
    with server(fake, tmp_path) as first:
        async with StageClient(first) as admin, Watcher(admin) as seen:
            await say(admin, seen, "we are planning a volcano trip", "Fay")
            await say(admin, seen, "my cat is called Mochi", "Alice")
            await say(admin, seen, "!forget me", "Alice")
        assert memory_rows(first, summaries) == []  # the stream is still on
    # Stopped: the stream's summary was asked for, and kept.
    [asked] = summary_requests(fake)
    assert "volcano trip" in asked
    assert "Mochi" not in asked and "Alice" not in asked
    assert memory_rows(first, summaries) == [(SUMMARY,)]
    fake.clear_requests()
    with server(fake, tmp_path) as second:  # the next stream remembers the last one
        async with StageClient(second) as admin, Watcher(admin) as seen:
            await say(admin, seen, "what about that volcano?", "Gus")
    [prompt] = reply_prompts(fake.chat_requests())
    assert SUMMARY in prompt


async def test_malformed_extraction_is_dropped(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path) as kagura:
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            await say(admin, seen, f"{MALFORMED}: I like tea", "Carol")
            wait_until(lambda: "dropped the LLM's facts answer" in kagura.log(), 15, "the log")
            await say(admin, seen, "I play the piano", "Carol")
        wait_until(lambda: facts_of(kagura, "id-Carol"), 15, "Carol's piano fact")
        # The malformed answer left nothing; the good one after it was kept.
        assert facts_of(kagura, "id-Carol") == ["This viewer plays the piano."]
        assert kagura.log().count("dropped the LLM's facts answer") == 1


async def test_forget_me_and_the_console_delete_everything(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path) as kagura:
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            await say(admin, seen, "my cat is called Mochi", "Alice")
            await say(admin, seen, "I play the piano", "Bob")
            wait_until(lambda: facts_of(kagura, "id-Bob"), 15, "Bob's fact")
            assert facts_of(kagura, "id-Alice")
            asked = len(fake.chat_requests())
            await say(admin, seen, "!Forget me", "Alice")
        spoken = [m.get("display_text", {}).get("text", "") for m in seen.messages]
        assert any("forgotten everything" in text for text in spoken)
        assert "id-Alice" not in viewer_uids(kagura)
        assert facts_of(kagura, "id-Alice") == []
        assert memory_rows(kagura, "SELECT count(*) FROM notes WHERE text LIKE '%Alice%'") == [(0,)]
        # The command never reached the LLM.
        assert all("orget me" not in str(body) for body in fake.chat_requests()[asked:])

        # The console: a page may not read memory; the admin finds Bob and deletes him.
        url = f"{kagura.http_url}/memory"
        assert httpx.get(f"{url}/viewers", params={"role": "page"}).status_code == 403
        [bob] = httpx.get(f"{url}/viewers", params={"search": "bob"}).json()["viewers"]
        notes = httpx.get(f"{url}/notes", params={"viewer_id": bob["id"]}).json()["notes"]
        assert [note["text"] for note in notes] == ["This viewer plays the piano."]
        edited = httpx.patch(f"{url}/notes/{notes[0]['id']}", json={"text": "Bob plays jazz."})
        assert edited.status_code == 200
        assert facts_of(kagura, "id-Bob") == ["Bob plays jazz."]
        assert httpx.delete(f"{url}/viewers/{bob['id']}").status_code == 200
        assert viewer_uids(kagura) == []
        assert memory_rows(kagura, "SELECT count(*) FROM notes") == [(0,)]
        # The search index forgot them too.
        search = "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'jazz'"
        assert memory_rows(kagura, search) == [(0,)]


async def test_retention_limits_hold(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path, max_viewers=2, max_facts=1) as kagura:
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            await say(admin, seen, "my cat is called Mochi", "Alice")
            wait_until(lambda: facts_of(kagura, "id-Alice"), 15, "Alice's fact")
            await say(admin, seen, "I play the piano", "Bob")
            wait_until(lambda: facts_of(kagura, "id-Bob"), 15, "Bob's fact")
            await say(admin, seen, "hello there", "Carol")
            wait_until(lambda: "id-Carol" in viewer_uids(kagura), 15, "Carol's profile")
        assert viewer_uids(kagura) == ["id-Bob", "id-Carol"]
        assert memory_rows(kagura, "SELECT text FROM notes") == [("This viewer plays the piano.",)]


async def test_a_chinese_fact_is_recalled_by_a_chinese_question(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script = LLMScript(reply=brain)
    with server(fake, tmp_path) as kagura:
        async with StageClient(kagura) as admin, Watcher(admin) as seen:
            await say(admin, seen, "主播下周是不是要去北海道？", "小林")
            wait_until(
                lambda: memory_rows(kagura, "SELECT 1 FROM notes WHERE text LIKE '%北海道%'"),
                15,
                "the stream fact",
            )
            fake.clear_requests()
            # Another viewer, another wording: found by the words they share.
            await say(admin, seen, "北海道旅行是什么时候？", "小王")
    [prompt] = reply_prompts(fake.chat_requests())
    assert "主播下周要去北海道旅行。" in prompt
