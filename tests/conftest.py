"""Shared fixtures: a scripted OpenAI-compatible server and real `kagura serve` processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser

from kagura.testing.fake_bilibili import FakeBilibili
from kagura.testing.fake_guard import FakeGuard, GuardScript
from kagura.testing.fake_openai import EmbeddingsScript, FakeOpenAI, LLMScript, TTSScript
from kagura.testing.fake_twitch import FakeTwitch
from kagura.testing.fake_youtube import FakeYouTube
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.server import KaguraProcess

if TYPE_CHECKING:
    from kagura.voice import VoiceEngines

    from .web_browser import PageRecorder

REPO = Path(__file__).resolve().parent.parent
LLM_KEY = "sk-test-llm"
TTS_KEY = "sk-test-tts"


def fake_engines(fake: FakeOpenAI, **extra: Any) -> dict[str, Any]:
    """Config that points LLM, TTS and ASR at the fake, with short deadlines for tests."""
    from kagura.config import deep_merge

    base: dict[str, Any] = {
        "system": {"characters_dir": str(REPO / "characters")},
        "llm": {
            "provider": "openai",
            "openai": {"base_url": fake.base_url, "model": "fake-model", "api_key": LLM_KEY},
            "first_token_timeout_s": 2,
            "stream_idle_timeout_s": 2,
        },
        "tts": {
            "provider": "openai",
            "openai": {"base_url": fake.base_url, "api_key": TTS_KEY},
            "max_concurrency": 2,
            "segment_timeout_s": 5,
        },
        "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
        # Short sentences merge only while audio is ahead, which depends on timing: tests
        # that check segments exactly get one segment per sentence (merging: test_segmenter).
        "conversation": {"playback_margin_s": 1.0, "short_sentence_words": 0},
        # Off unless a test is about it: tests assert on the exact prompts and requests.
        "memory": {"enabled": False},
        # Likewise the co-host's greetings of arriving viewers (test_stage_host): a viewer
        # whose message a test drops would otherwise be greeted in a turn of its own.
        "stage": {"greet_every_s": 0},
    }
    return deep_merge(base, extra)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_fake(request: pytest.FixtureRequest) -> None:
    """Each test starts from the default script and an empty request log."""
    if "fake" in request.fixturenames:
        server: FakeOpenAI = request.getfixturevalue("fake")
        server.script = LLMScript()
        server.tts_script = TTSScript()
        server.embeddings_script = EmbeddingsScript()
        server.clear_requests()


def server_fixture(folder: str, **extra: Any) -> Any:
    """A module-scoped fixture: one `kagura serve` for the test module, talking to the
    module's fake, with `extra` laid over `fake_engines`; its files in a fresh `folder`.

        stage = server_fixture("stage", stage={"batch_max": 1})
    """

    @pytest.fixture(scope="module")
    def server(
        fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[KaguraProcess]:
        config = fake_engines(fake, **extra)
        with KaguraProcess(tmp_path_factory.mktemp(folder), config) as process:
            yield process

    return server


kagura = server_fixture("kagura")  # one server per test module, talking to the module's fake


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per browser-test module."""
    from .web_browser import launch_browser

    yield from launch_browser()


@pytest.fixture
def pages(
    request: pytest.FixtureRequest, browser: Browser, kagura: KaguraProcess
) -> Iterator[PageRecorder]:
    """Pages of one test in a fresh context of the module's browser; on failure, screenshots,
    console logs and the module's server log in `test-artifacts/`."""
    from .web_browser import recorded_pages

    yield from recorded_pages(request, browser, kagura)


@pytest.fixture
def bili(tmp_path: Path) -> Iterator[FakeBilibili]:
    """A fake Bilibili (HTTP APIs and danmaku server over TLS) with the test rooms."""
    from .live_helpers import fake_bilibili

    with fake_bilibili(tmp_path) as server:
        yield server


@pytest.fixture
def twitch(tmp_path: Path) -> Iterator[FakeTwitch]:
    """A fake Twitch chat server (IRC over WebSocket, TLS) that knows the test bot's token."""
    from .live_helpers import TWITCH_BOT, TWITCH_OAUTH

    with FakeTwitch(tmp_path / "twitch", tokens={TWITCH_OAUTH: TWITCH_BOT}) as server:
        yield server


@pytest.fixture
def youtube(tmp_path: Path) -> Iterator[FakeYouTube]:
    """A fake YouTube Data API (TLS) that polls may ask every 0.3 s."""
    with FakeYouTube(tmp_path / "youtube") as server:
        yield server


@pytest.fixture
def recorder() -> Iterator[ProxyRecorder]:
    """A stand-in for the stage's /proxy-ws that records what platform clients send."""
    from .live_helpers import TOKEN

    with ProxyRecorder(token=TOKEN) as stage:
        yield stage


KNIFE = {"knife": ("Violent",)}  # what the fake guard judges unsafe, unless a test says


@pytest.fixture(scope="module")
def guard() -> Iterator[FakeGuard]:
    """The module's fake guard model (`safety.guard`): moderation and classifier formats."""
    with FakeGuard() as server:
        yield server


@pytest.fixture(autouse=True)
def reset_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts from a guard that answers at once and has heard nothing."""
    server = request.getfixturevalue("guard") if "guard" in request.fixturenames else None
    if not isinstance(server, FakeGuard):  # no guard, or another module's own `guard`
        yield
        return
    server.script = GuardScript(unsafe=KNIFE, controversial=("beer",))
    server.clear_requests()
    yield
    server.resume()  # a test that paused it leaves it listening again


@pytest.fixture(scope="module")
def engines() -> Iterator[VoiceEngines]:
    """The embedded voice engines of the default config (whisper, Smart Turn), for tests
    that drive a `VoiceInput` in the test process."""
    from kagura.config import KaguraConfig
    from kagura.engines import asr, endpointing
    from kagura.voice import VoiceEngines

    config = KaguraConfig()
    loop = asyncio.new_event_loop()
    recognizer, model = asr.create(config.asr), endpointing.create(config.voice.turn)
    yield VoiceEngines(config, recognizer, model)
    loop.run_until_complete(recognizer.aclose())
    loop.run_until_complete(model.aclose())
    loop.close()
