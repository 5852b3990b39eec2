"""The guard model (`safety.guard`): its parsers, its client on the real wire, and the servers
that ask it about every segment.

A fake guard (`kagura.testing.fake_guard`) speaks OpenAI's moderation API and answers chat
completions as Qwen3Guard-Gen or Llama Guard; it can be slow, answer garbage, fail, or be
paused so that its port refuses connections. The servers talk to the scripted fake LLM and
fake TTS; nothing of Kagura is patched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kagura.config import GuardConfig, KaguraConfig
from kagura.runtime import Runtime
from kagura.safety import UNAVAILABLE, GarbledVerdict, GuardFailure, GuardModel, Verdict
from kagura.safety.classifier import NO_INPUT, parse_llamaguard, parse_qwen3guard
from kagura.safety.moderation import parse_moderation
from kagura.testing.fake_guard import CHAT_PATH, MODERATION_PATH, FakeGuard, GuardScript
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, stage_stats, watched_page

from .conftest import fake_engines

GUARD_KEY = "sk-guard-secret-7f3a"
QWEN = "Qwen3Guard-Gen-0.6B"
LLAMA = "llama-guard3:1b"
KNIFE = {"knife": ("Violent",)}
SAID_ALL = ["Hello there.", " Let us have a beer.", " Bye now."]


def said(messages: list[dict[str, Any]]) -> list[str]:
    return [m["display_text"]["text"] for m in messages if m["type"] == "audio"]


# --- the parsers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("Safety: Safe\nCategories: None\nRefusal: No", Verdict("safe")),
        ("Safety: Unsafe\nCategories: Violent\nRefusal: No", Verdict("unsafe", ("Violent",))),
        (
            "  safety :  UNSAFE \r\ncategories: Violent,  PII , \nRefusal: No\n",
            Verdict("unsafe", ("Violent", "PII")),
        ),
        (
            "Safety: Controversial\nCategories: Politically Sensitive Topics",
            Verdict("controversial", ("Politically Sensitive Topics",)),
        ),
        ("Safety: Unsafe", Verdict("unsafe")),
        ("\n\nSafety: Safe\n", Verdict("safe")),
    ],
)
def test_qwen3guard_answers(answer: str, verdict: Verdict) -> None:
    assert parse_qwen3guard(answer) == verdict


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("safe", Verdict("safe")),
        ("\n\n Safe \n", Verdict("safe")),
        ("unsafe\nS1", Verdict("unsafe", ("S1",))),
        ("UNSAFE\ns1, S10 ", Verdict("unsafe", ("S1", "S10"))),
        ("unsafe", Verdict("unsafe")),
    ],
)
def test_llamaguard_answers(answer: str, verdict: Verdict) -> None:
    assert parse_llamaguard(answer) == verdict


@pytest.mark.parametrize(
    "answer",
    ["", "I think it is fine.", "Safety: Maybe", "Safety: Safe\nSafety: Unsafe", "Safe: yes"],
)
def test_qwen3guard_garbage_is_no_verdict(answer: str) -> None:
    with pytest.raises(GarbledVerdict):
        parse_qwen3guard(answer)


@pytest.mark.parametrize(
    "answer", ["", "sure", "safe\nS1", "unsafe\nviolence", "unsafe\nS1\nS2", "safe.", "unsafe S1"]
)
def test_llamaguard_garbage_is_no_verdict(answer: str) -> None:
    with pytest.raises(GarbledVerdict):
        parse_llamaguard(answer)


def test_moderation_answers() -> None:
    flagged = {"flagged": True, "categories": {"violence": True, "hate": False}}
    assert parse_moderation({"results": [flagged]}) == Verdict("unsafe", ("violence",))
    fine = {"flagged": False, "categories": {"violence": False}}
    assert parse_moderation({"id": "m", "results": [fine]}) == Verdict("safe")
    for garbage in ({}, {"results": []}, {"results": [{"flagged": "no"}]}, [1], "safe", None):
        with pytest.raises(GarbledVerdict):
            parse_moderation(garbage)


def test_the_verdict_blocks_per_the_streamers_choice() -> None:
    controversial = Verdict("controversial")
    assert not controversial.blocks("unsafe") and controversial.blocks("controversial")
    assert Verdict("unsafe").blocks("unsafe") and not Verdict("safe").blocks("controversial")
    assert Verdict("unsafe", ("S1", "S10")).rule == "guard:unsafe (S1, S10)"


def test_config_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="needs base_url"):
        GuardConfig(provider="openai_moderation")
    with pytest.raises(ValueError, match="needs model"):
        GuardConfig(provider="chat_classifier", base_url="http://127.0.0.1:8000/v1")
    with pytest.raises(ValueError):
        GuardConfig(timeout_ms=10)
    assert KaguraConfig().safety.guard.provider == "none"


def test_no_provider_no_client(tmp_path: Path) -> None:
    """`provider: none` builds nothing and asks nothing; the admin page says "off"."""
    config = KaguraConfig.model_validate({"system": {"data_dir": str(tmp_path)}})
    runtime = Runtime.from_config(config)
    assert runtime.guard_model is None and runtime.guard_status == "off"


# --- the client on the real wire -------------------------------------------------------


@pytest.fixture(scope="module")
def guard() -> Iterator[FakeGuard]:
    with FakeGuard() as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts from a guard that answers at once and has heard nothing."""
    if "guard" not in request.fixturenames:
        yield
        return
    server: FakeGuard = request.getfixturevalue("guard")
    server.script = GuardScript(unsafe=KNIFE, controversial=("beer",))
    server.clear_requests()
    yield
    server.resume()  # a test that paused it leaves it listening again


