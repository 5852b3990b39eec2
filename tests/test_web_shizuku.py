"""Shizuku (Cubism 2, real expressions) on the stage page: it renders, lip-syncs, and an
emotion tag in the reply switches its expression when that segment starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from tests.support.server import KaguraProcess

from .conftest import server_fixture
from .web_browser import (
    MODEL_TIMEOUT_MS,
    PageRecorder,
    read_png,
    recorded_pages,
    require_live2d_runtime,
    sample,
    send_text,
    wait_connected,
)

pytestmark = pytest.mark.browser

ANGER, JOY = 2, 3  # Shizuku's emotionMap in resources/model_dict.json (f03 angry, f04 sparkling)


shizuku = server_fixture("shizuku", character={"live2d_model": "shizuku"})


@pytest.fixture
def pages(
    request: pytest.FixtureRequest, browser: Browser, shizuku: KaguraProcess
) -> Iterator[PageRecorder]:
    require_live2d_runtime()
    yield from recorded_pages(request, browser, shizuku)


def test_shizuku_renders_on_a_transparent_overlay(
    pages: PageRecorder, shizuku: KaguraProcess
) -> None:
    page, _ = pages.open(f"{shizuku.http_url}/overlay")
    page.set_viewport_size({"width": 400, "height": 400})
    page.wait_for_function("window.kagura && window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    assert page.evaluate("kagura.modelUrl").endswith("shizuku.model.json")
    page.wait_for_timeout(500)
    alpha = read_png(page.screenshot(omit_background=True))[:, :, 3]
    assert alpha[0, 0] == 0
    assert (alpha == 255).mean() > 0.1, "Shizuku is not drawn"


def test_emotion_tags_switch_expressions_as_their_segments_play(
    pages: PageRecorder, shizuku: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(
        reply="[anger] Hmph, you are late again today! [joy] But I am glad you came."
    )
    # The first clause ("Hmph,") is a segment of its own: slower speech keeps it on screen
    # for ~0.75 s, long enough to be sampled from here on a busy machine.
    fake.tts_script = TTSScript(seconds_per_char=0.15)
    page, frames = pages.open(shizuku.http_url)
    wait_connected(page)
    page.wait_for_function("window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    before = page.evaluate("kagura.expressionIndex()")
    assert before not in (ANGER, JOY)
    send_text(page, "Sorry I am late.")
    page.wait_for_function("window.kagura.playing", timeout=20_000)
    seen = sample(page, "[kagura.expressionIndex(), kagura.subtitle(), kagura.mouthValue()]", 3)
    page.wait_for_function("!window.kagura.playing", timeout=20_000)

    during_anger = [e for e, text, _ in seen if text.startswith("Hmph")]
    assert ANGER in during_anger, seen
    assert page.evaluate("kagura.expressionIndex()") == JOY
    assert max(m for _, _, m in seen) > 0.3, "the mouth did not follow the audio"
    page.wait_for_function("Math.abs(kagura.mouthValue()) < 0.01", timeout=2_000)  # at rest
    frames.wait_sent(page, "frontend-playback-complete")
