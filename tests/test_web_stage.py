"""The stage page and the OBS overlay in a real browser, with Haru (Cubism 4), the default model.

Debian's Chromium (headless, software WebGL) loads the pages from a real `kagura serve` whose
LLM and TTS are the scripted fake; the page's own debug hook (`window.kagura`) and the frames
on its WebSocket are what the tests read. The restart test runs last: it restarts the server.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript, echo_last_user
from tests.support.server import KaguraProcess

from .web_browser import (
    MODEL_TIMEOUT_MS,
    PageRecorder,
    open_stage,
    read_png,
    require_live2d_runtime,
    sample,
    send_text,
    wait_connected,
    wait_reply_played,
)

pytestmark = pytest.mark.browser

REPLY = "[joy] Hello there, friend! [sadness] It is a rainy day today."
# The first clause is spoken on its own, then sentence by sentence.
SHOWN = ["Hello there,", "friend!", "It is a rainy day today."]


def test_overlay_is_transparent_around_an_opaque_haru(
    pages: PageRecorder, kagura: KaguraProcess
) -> None:
    require_live2d_runtime()
    page, _ = pages.open(f"{kagura.http_url}/overlay")
    page.set_viewport_size({"width": 400, "height": 400})
    page.wait_for_function("window.kagura && window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    assert page.evaluate("window.kagura.modelUrl").endswith("haru_greeter_t03.model3.json")
    page.wait_for_timeout(500)  # a few frames at SwiftShader speed
    pixels = read_png(page.screenshot(omit_background=True))
    alpha = pixels[:, :, 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0, "the overlay background is not transparent"
    opaque = (alpha == 255).mean()
    assert opaque > 0.03, f"the character is missing: only {opaque:.1%} of pixels are opaque"
    assert (alpha[:, 190:210] == 255).any(), "nothing opaque in the middle of the overlay"
    # No controls or prompts for the audience.
    assert page.locator("button, input, select").count() == 0


def test_reply_plays_with_lip_sync_subtitles_motion_and_ack(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    require_live2d_runtime()
    fake.script = LLMScript(reply=REPLY)
    page, frames = open_stage(pages, kagura)
    page.wait_for_function("window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    assert page.locator("#llm-notice").is_hidden()  # a real model server: nothing to say
    send_text(page, "How is the weather?")
    page.wait_for_function("window.kagura.playing", timeout=20_000)
    during = sample(page, "[kagura.mouthValue(), kagura.subtitle()]", seconds=1.2)
    page.wait_for_function("!window.kagura.playing", timeout=20_000)

    mouth = [m for m, _ in during if m is not None]
    assert max(mouth) > 0.3 and len({round(m, 2) for m in mouth}) > 3, mouth
    page.wait_for_function("Math.abs(kagura.mouthValue()) < 0.01", timeout=2_000)  # at rest

    subtitles = page.evaluate("kagura.shown")  # every subtitle the reply showed, in order
    assert subtitles[0] == SHOWN[0] and subtitles[-1] == SHOWN[-1], subtitles
    assert not any("[" in text for text in subtitles)
    log = page.locator("#chat-log").inner_text()
    assert "How is the weather?" in log and " ".join(SHOWN) in log
    assert page.evaluate("kagura.lastMotion") in (
        {"group": "Use", "index": 1},  # joy, Kagura's emotionMotions for Haru
        {"group": "Use", "index": 10},  # sadness (the second segment's motion)
    )

    frames.wait_sent(page, "frontend-playback-complete")
    page.wait_for_timeout(500)  # a second acknowledgement would show up here
    assert frames.sent_types().count("frontend-playback-complete") == 1
    order = [
        kind for direction, kind in frames.both if kind in ("audio", "frontend-playback-complete")
    ]
    assert order == ["audio", "audio", "audio", "frontend-playback-complete"]


def test_interrupt_button_stops_audio_and_sends_what_was_heard(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    long_reply = (
        "This is a rather long story about a cat. The cat walked all the way to the sea. "
        "There it met a very friendly fish."
    )
    fake.script = LLMScript(reply=long_reply)
    fake.tts_script = TTSScript(seconds_per_char=0.08)
    page, frames = open_stage(pages, kagura)
    send_text(page, "Tell me a story.")
    page.wait_for_function("window.kagura.playing", timeout=20_000)
    page.wait_for_timeout(1500)
    page.click("#interrupt")
    page.wait_for_function("!window.kagura.playing", timeout=2_000)

    signals = [f for f in frames.sent if f["type"] == "interrupt-signal"]
    assert len(signals) == 1
    heard = signals[0]["text"]
    assert heard and long_reply.startswith(heard) and len(heard) < len(long_reply), heard
    assert "frontend-playback-complete" not in frames.sent_types()
    assert "(interrupted)" in page.locator("#chat-log").inner_text()
    # Late audio of the interrupted turn is not played.
    page.wait_for_timeout(1000)
    assert page.evaluate("kagura.playing") is False


def test_viewer_text_is_shown_as_text_and_never_runs(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    attack = "<img src=x onerror=alert(1)> <b>bold</b>"
    fake.script = LLMScript(reply=echo_last_user)
    page, _ = open_stage(pages, kagura)
    send_text(page, attack)
    wait_reply_played(page)
    log = page.locator("#chat-log")
    # The CSP would block an inline handler anyway: what proves the point is that the markup
    # never became elements, in the log (the viewer's line and the echoed reply) or subtitle.
    page.wait_for_function(
        "[...document.querySelectorAll('#chat-log li.ai .text')]"
        f".some((el) => el.textContent.includes({attack!r}))"
    )
    assert log.locator("li.human .text", has_text=attack).count() == 1
    assert log.locator("img, b").count() == 0
    assert page.locator("#stage img, #subtitle *").count() == 0


def test_page_works_without_the_live2d_runtime_and_says_why(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="[joy] Still here without a body.")
    context = pages.context
    context.route("**/vendor/**", lambda route: route.fulfill(status=404, body="missing"))
    page, frames = open_stage(pages, kagura)
    page.wait_for_function("window.kagura.modelState === 'unavailable'", timeout=10_000)
    notice = page.locator("#model-notice")
    assert notice.is_visible() and "setup.sh" in notice.inner_text()
    send_text(page, "Hello?")
    wait_reply_played(page)
    assert "Still here without a body." in page.locator("#chat-log").inner_text()
    page.wait_for_function("window.kagura.subtitle() === 'Still here without a body.'")
    frames.wait_sent(page, "frontend-playback-complete")


def test_chinese_ui_and_cjk_subtitles(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="[joy] 你好，我是神乐。今天天气很好！")
    page, _ = open_stage(pages, kagura, "?lang=zh")
    assert page.locator("#send").inner_text() == "发送"
    assert page.locator("#connection").inner_text() == "已连接"
    send_text(page, "你好")
    # One subtitle per segment: the first clause, then each sentence.
    wait_reply_played(page)
    assert "我是神乐。" in page.evaluate("kagura.shown"), page.evaluate("kagura.shown")
    assert "你好，我是神乐。今天天气很好！" in page.locator("#chat-log").inner_text()


def test_websocket_url_follows_the_page_address(pages: PageRecorder, kagura: KaguraProcess) -> None:
    host = f"127.0.0.1:{kagura.port}"
    urls = {
        "/overlay": f"ws://{host}/proxy-ws?role=page",  # the shared stage, as a page
        "/stage": f"ws://{host}/proxy-ws",  # the token's (here: loopback) role
        "/stage?endpoint=client": f"ws://{host}/client-ws",  # a private session
        "/?endpoint=client": f"ws://{host}/client-ws",  # / leads to the stage page
        "/overlay?endpoint=client": f"ws://{host}/client-ws",
        "/overlay?token=s3cret": f"ws://{host}/proxy-ws?token=s3cret&role=page",
        "/overlay?endpoint=proxy&token=s3cret&role=admin": (
            f"ws://{host}/proxy-ws?token=s3cret&role=admin"
        ),
    }
    for path, expected in urls.items():
        page, _ = pages.open(f"{kagura.http_url}{path}")
        assert page.evaluate("kagura.url") == expected, path
        page.close()


def test_admin_panel_shows_stage_stats_and_pauses_answering(
    pages: PageRecorder, kagura: KaguraProcess
) -> None:
    page, _ = open_stage(pages, kagura)
    page.click("#admin-panel summary")
    page.wait_for_function("document.querySelector('#admin-status').textContent !== ''")
    status = page.locator("#admin-status").inner_text()
    assert status.startswith("Updated"), status
    # In the streamer's words; the raw counters under Details.
    summary = page.locator("#admin-summary").inner_text()
    assert "Answered" in summary and "Waiting" in summary and "Dropped" in summary, summary
    assert "loop_lag" not in page.locator("#admin-panel").inner_text()
    page.click("#admin-details summary")
    assert re.search(r"waiting|dropped|clients", page.locator("#admin-stats").inner_text())

    def paused() -> bool:
        stats = httpx.get(f"{kagura.http_url}/stage/stats", timeout=5).json()
        return bool(stats["paused"])

    button = page.locator("#admin-pause")
    button.wait_for(state="visible")
    button.click()
    page.wait_for_function(
        "document.querySelector('#admin-pause').textContent === 'Resume answering'"
    )
    assert paused()
    button.click()
    page.wait_for_function(
        "document.querySelector('#admin-pause').textContent === 'Pause answering'"
    )
    assert not paused()


def test_page_reconnects_after_a_server_restart(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    """Runs last in this module: it restarts the module's server (same port). The turn the
    restart cuts off leaves nothing behind: no stray interrupt or "(interrupted)" label."""
    fake.script = LLMScript(reply="This reply is cut off by a server restart, sadly.")
    page, frames = open_stage(pages, kagura)
    send_text(page, "Say something long.")
    page.wait_for_function("window.kagura.playing", timeout=20_000)
    kagura.stop()
    page.wait_for_function("window.kagura.state !== 'open'", timeout=10_000)
    assert page.locator("#connection").get_attribute("data-state") in ("reconnecting", "connecting")
    time.sleep(1)
    fake.script = LLMScript(reply="I am back.")
    kagura.start()
    wait_connected(page, timeout_ms=30_000)
    page.wait_for_function("!window.kagura.playing", timeout=20_000)
    send_text(page, "Are you there?")
    wait_reply_played(page)
    assert "I am back." in page.locator("#chat-log").inner_text()
    frames.wait_sent(page, "frontend-playback-complete")
    assert "interrupt-signal" not in frames.sent_types()
    assert "(interrupted)" not in page.locator("#chat-log").inner_text()
