"""The guard model on real servers: every segment of a reply is judged before a page hears
it; a slow, unreachable or garbled guard follows `on_failure`. The servers talk to the
scripted fake LLM and fake TTS and to the module's fake guard; nothing of Kagura is patched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from kagura.testing.fake_guard import CHAT_PATH, MODERATION_PATH, FakeGuard, GuardScript
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, stage_stats, watched_page

from .conftest import fake_engines
from .guard_helpers import GUARD_KEY, LLAMA, QWEN, SAID_ALL, said

# --- on a real server ------------------------------------------------------------------


def guarded(
    folder: str, on_block: str = "cut", lists: dict[str, Any] | None = None, **settings: Any
) -> Any:
    """A module-scoped `kagura serve` whose guard model is the module's fake guard."""

    @pytest.fixture(scope="module")
    def server(
        fake: FakeOpenAI, guard: FakeGuard, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[KaguraProcess]:
        section = {"provider": "chat_classifier", "base_url": guard.base_url, **settings}
        safety = {"on_block": on_block, "guard": section, **(lists or {})}
        config = fake_engines(fake, safety=safety)
        with KaguraProcess(tmp_path_factory.mktemp(folder), config) as process:
            yield process

    return server


moderating = guarded(
    "moderating", provider="openai_moderation", model="omni-moderation-latest",
    api_key=GUARD_KEY, timeout_ms=400,
)  # fmt: skip
replacing = guarded(
    "replacing", "replace", {"blocked_words": ["pineapple"]},
    model=QWEN, on_failure="drop", timeout_ms=2000,
)  # fmt: skip
strict = guarded("strict", model=QWEN, block="controversial", on_failure="pass", timeout_ms=300)
llama = guarded("llama", model=LLAMA, format="llamaguard")


async def private_turn(server: KaguraProcess, text: str) -> list[dict[str, Any]]:
    async with ProtocolClient(server.ws_url) as session:
        await session.connect_sequence()
        return await session.turn(text, timeout=30)


async def test_an_unsafe_sentence_never_reaches_a_page(
    moderating: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    guard.script = GuardScript(unsafe={"knife": ("violence",)})
    fake.script = LLMScript(reply="Hello there, nice to see you. I will get the knife. See you.")
    async with watched_page(moderating) as seen, StageClient(moderating) as admin:
        await admin.connect_sequence()
        await admin.send({"type": "text-input", "text": "What now?"})
        await seen.wait_turns(1, timeout=20)
    assert said(seen.messages) == ["Hello there,", " nice to see you."]
    assert not any("knife" in str(m) for m in seen.messages)
    assert "(guard:unsafe (violence))" in moderating.whole_log()
    inputs = [body["input"] for body in guard.bodies(MODERATION_PATH)]
    assert inputs[:3] == [
        "Hello there,",
        "Hello there, nice to see you.",
        "Hello there, nice to see you. I will get the knife.",
    ]
    assert {body["model"] for body in guard.bodies(MODERATION_PATH)} == {"omni-moderation-latest"}
    assert {r.authorization for r in guard.requests} == {f"Bearer {GUARD_KEY}"}
    assert (await stage_stats(moderating))["safety"] == {"guard": "ok"}
    assert GUARD_KEY not in moderating.whole_log()


async def test_hold_withholds_what_a_slow_guard_has_not_judged(
    moderating: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    guard.script = GuardScript(delay_s=2.0)
    fake.script = LLMScript(reply="Hello there. Bye now.")
    before = moderating.whole_log().count("(guard:unavailable)")
    started = time.monotonic()
    assert said(await private_turn(moderating, "Hi")) == []  # and on_block: cut ends it
    assert time.monotonic() - started < 1.5  # not the guard's 2 s: timeout_ms is 400
    assert moderating.whole_log().count("(guard:unavailable)") == before + 1
    status = (await stage_stats(moderating))["safety"]["guard"]
    slow = f"failing: {guard.base_url}/moderations (no answer within 400 ms). Is it overloaded?"
    assert status.startswith(slow) and "safety.guard.timeout_ms" in status


async def test_an_unreachable_guard_is_told_once_with_its_url(
    moderating: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    url = f"{guard.base_url}/moderations"
    told = f"safety: guard model unreachable: {url} (connection refused)"
    fake.script = LLMScript(reply="Hello there. Nice day. Bye now.")
    assert len(said(await private_turn(moderating, "Hi"))) == 3  # answering: no outage yet
    before = moderating.whole_log().count(told)
    guard.pause()
    assert said(await private_turn(moderating, "Hi")) == []
    assert said(await private_turn(moderating, "Hi again")) == []
    status = (await stage_stats(moderating))["safety"]["guard"]
    assert status.startswith(f"unreachable: {url} (connection refused). ")
    assert status.endswith("fix safety.guard.base_url.")
    assert moderating.whole_log().count(told) == before + 1
    assert "fix safety.guard.base_url" in moderating.whole_log()
    guard.resume()
    assert said(await private_turn(moderating, "Back?")) == [
        "Hello there.",
        " Nice day.",
        " Bye now.",
    ]
    assert (await stage_stats(moderating))["safety"]["guard"] == "ok"
    guard.pause()
    assert said(await private_turn(moderating, "Gone?")) == []
    assert moderating.whole_log().count(told) == before + 2


async def test_garbage_from_the_guard_is_never_safe(
    moderating: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    guard.script = GuardScript(failure="garbage")
    fake.script = LLMScript(reply="Hello there.")
    assert said(await private_turn(moderating, "Hi")) == []
    status = (await stage_stats(moderating))["safety"]["guard"]
    assert status.startswith(f"failing: {guard.base_url}/moderations (not a moderation verdict")


async def test_replace_says_the_line_and_the_rest_is_judged_without_it(
    replacing: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    fake.script = LLMScript(reply="Hello there. I will get the knife. Bye now.")
    turn = await private_turn(replacing, "What now?")
    assert said(turn) == ["Hello there.", " Let's not go there.", " Bye now."]
    assert all(m["audio"] for m in turn if m["type"] == "audio")
    assert "(guard:unsafe (Violent))" in replacing.whole_log()
    asked = guard.bodies(CHAT_PATH)
    prompt = fake.chat_requests()[-1]["messages"][-1]["content"]
    assert {body["messages"][0]["content"] for body in asked} == {prompt}
    assert {body["model"] for body in asked} == {QWEN}
    replies = [body["messages"][1]["content"] for body in asked]
    assert "Hello there. I will get the knife." in replies
    assert "Hello there. Let's not go there. Bye now." in replies  # judged again without it


async def test_the_lists_come_first_and_their_line_is_not_asked_about(
    replacing: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    fake.script = LLMScript(reply="Hello there. I love pineapple. Bye now.")
    assert said(await private_turn(replacing, "Hi")) == [
        "Hello there.",
        " Let's not go there.",
        " Bye now.",
    ]
    assert "(word:pineapple)" in replacing.whole_log()
    replies = [body["messages"][1]["content"] for body in guard.bodies(CHAT_PATH)]
    assert sorted(replies) == ["Hello there.", "Hello there. Let's not go there. Bye now."]


async def test_controversial_passes_when_only_unsafe_is_blocked(
    replacing: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=" ".join(SAID_ALL))
    assert said(await private_turn(replacing, "Hi")) == SAID_ALL


async def test_drop_withholds_at_once_when_the_guard_is_down(
    replacing: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    fake.script = LLMScript(reply="Hello there.")
    guard.pause()
    started = time.monotonic()
    assert said(await private_turn(replacing, "Hi")) == ["Let's not go there."]
    assert time.monotonic() - started < 1.5  # timeout_ms is 2000: no waiting for it
    guard.resume()
    guard.script = GuardScript(failure="garbage")
    assert said(await private_turn(replacing, "Hi")) == ["Let's not go there."]


async def test_controversial_is_blocked_when_asked(strict: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=" ".join(SAID_ALL))
    assert said(await private_turn(strict, "Hi")) == ["Hello there."]
    assert "(guard:controversial)" in strict.whole_log()


async def test_pass_says_everything_when_the_guard_fails(
    strict: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    fake.script = LLMScript(reply="Hello there. Bye now.")
    for failure in ("slow", "refused", "status_500"):
        guard.script = GuardScript(delay_s=2.0 if failure == "slow" else 0.0)
        if failure == "refused":
            guard.pause()
        if failure == "status_500":
            guard.resume()
            guard.script = GuardScript(failure="status_500")
        assert said(await private_turn(strict, "Hi")) == ["Hello there.", " Bye now."], failure
    assert "segments are said without its verdict (on_failure: pass)" in strict.whole_log()


async def test_llama_guard_names_its_categories(
    llama: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    guard.script = GuardScript(unsafe={"knife": ("S1", "S10")}, controversial=("beer",))
    fake.script = LLMScript(reply=" ".join(SAID_ALL))
    assert said(await private_turn(llama, "Hi")) == SAID_ALL
    fake.script = LLMScript(reply="Hello there. I will get the knife. Bye now.")
    assert said(await private_turn(llama, "Hi")) == ["Hello there."]
    assert "(guard:unsafe (S1, S10))" in llama.whole_log()


async def test_the_verdict_runs_while_the_segment_is_synthesised(
    llama: KaguraProcess, fake: FakeOpenAI, guard: FakeGuard
) -> None:
    """Guard and TTS each take 0.6 s: one after the other the first audio would come after
    1.2 s; side by side, after about 0.6 s."""
    guard.script = GuardScript(delay_s=0.6)
    fake.tts_script = TTSScript(latency_s=0.6)
    fake.script = LLMScript(reply="Hello there.")
    async with ProtocolClient(llama.ws_url) as session:
        await session.connect_sequence()
        started = time.monotonic()
        await session.send({"type": "text-input", "text": "Hi"})
        await session.recv_until("audio", timeout=10)
        first_audio_s = time.monotonic() - started
        await session.recv_until("control", "conversation-chain-end", timeout=10)
    assert 0.6 <= first_audio_s < 1.1
