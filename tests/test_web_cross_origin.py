"""A frontend served from another origin, as the Open-LLM-VTuber web build is from its
desktop app or a copy hosted elsewhere: in a real Chromium, a page on a second server loads
the Live2D model (model file and textures), the model list and a background from Kagura and
talks over `/client-ws`, the way that frontend does; so does a desktop app's page opened
from `file://`; a page from an origin that is not allowed gets none of it.

Chromium resolves `allowed.test` and `blocked.test` to 127.0.0.1 (`--host-resolver-rules`),
so both pages are real non-loopback origins served by one local HTTP server.
"""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from kagura.testing.ports import free_port
from tests.support.server import KaguraProcess

from .conftest import fake_engines
from .web_browser import (
    MODEL_TIMEOUT_MS,
    NODE_MODULES,
    PageRecorder,
    launch_browser,
    recorded_pages,
    require_live2d_runtime,
)

pytestmark = pytest.mark.browser

HOSTS = ("allowed.test", "blocked.test")
TEXTURE = NODE_MODULES / "live2d-widget-model-shizuku/assets/moc/shizuku.1024/texture_00.png"
REPLY = "Nice to see you here. I'm glad you came! Let's talk."
PAGE_TIMEOUT_MS = 30_000

# What that frontend does with a backend at another origin, written plainly: the model list,
# the background list and image, the model through pixi-live2d-display (its own runtime
# files, loaded as classic scripts), and a conversation appended to one chat bubble.
PROBE_JS = """
const base = window.KAGURA;
const probe = { fetches: {}, image: null, module: null, model: null, motions: null,
                ws: { types: [], bubble: "", closed: null }, done: false };
window.probe = probe;

async function fetchJson(name, url) {
  try {
    const response = await fetch(url);
    probe.fetches[name] = { status: response.status, body: await response.json() };
  } catch (err) {
    probe.fetches[name] = { error: String(err) };
  }
}

function background(url) {
  return new Promise((resolve) => {
    const img = new Image();
    img.crossOrigin = "anonymous";  // a texture for WebGL: needs CORS
    img.onload = () => {
      const canvas = document.createElement("canvas");
      const context = canvas.getContext("2d");
      context.drawImage(img, 0, 0);
      try { context.getImageData(0, 0, 1, 1); probe.image = "readable"; }
      catch (err) { probe.image = "tainted"; }
      resolve();
    };
    img.onerror = () => { probe.image = "refused"; resolve(); };
    img.src = url;
  });
}

async function model(info) {
  try {
    await import(base + "/static/text.js");  // a module script: loaded in CORS mode
    probe.module = "loaded";
  } catch (err) {
    probe.module = "refused";
  }
  try {
    const app = new PIXI.Application({ width: 300, height: 300, backgroundAlpha: 0 });
    document.body.appendChild(app.view);
    const live2d = await PIXI.live2d.Live2DModel.from(base + info.url);
    app.stage.addChild(live2d);
    const definitions = live2d.internalModel.motionManager.definitions;
    probe.motions = Object.values(definitions).reduce((n, group) => n + group.length, 0);
    probe.model = "loaded";
  } catch (err) {
    probe.model = "error: " + (err?.message || err);
  }
}

function talk() {
  return new Promise((resolve) => {
    const ws = new WebSocket(base.replace("http", "ws") + "/client-ws");
    const send = (message) => ws.send(JSON.stringify(message));
    const pending = [];
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      probe.ws.types.push(message.type);
      if (message.type === "set-model-and-conf") pending.push(model(message.model_info));
      const control = message.type === "control" ? message.text : null;
      if (control === "start-mic") send({ type: "fetch-backgrounds" });
      if (message.type === "background-files") {
        pending.push(background(base + "/bg/" + message.files[0]));
        send({ type: "text-input", text: "Hello!" });
      }
      if (message.type === "audio") probe.ws.bubble += message.display_text.text;
      if (message.type === "backend-synth-complete") send({ type: "frontend-playback-complete" });
      if (control === "conversation-chain-end") ws.close(1000);
    };
    ws.onclose = async (event) => {
      probe.ws.closed = event.code;
      await Promise.all(pending);
      resolve();
    };
  });
}

(async () => {
  await fetchJson("info", base + "/live2d-models/info");
  await fetchJson("model", base + window.MODEL_URL);
  await talk();
  if (probe.ws.closed !== 1000) {  // refused: the frontend would still try the files
    await background(base + "/bg/room.png");
    await model({ url: window.MODEL_URL });
  }
  probe.done = true;
})();
"""

INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>a frontend elsewhere</title>
<script>window.KAGURA = "{kagura}"; window.MODEL_URL = "{model_url}";</script>
<script src="{kagura}/vendor/pixi.min.js"></script>
<script src="{kagura}/vendor/live2d.min.js"></script>
<script src="{kagura}/vendor/live2dcubismcore.min.js"></script>
<script src="{kagura}/vendor/pixi-live2d-display.min.js"></script>
</head><body><script src="probe.js"></script></body></html>
"""


def haru_url() -> str:
    """The default model's file, from the registry Kagura ships."""
    shipped = resources.files("kagura.resources").joinpath("model_dict.json").read_text("utf-8")
    return str(next(m["url"] for m in json.loads(shipped) if m["name"] == "haru"))


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """The second origin: a plain HTTP server for the frontend's files."""
    folder = tmp_path_factory.mktemp("elsewhere")
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def server(
    fake: FakeOpenAI, site: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KaguraProcess]:
    require_live2d_runtime()
    workdir = tmp_path_factory.mktemp("cross-origin")
    (workdir / "bg").mkdir()
    shutil.copy(TEXTURE, workdir / "bg" / "room.png")
    folder, port = site
    # A desktop app's page opened from file://: Chromium sends it as Origin "null".
    allowed = [f"http://{HOSTS[0]}:{port}", "null"]
    system = {"backgrounds_dir": str(workdir / "bg"), "allowed_origins": allowed}
    with KaguraProcess(workdir, fake_engines(fake, system=system)) as running:
        page = INDEX_HTML.format(kagura=running.http_url, model_url=haru_url())
        (folder / "index.html").write_text(page, "utf-8")
        (folder / "probe.js").write_text(PROBE_JS, "utf-8")
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    rules = ",".join(f"MAP {host} 127.0.0.1" for host in HOSTS)
    yield from launch_browser([f"--host-resolver-rules={rules}"])


@pytest.fixture
def pages(
    request: pytest.FixtureRequest, browser: Browser, server: KaguraProcess
) -> Iterator[PageRecorder]:
    yield from recorded_pages(request, browser, server)


def run_probe(pages: PageRecorder, url: str) -> dict[str, Any]:
    page, _ = pages.open(url)
    page.wait_for_function("window.probe && window.probe.done", timeout=MODEL_TIMEOUT_MS)
    result: dict[str, Any] = page.evaluate("window.probe")
    return result


@pytest.mark.parametrize("where", ["allowed.test", "file"])
def test_a_page_from_an_allowed_origin_gets_everything(
    pages: PageRecorder, site: tuple[Path, int], fake: FakeOpenAI, where: str
) -> None:
    """A second site listed in system.allowed_origins, or a desktop app's page opened from
    file:// (listed as null)."""
    fake.script = LLMScript(reply=REPLY)
    folder, port = site
    page = (folder / "index.html").as_uri() if where == "file" else None
    url = page or f"http://{HOSTS[0]}:{port}/index.html"
    probe = run_probe(pages, url)
    info = probe["fetches"]["info"]
    assert info["status"] == 200 and info["body"]["type"] == "live2d-models/info"
    assert probe["fetches"]["model"]["status"] == 200  # the .model3.json
    assert "FileReferences" in probe["fetches"]["model"]["body"]
    assert probe["image"] == "readable"  # a background usable as a texture
    assert probe["module"] == "loaded"
    assert probe["model"] == "loaded" and probe["motions"] > 0  # textures drawn by WebGL
    ws = probe["ws"]
    assert ws["types"][:4] == ["group-update", "full-text", "set-model-and-conf", "control"]
    assert "audio" in ws["types"] and ws["types"][-1] == "control"
    assert ws["bubble"] == REPLY  # the appended bubble reads with single spaces
    assert ws["closed"] == 1000


def test_a_page_from_another_origin_gets_nothing(
    pages: PageRecorder, site: tuple[Path, int]
) -> None:
    probe = run_probe(pages, f"http://{HOSTS[1]}:{site[1]}/index.html")
    assert "error" in probe["fetches"]["info"] and "error" in probe["fetches"]["model"]
    assert probe["ws"]["closed"] == 4403 and "audio" not in probe["ws"]["types"]
    assert probe["image"] == "refused"
    assert probe["module"] == "refused"
    assert probe["model"].startswith("error")
