"""The stream delay in real pages: the streamer's stage page and the OBS overlay.

The overlay starts playing a reply at least `stream_delay_s` after the stage page does; the
stage page's Cut button inside that window keeps the reply off the overlay; panic stops a
playing overlay within 200 ms of the call.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from tests.support.server import KaguraProcess

from .conftest import server_fixture
from .web_browser import PageRecorder, open_overlay, open_stage, send_text

pytestmark = pytest.mark.browser

DELAY_S = 2.0
SECRET = "Zanzibar"
kagura = server_fixture("on-air", stage={"stream_delay_s": DELAY_S, "batch_max": 1})

MODEL_SETTLED = "['loaded', 'unavailable', 'error'].includes(window.kagura.modelState)"
# When each page's audio started and last stopped, and when its first audio frame arrived
# (wall clock, ms: comparable across pages), sampled beside the page's own code.
WATCH_PLAYING = """
(() => {
  const play = { started: null, stopped: null, firstAudio: null };
  window.__play = play;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const audio = typeof event.data === "string" && event.data.includes('"type": "audio"');
        if (audio && play.firstAudio === null) play.firstAudio = Date.now();
      });
    }
  };
  let was = false;
  setInterval(() => {
    const playing = Boolean(window.kagura && window.kagura.playing);
    if (playing && !was && play.started === null) play.started = Date.now();
    if (!playing && was) play.stopped = Date.now();
    was = playing;
  }, 5);
})();
"""


def played(frames: Any) -> list[str]:
    return [f["display_text"]["text"] for f in frames.received if f["type"] == "audio"]


def test_the_overlay_plays_each_reply_after_the_delay(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hello there, friend. [joy] Nice to see you today!")
    pages.context.add_init_script(WATCH_PLAYING)
    overlay, _ = open_overlay(pages, kagura)
    stage, _ = open_stage(pages, kagura)
    for page in (overlay, stage):  # a page loading its model reacts late to anything
        page.wait_for_function(MODEL_SETTLED, timeout=20_000)
    stage.wait_for_function("document.querySelector('#on-air-countdown').textContent !== ''")
    send_text(stage, "Hi!")
    stage.wait_for_function("window.__play.started !== null", timeout=20_000)
    pending = stage.locator("#on-air-countdown")
    assert pending.get_attribute("data-pending") == "true", pending.text_content()
    overlay.wait_for_function("window.__play.started !== null", timeout=20_000)
    # Arrival, not playback: a page busy decoding starts playing late, which says nothing
    # about the delay. The margin is the pages' own scheduling (test_stage_airing.py checks
    # the delay on the wire to 50 ms).
    arrived = [page.evaluate("window.__play.firstAudio") for page in (stage, overlay)]
    assert None not in arrived, arrived
    lag_ms = arrived[1] - arrived[0]
    assert lag_ms >= DELAY_S * 1000 - 150, lag_ms


def test_the_cut_button_keeps_a_reply_off_the_overlay(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=f"Sure. The secret island is {SECRET}. Bye!")
    pages.context.add_init_script(WATCH_PLAYING)
    overlay, overlay_frames = open_overlay(pages, kagura)
    stage, _ = open_stage(pages, kagura)
    send_text(stage, "Tell me a secret.")
    # The streamer hears it first.
    stage.wait_for_function(f"window.kagura.shown.some(s => s.includes('{SECRET}'))")
    stage.click("#cut")
    stage.wait_for_function(
        "document.querySelector('#on-air-status').textContent !== ''", timeout=5_000
    )
    assert stage.locator("#on-air-countdown").get_attribute("data-pending") == "false"

    fake.script = LLMScript(reply="Okay, something else then.")
    send_text(stage, "Never mind.")
    overlay.wait_for_function("window.kagura.turnsPlayed >= 1", timeout=20_000)
    for _ in range(100):  # until Playwright has handed over the frames the page received
        if "".join(played(overlay_frames)) == "Okay, something else then.":
            break
        overlay.wait_for_timeout(50)
    assert "".join(played(overlay_frames)) == "Okay, something else then.", played(overlay_frames)


def test_panic_stops_a_playing_overlay_within_200_ms(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    story = " ".join(f"Part {n} of a long and winding story." for n in range(1, 4))
    fake.script = LLMScript(reply=story)
    fake.tts_script = TTSScript(seconds_per_char=0.08)  # several seconds of audio per part
    pages.context.add_init_script(WATCH_PLAYING)
    overlay, overlay_frames = open_overlay(pages, kagura)
    stage, _ = open_stage(pages, kagura)
    send_text(stage, "Tell me a story.")
    overlay.wait_for_function("window.__play.started !== null", timeout=20_000)
    overlay.wait_for_timeout(300)  # well into the first part
    called_ms = time.time() * 1000
    with httpx.Client(base_url=kagura.http_url, timeout=10) as http:
        answer = http.post("/stage/panic").json()
    overlay.wait_for_function("window.__play.stopped !== null", timeout=5_000)
    stopped_ms = overlay.evaluate("window.__play.stopped")
    assert answer["paused"] is True
    assert stopped_ms - called_ms <= 200, stopped_ms - called_ms
    heard = len(overlay_frames.received)
    with httpx.Client(base_url=kagura.http_url, timeout=10) as http:
        assert http.post("/stage/resume").json() == {"paused": False}
    fake.script = LLMScript(reply="We are back.")
    send_text(stage, "Are you there?")
    overlay.wait_for_function(
        "window.kagura.shown.includes('We are back.')", timeout=DELAY_S * 1000 + 20_000
    )
    after = [f for f in overlay_frames.received[heard:] if f["type"] == "audio"]
    assert [f["display_text"]["text"] for f in after] == ["We are back."]
