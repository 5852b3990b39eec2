"""The captions page (`/captions`) in a real browser: each segment's text when its audio
would play, after the stream delay like the overlay, styled from the query, and silent."""

from __future__ import annotations

import base64
import io
import wave

import pytest

from kagura.conversation.expressions import strip_tags
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess

from .conftest import server_fixture
from .web_browser import PageRecorder, open_stage, send_text, wait_connected

pytestmark = pytest.mark.browser

DELAY_S = 1.5
kagura = server_fixture("captions", stage={"stream_delay_s": DELAY_S, "batch_max": 1})
REPLY = "Hello there, my good friend. [joy] It is lovely to see you again today!"
# Every caption change (text, wall-clock ms), and when the page's first audio frame arrived.
WATCH_CAPTIONS = """
(() => {
  const seen = { changes: [], firstAudio: null, audioContexts: 0 };
  window.__captions = seen;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const audio = typeof event.data === "string" && event.data.includes('"type": "audio"');
        if (audio && seen.firstAudio === null) seen.firstAudio = Date.now();
      });
    }
  };
  const NativeContext = window.AudioContext;
  window.AudioContext = class extends NativeContext {
    constructor(...args) { super(...args); seen.audioContexts += 1; }
  };
  document.addEventListener("DOMContentLoaded", () => {
    const subtitle = document.getElementById("subtitle");
    if (!subtitle) return;
    new MutationObserver(() => {
      if (subtitle.textContent) seen.changes.push([subtitle.textContent, Date.now()]);
    }).observe(subtitle, { childList: true, characterData: true, subtree: true });
  });
})();
"""


def seconds(payload: dict[str, object]) -> float:
    with wave.open(io.BytesIO(base64.b64decode(str(payload["audio"])))) as wav:
        return wav.getnframes() / wav.getframerate()


def test_captions_follow_the_audio_after_the_delay_styled_from_the_query(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=REPLY)
    pages.context.add_init_script(WATCH_CAPTIONS)
    query = "?size=48&color=ffcc00&outline=000&position=top&align=left&font=Noto+Sans+CJK+SC"
    captions, frames = pages.open(f"{kagura.http_url}/captions{query}")
    wait_connected(captions)
    stage, _ = open_stage(pages, kagura)
    send_text(stage, "Hi!")
    # Acknowledged like the overlay (the stage may wait for it): by then every caption showed.
    frames.wait_sent(captions, "frontend-playback-complete", timeout_s=30)
    stage.wait_for_function("window.__captions.firstAudio !== null")

    audio = [f for f in frames.received if f["type"] == "audio"]
    texts = [strip_tags(a["display_text"]["text"]).strip() for a in audio if a["display_text"]]
    changes = captions.evaluate("window.__captions.changes")
    assert [text for text, _ in changes] == texts
    assert " ".join(texts) == strip_tags(REPLY).strip().replace("  ", " ")
    # The second caption shows when the first segment's audio would have ended.
    gap_s = (changes[1][1] - changes[0][1]) / 1000
    assert gap_s == pytest.approx(seconds(audio[0]), abs=0.25), gap_s
    # Delayed with the overlay: a stream delay after the streamer's own page got the audio.
    lag_s = (changes[0][1] - stage.evaluate("window.__captions.firstAudio")) / 1000
    assert lag_s >= DELAY_S - 0.15, lag_s
    # The audio was timed, never played: no AudioContext on the captions page.
    assert captions.evaluate("window.__captions.audioContexts") == 0

    caption = captions.locator("#subtitle")
    style = caption.evaluate(
        "el => { const s = getComputedStyle(el); const box = getComputedStyle(el.parentElement);"
        " return [s.fontSize, s.color, s.fontFamily, box.justifyContent, box.alignItems,"
        " getComputedStyle(document.body).backgroundColor]; }"
    )
    assert style[:2] == ["48px", "rgb(255, 204, 0)"]
    assert "Noto Sans CJK SC" in style[2]
    assert style[3:] == ["flex-start", "flex-start", "rgba(0, 0, 0, 0)"]
