"""The stage page's microphone in a real Chromium, against a real `kagura serve`.

Chromium's fake capture device plays a WAV of a spoken sentence (piper's voice) in a loop,
as a microphone would hear it; the page captures it through its audio worklet and sends
16 kHz PCM as binary frames; the server's silero VAD, end-of-turn model and faster-whisper
(the embedded engines) hear it, and the scripted fake LLM and TTS answer. So the transcript
on the page proves the whole path: capture, resampling, framing, and the server's turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from kagura.testing.fake_openai import FakeOpenAI, TTSScript
from tests.support import speech
from tests.support.server import KaguraProcess

from .conftest import server_fixture
from .web_browser import PageRecorder, launch_browser, open_stage

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

SENTENCE = "What is your favourite colour?"
# The capture file loops: speech, then a pause long enough for the turn to end and the
# reply to arrive before the sentence comes round again.
LEAD_S, PAUSE_S = 0.6, 3.5
LOOP_MS = 1000 * (LEAD_S + PAUSE_S + 2.5)  # the sentence itself takes about 2 s
FRAME_BYTES = 1280  # 40 ms of 16 kHz 16-bit mono: the worklet's chunk
TRANSCRIPT_TIMEOUT_MS = 40_000  # faster-whisper loads on first use, on 2 shared cores


@pytest.fixture(scope="module")
def capture_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio = speech.padded(speech.piper(SENTENCE), LEAD_S, PAUSE_S)
    return speech.write_wav(tmp_path_factory.mktemp("mic") / "sentence.wav", audio)


# Fake LLM and TTS, the embedded ASR (the fake's would not hear the audio at all).
kagura = server_fixture("kagura", asr={"provider": "whisper"})


@pytest.fixture(scope="module")
def browser(capture_wav: Path) -> Iterator[Browser]:
    yield from launch_browser(
        [
            "--use-fake-ui-for-media-stream",  # grants the permission prompt
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={capture_wav}",
        ]
    )


def mic(page: Page, field: str) -> Any:
    return page.evaluate(f"window.kaguraMic.{field}")


def transcripts(received: list[dict[str, Any]]) -> list[str]:
    return [f["text"] for f in received if f.get("type") == "user-input-transcription"]


def start_mic(page: Page) -> None:
    page.click("#mic-toggle")
    page.wait_for_function("window.kaguraMic.state === 'on'", timeout=10_000)
    assert mic(page, "sampleRate") >= 16000  # the context's own rate; the worklet resamples


def wait_levels(page: Page, chunks: int = 10) -> int:
    """Wait until the worklet has delivered `chunks` more chunks (the meter moves with each);
    returns the frames sent meanwhile."""
    page.evaluate(
        """(n) => new Promise((resolve) => {
            const seen = [];
            const meter = document.getElementById('mic-level');
            const timer = setInterval(() => {
              seen.push(meter.value);
              if (seen.length >= n) { clearInterval(timer); resolve(); }
            }, 40);
        })""",
        chunks,
    )
    return int(mic(page, "sent"))


@pytest.mark.parametrize("query", ["", "?endpoint=client"], ids=["stage", "private"])
def test_voice_activated_speech_is_transcribed_and_answered(
    pages: PageRecorder, kagura: KaguraProcess, query: str
) -> None:
    """On the shared stage (`/proxy-ws`, as the admin) and in a private `/client-ws` session."""
    page, frames = open_stage(pages, kagura, query)
    assert page.locator("#mic-status").inner_text()  # says the microphone is off
    start_mic(page)

    page.wait_for_function(
        "!document.getElementById('mic-heard').hidden", timeout=TRANSCRIPT_TIMEOUT_MS
    )
    page.click("#mic-mute")  # before the looped sentence comes round and talks over the reply
    heard = transcripts(frames.received)[0]
    assert speech.word_error_rate(SENTENCE, heard) <= 0.2, heard
    assert heard in page.locator("#mic-heard").inner_text()
    assert heard in page.locator("#chat-log").inner_text()

    # The reply: audio arrives and plays.
    page.wait_for_function("window.kagura.playing", timeout=15_000)
    assert any(f.get("type") == "audio" for f in frames.received)

    # Binary 40 ms frames of 16-bit PCM, never the JSON-float form.
    assert frames.binary_sent and set(frames.binary_sent) == {FRAME_BYTES}, set(frames.binary_sent)
    assert "raw-audio-data" not in frames.sent_types()

    # Muted: the meter rests and nothing but the turn's silent tail is sent.
    page.wait_for_function("!window.kaguraMic.transmitting", timeout=5_000)
    assert mic(page, "level") == 0
    page.click("#mic-toggle")
    page.wait_for_function("window.kaguraMic.state === 'off'", timeout=5_000)


def wait_sound(page: Page, loud: bool, for_ms: float = 0, timeout_ms: float = 15_000) -> None:
    """Wait until the microphone has heard sound (`loud`) or quiet for `for_ms` on end, as the
    level of the worklet's chunks says."""
    page.evaluate(
        """([loud, forMs, timeoutMs]) => new Promise((resolve, reject) => {
            const start = performance.now();
            let since = start;
            const timer = setInterval(() => {
              const now = performance.now();
              if ((window.kaguraMic.level > 0.01) !== loud) since = now;
              else if (now - since >= forMs) { clearInterval(timer); resolve(); }
              if (now - start > timeoutMs) { clearInterval(timer); reject(new Error('no change')); }
            }, 20);
        })""",
        [loud, for_ms, timeout_ms],
    )


