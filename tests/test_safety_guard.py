"""The guard model (`safety.guard`): its parsers and its client on the real wire.

A fake guard (`kagura.testing.fake_guard`) speaks OpenAI's moderation API and answers chat
completions as Qwen3Guard-Gen or Llama Guard; it can be slow, answer garbage, fail, or be
paused so that its port refuses connections. The servers that ask it about every segment are
tested in `test_safety_guard_server.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from kagura.config import GuardConfig, KaguraConfig
from kagura.runtime import Runtime
from kagura.safety import UNAVAILABLE, GarbledVerdict, GuardFailure, GuardModel, Verdict
from kagura.safety.classifier import NO_INPUT, parse_llamaguard, parse_qwen3guard
from kagura.safety.moderation import parse_moderation
from kagura.testing.fake_guard import CHAT_PATH, MODERATION_PATH, FakeGuard, GuardScript

from .guard_helpers import GUARD_KEY, LLAMA, QWEN

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


