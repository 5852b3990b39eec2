"""The pages draw the model only when something moves, at a capped rate.

Software WebGL (SwiftShader here, and on any machine without a GPU) costs the CPU a frame
whatever the frame shows: a stage page redrawing an idle Haru took both cores of a 2-core
machine, and first audio took seconds instead of half a second. The frames are counted
beneath the page, on WebGL's draw calls, so a page that draws without saying so is caught.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from tests.support.server import KaguraProcess

from .web_browser import (
    MODEL_TIMEOUT_MS,
    PageRecorder,
    count_drawn_frames,
    drawn_frames,
    frames_over,
    open_stage,
    require_live2d_runtime,
    send_text,
    wait_still,
)

pytestmark = pytest.mark.browser

IDLE_WINDOW_S = 2.0
SOFTWARE_FPS = 10  # the pages' rate while something moves, on a software renderer
REPLY = "[joy] Hello there, friend! It is a rainy day today, and I like it."


def open_counted(pages: PageRecorder, url: str) -> Page:
    count_drawn_frames(pages.context)
    page, _ = pages.open(url)
    page.wait_for_function("window.kagura && window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    # Ready once drawn: what a screenshot script waits for.
    page.wait_for_function("kagura.ready && kagura.frames.frames > 0", timeout=MODEL_TIMEOUT_MS)
    return page


@pytest.mark.parametrize("path", ["/stage", "/overlay"])
def test_an_idle_page_on_software_webgl_draws_nothing(
    pages: PageRecorder, kagura: KaguraProcess, path: str
) -> None:
    require_live2d_runtime()
    page = open_counted(pages, f"{kagura.http_url}{path}")
    assert drawn_frames(page) > 0, "the loaded model was never drawn"
    wait_still(page)  # the model is drawn for a moment after loading, then not at all
    assert frames_over(page, IDLE_WINDOW_S) == 0
    stats = page.evaluate("kagura.frames")
    # SwiftShader: 10 fps while something moves, and none while the model holds still.
    assert (stats["software"], stats["fps"], stats["idleFps"]) == (True, SOFTWARE_FPS, 0), stats


def test_a_reply_is_drawn_at_the_capped_rate_then_the_page_stills(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    require_live2d_runtime()
    fake.script = LLMScript(reply=REPLY)
    fake.tts_script = TTSScript(seconds_per_char=0.05)  # about 3 s of speech
    count_drawn_frames(pages.context)
    page, _ = open_stage(pages, kagura)
    page.wait_for_function("kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    wait_still(page)

    send_text(page, "How is the weather?")
    page.wait_for_function("kagura.playing", timeout=20_000)
    first, started = drawn_frames(page), time.monotonic()
    page.wait_for_function("!kagura.playing", timeout=20_000)
    drawn, seconds = drawn_frames(page) - first, time.monotonic() - started

    assert seconds > 1.5, f"the reply played for {seconds:.1f} s only"
    assert drawn >= 5, f"{drawn} frames in {seconds:.1f} s of speech: the lips did not move"
    cap = SOFTWARE_FPS * seconds + 2
    assert drawn <= cap, f"{drawn} frames in {seconds:.1f} s: over {SOFTWARE_FPS} fps"
    wait_still(page)  # the last expression and motion settle, then drawing stops again
    assert frames_over(page, 1.0) == 0


def test_idle_fps_keeps_the_idle_loop_at_that_rate(
    pages: PageRecorder, kagura: KaguraProcess
) -> None:
    """What a page on a GPU does by default (15 fps), asked for here at 5."""
    require_live2d_runtime()
    page = open_counted(pages, f"{kagura.http_url}/overlay?idle_fps=5")
    # Settled at the idle pace: the last frames are 200 ms apart, not 33.
    page.wait_for_function(
        "(t => t.length > 5 && t.slice(-5).every((x, i, a) => !i || x - a[i - 1] > 150))"
        "(window.__drawn.times)",
        timeout=15_000,
    )
    drawn = frames_over(page, IDLE_WINDOW_S)
    assert 4 <= drawn <= 5 * IDLE_WINDOW_S + 2, f"{drawn} frames in {IDLE_WINDOW_S} s"
