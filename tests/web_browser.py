"""Helpers for the browser tests: Debian's Chromium through Playwright, frame capture,
failure screenshots and a small PNG reader for pixel checks.

Chromium is never downloaded: `scripts/setup.sh` installs Debian's, which Playwright drives
through `executable_path`.
"""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, sync_playwright

from tests.support.server import KaguraProcess

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
NODE_MODULES = REPO / "src" / "kagura" / "web" / "node_modules"
MODEL_TIMEOUT_MS = 60_000  # SwiftShader on 2 shared cores: model loading can take a while

# From ../shared/notes/live2d.md: software WebGL, no traffic to the closed network, and audio
# that starts without a click (as in OBS).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


def launch_browser(extra_args: Sequence[str] = ()) -> Iterator[Browser]:
    """One headless Chromium (use as a module-scoped fixture body)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def require_live2d_runtime() -> None:
    if not (NODE_MODULES / "pixi-live2d-display-lipsyncpatch").is_dir():
        pytest.fail("the Live2D runtime is not installed: run scripts/setup.sh (npm ci)")


@dataclass
class Frames:
    """The JSON frames a page sent and received on its WebSockets, in order."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    both: list[tuple[str, str]] = field(default_factory=list)  # ("sent"|"received", type)
    binary_sent: list[int] = field(default_factory=list)  # sizes of binary frames (audio)

    def attach(self, page: Page) -> None:
        def on_socket(socket: WebSocket) -> None:
            socket.on("framesent", lambda payload: self._add("sent", payload))
            socket.on("framereceived", lambda payload: self._add("received", payload))

        page.on("websocket", on_socket)

    def _add(self, direction: str, payload: str | bytes) -> None:
        if isinstance(payload, bytes) and direction == "sent":
            self.binary_sent.append(len(payload))
            return
        try:
            frame = json.loads(payload)
        except (ValueError, TypeError):
            frame = {"type": "<not json>"}
        (self.sent if direction == "sent" else self.received).append(frame)
        self.both.append((direction, str(frame.get("type"))))

    def wait_sent(self, page: Page, kind: str, timeout_s: float = 5) -> dict[str, Any]:
        """The first frame of type `kind` the page sent, waiting for it if need be."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for frame in self.sent:
                if frame.get("type") == kind:
                    return frame
            page.wait_for_timeout(50)  # lets Playwright deliver the frame events
        raise AssertionError(f"the page sent no {kind!r} in {timeout_s} s: {self.sent_types()}")

    def sent_types(self) -> list[str]:
        return [str(frame.get("type")) for frame in self.sent]

    def clear(self) -> None:
        self.sent.clear()
        self.received.clear()
        self.both.clear()
        self.binary_sent.clear()


class PageRecorder:
    """Pages opened by one test; all of them are screenshotted if the test fails."""

    def __init__(self, context: BrowserContext, name: str) -> None:
        self.context = context
        self.name = re.sub(r"[^\w.-]+", "_", name)
        self.pages: list[tuple[Page, list[str]]] = []
        self.server_logs: list[Callable[[], str]] = []  # saved with the pages on failure

    def open(self, url: str) -> tuple[Page, Frames]:
        page = self.context.new_page()
        console: list[str] = []
        page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
        frames = Frames()
        frames.attach(page)
        self.pages.append((page, console))
        page.goto(url)
        return page, frames

    def save(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, (page, console) in enumerate(self.pages):
            stem = ARTIFACTS / f"{self.name}-{i}"
            try:
                page.screenshot(path=f"{stem}.png", timeout=10_000)
            except Exception as exc:  # a crashed page still gets its console saved
                console.append(f"screenshot failed: {exc}")
            Path(f"{stem}.console.txt").write_text("\n".join(console), encoding="utf-8")
        for i, server_log in enumerate(self.server_logs):
            (ARTIFACTS / f"{self.name}-server{i}.log").write_text(server_log(), encoding="utf-8")


def recorded_pages(
    request: pytest.FixtureRequest, browser: Browser, server: KaguraProcess | None = None
) -> Iterator[PageRecorder]:
    """Fixture body: a fresh browser context; screenshots of its pages, and `server`'s log,
    when the test failed.

    The call phase has been reported by the time fixtures are torn down, so a rise in the
    session's failure count means this test failed.
    """
    failed_before = request.session.testsfailed
    context = browser.new_context(viewport={"width": 960, "height": 720})
    recorder = PageRecorder(context, request.node.name)
    if server is not None:
        recorder.server_logs.append(server.log)
    try:
        yield recorder
    finally:
        if request.session.testsfailed > failed_before:
            recorder.save()
        context.close()


def server_pages(request: pytest.FixtureRequest, server: KaguraProcess) -> Iterator[PageRecorder]:
    """Fixture body: a browser of its own and recorded pages, with `server`'s log saved on
    failure."""
    for browser in launch_browser():
        yield from recorded_pages(request, browser, server)


def wait_connected(page: Page, timeout_ms: float = 15_000) -> None:
    page.wait_for_function("window.kagura && window.kagura.state === 'open'", timeout=timeout_ms)


def send_text(page: Page, text: str) -> None:
    # The turns this page has played so far: `wait_reply_played` waits for one more.
    page.evaluate("window.__turnsBefore = window.kagura ? kagura.turnsPlayed : 0")
    page.fill("#chat-input", text)
    page.click("#send")


def sample(page: Page, expression: str, seconds: float, every_s: float = 0.05) -> list[Any]:
    """Evaluate `expression` in the page repeatedly for `seconds`."""
    values = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        values.append(page.evaluate(expression))
        time.sleep(every_s)
    return values


def read_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB/RGBA PNG (what Chromium's screenshots are) as an H×W×4 array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, "unsupported PNG"
    channels = 4 if color == 6 else 3
    stride = width * channels
    raw = zlib.decompress(idat)
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if kind == 2:
            line = (line + previous) & 0xFF
        elif kind in (1, 3, 4):
            line = _unfilter(kind, line, previous, channels)
        out[y] = line
        previous = line
    pixels = out.reshape(height, width, channels)
    if channels == 3:
        alpha = np.full((height, width, 1), 255, np.uint8)
        pixels = np.concatenate([pixels, alpha], axis=2)
    return pixels


def _unfilter(kind: int, line: np.ndarray, up: np.ndarray, bpp: int) -> np.ndarray:
    """Sub, Average and Paeth depend on the already decoded left neighbour: done in Python."""
    result = line.tolist()
    above = up.tolist()
    for i in range(len(result)):
        left = result[i - bpp] if i >= bpp else 0
        if kind == 1:
            result[i] = (result[i] + left) & 0xFF
        elif kind == 3:
            result[i] = (result[i] + (left + above[i]) // 2) & 0xFF
        else:
            upper_left = above[i - bpp] if i >= bpp else 0
            p = left + above[i] - upper_left
            pa, pb, pc = abs(p - left), abs(p - above[i]), abs(p - upper_left)
            pred = left if pa <= pb and pa <= pc else above[i] if pb <= pc else upper_left
            result[i] = (result[i] + pred) & 0xFF
    return np.array(result, dtype=np.int32)


def open_stage(pages: PageRecorder, kagura: KaguraProcess, query: str = "") -> tuple[Page, Frames]:
    page, frames = pages.open(f"{kagura.http_url}/stage{query}")
    wait_connected(page)
    return page, frames


def wait_reply_played(page: Page, timeout_ms: float = 30_000) -> None:
    """Until the reply to this page's last `send_text` (or, on a page that sent nothing,
    the first reply since it opened) has played to its end: counted by the page, so a reply
    shorter than a round trip from here is not missed."""
    page.wait_for_function(
        "kagura.turnsPlayed > (window.__turnsBefore ?? 0) && !kagura.playing", timeout=timeout_ms
    )


# Counts the frames a page draws with WebGL, beneath any page code (so a page that draws
# without telling is caught): pixi draws a frame in one synchronous call, so the draw calls
# up to the next microtask are one frame. Keeps the times of the last 20 frames.
DRAWN_FRAMES_SCRIPT = """
(() => {
  const drawn = { frames: 0, times: [], inFrame: false };
  window.__drawn = drawn;
  for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype]) {
    for (const name of ["drawElements", "drawArrays"]) {
      const original = proto[name];
      proto[name] = function (...args) {
        if (!drawn.inFrame) {
          drawn.inFrame = true;
          drawn.frames += 1;
          drawn.times = [...drawn.times.slice(-19), performance.now()];
          queueMicrotask(() => { drawn.inFrame = false; });
        }
        return original.apply(this, args);
      };
    }
  }
})();
"""


def count_drawn_frames(context: BrowserContext) -> None:
    """Count the WebGL frames of every page opened in `context` from now on."""
    context.add_init_script(DRAWN_FRAMES_SCRIPT)


def drawn_frames(page: Page) -> int:
    frames: int = page.evaluate("window.__drawn.frames")
    return frames


def wait_still(page: Page, quiet_ms: float = 1000, timeout_ms: float = 15_000) -> None:
    """Until the page has drawn no frame for `quiet_ms`."""
    page.wait_for_function(
        f"performance.now() - (window.__drawn.times.at(-1) ?? 0) > {quiet_ms}", timeout=timeout_ms
    )


def frames_over(page: Page, seconds: float) -> int:
    """The frames the page draws in the next `seconds` (a measurement window)."""
    before = drawn_frames(page)
    page.wait_for_timeout(seconds * 1000)
    return drawn_frames(page) - before


def open_overlay(pages: PageRecorder, kagura: KaguraProcess) -> tuple[Page, Frames]:
    page, frames = pages.open(f"{kagura.http_url}/overlay")
    wait_connected(page)
    return page, frames
