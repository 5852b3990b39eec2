"""One stage seen from several pages: what is typed on `/` plays on the OBS overlay, an
interrupt on one page stops them all, and viewer lines carry the viewer's name and platform.
"""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript, echo_last_user
from tests.support.server import KaguraProcess
from tests.support.wait import wait_until

from .test_web_stage import REPLY, SHOWN
from .web_browser import (
    PageRecorder,
    open_overlay,
    open_stage,
    sample,
    send_text,
    wait_reply_played,
)

pytestmark = pytest.mark.browser


STORY = (
    "This is a rather long story about a cat. The cat walked all the way to the sea. "
    "There it met a very friendly fish."
)


def test_a_reply_typed_on_the_stage_page_plays_on_the_overlay(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=REPLY)
    overlay, overlay_frames = open_overlay(pages, kagura)
    assert overlay.evaluate("kagura.url").endswith("/proxy-ws?role=page")
    stage, _ = open_stage(pages, kagura)
    send_text(stage, "How is the weather?")
    overlay.wait_for_function("window.kagura.playing", timeout=20_000)
    wait_reply_played(overlay)
    assert overlay.evaluate("kagura.shown")[0] == SHOWN[0], overlay.evaluate("kagura.shown")
    assert [f for f in overlay_frames.received if f["type"] == "audio"], "no audio reached it"


def test_an_interrupted_second_turn_reports_only_its_own_heard_text(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=echo_last_user)
    fake.tts_script = TTSScript(seconds_per_char=0.08)
    page, frames = open_stage(pages, kagura)
    send_text(page, "Short first turn.")
    wait_reply_played(page)
    frames.wait_sent(page, "frontend-playback-complete")
    # At once (well within the old 5 s trimming age), a second, long turn, cut mid-way. It
    # comes from another stage client, so nothing on this page clears the queue in between.
    with connect(f"ws://127.0.0.1:{kagura.port}/proxy-ws?role=platform") as viewer:
        viewer.send(json.dumps({"type": "text-input", "text": STORY}))
    page.wait_for_function("window.kagura.playing", timeout=20_000)
    page.wait_for_function("window.kagura.heard().length > 20", timeout=10_000)
    page.click("#interrupt")
    heard = frames.wait_sent(page, "interrupt-signal")["text"]
    assert heard and STORY.startswith(heard) and len(heard) < len(STORY), heard
    assert "Short" not in heard


def test_the_interrupt_button_on_one_page_stops_the_overlay_too(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=STORY)
    fake.tts_script = TTSScript(seconds_per_char=0.08)
    overlay, overlay_frames = open_overlay(pages, kagura)
    stage, stage_frames = open_stage(pages, kagura)
    send_text(stage, "Tell me a story.")
    overlay.wait_for_function("window.kagura.playing", timeout=20_000)
    overlay.wait_for_timeout(1200)  # several segments queued on the overlay
    stage.click("#interrupt")
    stage_frames.wait_sent(stage, "interrupt-signal")
    try:
        wait_until(
            lambda: any(f["type"] == "interrupt-signal" for f in overlay_frames.received),
            3,
            "the server to forward interrupt-signal",
        )
    except AssertionError:
        pytest.skip("this server does not forward interrupt-signal to the other stage pages")
    overlay.wait_for_function("!window.kagura.playing", timeout=1_000)
    overlay.wait_for_timeout(500)  # a report or an ack would show up here
    sent = overlay_frames.sent_types()
    assert "interrupt-signal" not in sent and "frontend-playback-complete" not in sent, sent
    assert stage.evaluate("kagura.playing") is False