def test_push_to_talk_sends_only_while_held(pages: PageRecorder, kagura: KaguraProcess) -> None:
    page, frames = open_stage(pages, kagura)
    page.select_option("#mic-mode", "push")
    assert page.locator("#mic-talk").is_visible()
    start_mic(page)

    wait_sound(page, loud=True)  # the microphone hears the sentence; the page sends nothing
    assert mic(page, "sent") == 0 and not mic(page, "transmitting")

    # Held from the pause before the sentence until just after it.
    wait_sound(page, loud=False, for_ms=1000)
    page.keyboard.down("Space")  # the focus is still on the Start button: it must not click
    assert page.locator("#mic-talk").get_attribute("class") == "mic-talk held"
    wait_sound(page, loud=True)
    assert mic(page, "transmitting")
    wait_sound(page, loud=False, for_ms=250)
    page.keyboard.up("Space")
    assert not mic(page, "transmitting")
    assert int(mic(page, "sent")) >= 25  # over a second of 40 ms frames

    # Released: silence goes on until the server ends the turn, then nothing more is sent.
    page.wait_for_function(
        "!document.getElementById('mic-heard').hidden", timeout=TRANSCRIPT_TIMEOUT_MS
    )
    heard = transcripts(frames.received)
    assert len(heard) == 1 and speech.word_error_rate(SENTENCE, heard[0]) <= 0.2, heard
    page.wait_for_function("!window.kaguraMic.tailing", timeout=2_000)
    after = wait_levels(page, 20)
    assert wait_levels(page) == after  # nothing is sent after the turn, whatever is heard
    assert mic(page, "state") == "on"


def test_talking_over_the_reply_interrupts_it(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    """Voice-activated: the sentence comes round again while the (long) reply plays, and
    the server stops the reply on every page."""
    fake.tts_script = TTSScript(seconds_per_char=0.5)  # a reply of ~17 s
    page, frames = open_stage(pages, kagura)
    start_mic(page)
    page.wait_for_function("window.kagura.playing", timeout=TRANSCRIPT_TIMEOUT_MS)
    assert len(transcripts(frames.received)) == 1
    page.wait_for_function("!window.kagura.playing", timeout=LOOP_MS + 5_000)
    assert any(f.get("type") == "interrupt-signal" for f in frames.received)
    assert "(interrupted)" in page.locator("#chat-log").inner_text()


def test_a_page_that_is_not_secure_explains_https(
    pages: PageRecorder, kagura: KaguraProcess
) -> None:
    """What Chromium gives a page on http://<another host>: no secure context and no
    `navigator.mediaDevices` (loopback pages are always secure, so that is simulated)."""
    pages.context.add_init_script(
        "Object.defineProperty(window, 'isSecureContext', {get: () => false});"
        "Object.defineProperty(Navigator.prototype, 'mediaDevices', {get: () => undefined});"
    )
    page, _ = open_stage(pages, kagura, "?lang=en")
    status = page.locator("#mic-status").inner_text()
    port = str(kagura.port)
    assert "https://" in status and "reverse proxy" in status, status
    assert f"ssh -L {port}:127.0.0.1:{port}" in status, status
    assert page.locator("#mic-toggle").is_disabled()
    page.goto(f"{kagura.http_url}/stage?lang=zh")
    status = page.locator("#mic-status").inner_text()
    assert "安全页面" in status and "https://" in status, status


def test_a_page_role_on_the_stage_is_told_only_the_admin_may_talk(
    pages: PageRecorder, kagura: KaguraProcess
) -> None:
    page, frames = open_stage(pages, kagura, "?role=page&lang=en")
    page.click("#mic-toggle")  # it starts, sends, and is refused at once
    page.wait_for_function("window.kaguraMic.state === 'error'", timeout=10_000)
    assert "Only the admin" in page.locator("#mic-status").inner_text()
    assert page.locator("#mic-toggle").inner_text() == "Start microphone"
    refusals = [f for f in frames.received if "raw-audio-data" in str(f.get("message"))]
    assert refusals, frames.received  # the server refused the audio...
    assert "raw-audio-data" not in page.locator("#chat-log").inner_text()  # ...said once, here