def client(guard: FakeGuard, **settings: Any) -> GuardModel:
    base = {"provider": "chat_classifier", "base_url": guard.base_url, "model": QWEN}
    return GuardModel(GuardConfig(**{**base, **settings}))


async def test_the_classifier_gets_the_input_and_the_reply_so_far(guard: FakeGuard) -> None:
    model = client(guard, api_key=GUARD_KEY)
    assert await model.check("Hi!", "Hello. I have a knife.") == "guard:unsafe (Violent)"
    assert await model.check(None, "Hello. Have a beer.") is None
    await model.aclose()
    first, second = guard.requests
    assert first.path == CHAT_PATH and first.authorization == f"Bearer {GUARD_KEY}"
    assert first.body["model"] == QWEN and first.body["stream"] is False
    assert first.body["messages"] == [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello. I have a knife."},
    ]
    assert second.body["messages"][0] == {"role": "user", "content": NO_INPUT}
    assert model.status.text == "ok"


async def test_controversial_blocks_only_when_asked(guard: FakeGuard) -> None:
    strict = client(guard, block="controversial")
    assert await strict.check("Hi", "Have a beer.") == "guard:controversial"
    llama = client(guard, model=LLAMA, format="llamaguard", block="controversial")
    guard.script = GuardScript(unsafe={"knife": ("S1", "S10")}, controversial=("beer",))
    assert await llama.check("Hi", "Have a beer.") is None  # Llama Guard has no such tier
    assert await llama.check("Hi", "A knife.") == "guard:unsafe (S1, S10)"
    for model in (strict, llama):
        await model.aclose()


async def test_moderation_gets_the_reply_so_far(guard: FakeGuard) -> None:
    guard.script = GuardScript(unsafe={"knife": ("violence",)})
    model = client(guard, provider="openai_moderation", model="")
    assert await model.check("Hi", "Hello. A knife.") == "guard:unsafe (violence)"
    await model.aclose()
    [request] = guard.requests
    assert request.path == MODERATION_PATH and request.body == {"input": "Hello. A knife."}


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("garbage", "not a Qwen3Guard verdict"),
        ("not_json", "not a JSON verdict"),
        ("status_500", "HTTP 500"),
        ("huge", "more than 65536 bytes"),
    ],
)
async def test_an_answer_that_is_no_verdict_is_a_failure(
    guard: FakeGuard, failure: Any, reason: str
) -> None:
    guard.script = GuardScript(failure=failure)
    model = client(guard, on_failure="drop")
    with pytest.raises(GuardFailure, match=reason):
        await model.judge("Hi", "Hello.")
    assert await model.check("Hi", "Hello.") == UNAVAILABLE
    assert model.status.text.startswith(f"failing: {guard.base_url}/chat/completions (")
    await model.aclose()


async def test_an_outage_is_told_once_and_again_after_recovery(
    guard: FakeGuard, caplog: pytest.LogCaptureFixture
) -> None:
    model = client(guard, on_failure="drop", api_key=GUARD_KEY)
    guard.pause()
    with caplog.at_level(logging.INFO, logger="kagura.safety.guard_model"):
        for _ in range(3):
            assert await model.check("Hi", "Hello.") == UNAVAILABLE
        url = f"{guard.base_url}/chat/completions"
        unreachable = f"unreachable: {url} (connection refused). Is the guard model running"
        assert model.status.text.startswith(unreachable)
        guard.resume()
        assert await model.check("Hi", "Hello.") is None
        assert model.status.text == "ok"
        guard.pause()
        assert await model.check("Hi", "Hello.") == UNAVAILABLE
    await model.aclose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert url in warnings[0] and "safety.guard.base_url" in warnings[0]
    assert any("answers again" in r.getMessage() for r in caplog.records)
    assert GUARD_KEY not in caplog.text


async def test_on_failure_decides_within_the_timeout(guard: FakeGuard) -> None:
    guard.script = GuardScript(delay_s=1.0)
    for on_failure, rule in (("hold", UNAVAILABLE), ("drop", UNAVAILABLE), ("pass", None)):
        model = client(guard, on_failure=on_failure, timeout_ms=200)
        started = time.monotonic()
        assert await model.check("Hi", "Hello.") == rule
        assert 0.15 < time.monotonic() - started < 0.6
        assert "no answer within 200 ms" in model.status.text
        await model.aclose()


async def test_hold_asks_again_until_the_guard_answers(guard: FakeGuard) -> None:
    """A refused connection is not the end with hold: the segment waits, asking again, and
    passes once the guard is back within timeout_ms; drop gives up at once."""
    guard.pause()
    dropping = client(guard, on_failure="drop", timeout_ms=3000)
    started = time.monotonic()
    assert await dropping.check("Hi", "Hello.") == UNAVAILABLE
    assert time.monotonic() - started < 0.5
    holding = client(guard, on_failure="hold", timeout_ms=3000)
    asking = asyncio.ensure_future(holding.check("Hi", "Hello."))
    await asyncio.sleep(0.3)  # several refused attempts
    assert not asking.done()
    await asyncio.to_thread(guard.resume)
    assert await asyncio.wait_for(asking, 3) is None
    for model in (dropping, holding):
        await model.aclose()


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