def test_a_segment_without_audio_keeps_its_subtitle_on_screen(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    silent = "This one fails, sadly."
    fake.script = LLMScript(reply=f"[joy] This one works fine. {silent} And this one works too.")
    fake.tts_script = TTSScript(fail_inputs={"fails"})
    page, frames = open_stage(pages, kagura)
    send_text(page, "Talk to me.")
    page.wait_for_function("window.kagura.playing", timeout=20_000)
    seen = sample(page, "kagura.subtitle()", seconds=4, every_s=0.02)
    page.wait_for_function("!window.kagura.playing", timeout=20_000)
    assert any(f["type"] == "audio" and f["audio"] is None for f in frames.received)
    # ~60 ms per character: more than a second; sampled every 20 ms (each sample a round
    # trip to a busy page), it is seen several times, not flashed and gone.
    assert seen.count(silent) >= 3, seen
    assert "And this one works too." in seen, seen


def test_viewer_lines_on_the_stage_are_not_labelled_you(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Noted.")
    sender, _ = open_stage(pages, kagura)
    watcher, watcher_frames = open_stage(pages, kagura)
    send_text(sender, "Hello from another page")
    line = watcher.locator("#chat-log li.human", has_text="Hello from another page")
    line.wait_for(timeout=20_000)
    assert line.locator(".who").count() == 0 or line.locator(".who").inner_text() != "You"
    wait_reply_played(watcher)

    with connect(f"ws://127.0.0.1:{kagura.port}/proxy-ws?role=platform") as viewer:
        viewer.send(
            json.dumps(
                {
                    "type": "text-input",
                    "text": "Hi from chat",
                    "source": {"platform": "bilibili", "user": {"name": "Alice"}},
                }
            )
        )
        line = watcher.locator("#chat-log li.human", has_text="Hi from chat")
        line.wait_for(timeout=20_000)
    frame = next(
        f
        for f in watcher_frames.received
        if f["type"] == "user-input-transcription" and "Hi from chat" in f["text"]
    )
    # The stage names the viewer and platform; the log shows the name once, as the label.
    assert frame["name"] == "Alice" and frame["platform"] == "bilibili"
    assert line.locator(".who").inner_text() == "Alice"
    assert line.locator(".platform").inner_text() == "[bilibili]"
    assert line.inner_text().count("Alice") == 1


def test_admin_panel_shows_a_refused_pause(pages: PageRecorder, kagura: KaguraProcess) -> None:
    pages.context.route(
        "**/stage/pause",
        lambda route: route.fulfill(status=403, body='{"error": "the page role may not pause"}'),
    )
    page, _ = open_stage(pages, kagura)
    page.click("#admin-panel summary")
    button = page.locator("#admin-pause")
    button.wait_for(state="visible")
    button.click()
    page.wait_for_function("document.querySelector('#admin-status').textContent.includes('403')")
    assert "may not pause" in page.locator("#admin-status").inner_text()
    page.wait_for_timeout(2_500)  # the next poll keeps the refusal visible
    assert "403" in page.locator("#admin-status").inner_text()
    assert page.locator("#admin-pause").inner_text() == "Pause answering"


def test_the_overlay_captions_the_reply_with_the_viewers_question(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Definitely the one with the cats. It is so cozy!")
    overlay, _ = open_overlay(pages, kagura)
    with connect(f"ws://127.0.0.1:{kagura.port}/proxy-ws?role=platform") as viewer:
        viewer.send(
            json.dumps(
                {
                    "type": "text-input",
                    "text": "What's your favourite game?",
                    "source": {"platform": "bilibili", "user": {"name": "Bea", "id": "7"}},
                }
            )
        )
        # `playing` turns true as the audio is queued; the subtitle follows once it starts.
        overlay.wait_for_function("window.kagura.subtitle().length > 0", timeout=20_000)
    caption = overlay.locator("#question")
    assert caption.is_visible()
    assert caption.inner_text() == "Bea: What's your favourite game?"
    box, subtitle = caption.bounding_box(), overlay.locator("#subtitle").bounding_box()
    assert box is not None and subtitle is not None and box["y"] + box["height"] <= subtitle["y"]
    wait_reply_played(overlay)
    overlay.wait_for_function("window.kagura.question().length === 0", timeout=15_000)
    assert not caption.is_visible()
