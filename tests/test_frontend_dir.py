"""A user's prebuilt frontend served at `/` (`system.frontend_dir`, or `kagura serve
--frontend-dir`), with Kagura's own pages still at `/stage`, `/overlay` and `/widget`; a
missing or empty folder is refused with a clear error before anything starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from kagura.testing.fake_openai import FakeOpenAI
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import fake_engines
from .test_cli import kagura
from .web_browser import PageRecorder, server_pages, wait_connected

INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>My frontend</title>
<link rel="stylesheet" href="./assets/app.css">
<script type="module" src="./assets/app.js"></script>
</head><body><p id="status">loading</p></body></html>
"""
# Like the Open-LLM-VTuber frontend served by its own backend: the WebSocket and the model
# list on the page's own host.
APP_JS = """
const status = document.getElementById("status");
const ws = new WebSocket(`ws://${location.host}/client-ws`);
ws.onmessage = async (event) => {
  const message = JSON.parse(event.data);
  if (message.type !== "set-model-and-conf") return;
  const info = await (await fetch("/live2d-models/info")).json();
  status.textContent = `${message.model_info.name} of ${info.count}`;
};
"""


def write_frontend(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX, "utf-8")
    (folder / "assets" / "app.js").write_text(APP_JS, "utf-8")
    (folder / "assets" / "app.css").write_text("body { color: #123456; }", "utf-8")
    return folder


class ServeWithFrontend(KaguraProcess):
    """`kagura serve --frontend-dir FOLDER`, the flag rather than the config."""

    def __init__(self, workdir: Path, overrides: dict[str, object], frontend: Path) -> None:
        super().__init__(workdir, overrides)
        self.frontend = frontend

    def command(self) -> list[str]:
        return [*super().command(), "--frontend-dir", str(self.frontend)]


@pytest.fixture(scope="module")
def server(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KaguraProcess]:
    workdir = tmp_path_factory.mktemp("frontend")
    frontend = write_frontend(workdir / "web-build")
    with ServeWithFrontend(workdir, fake_engines(fake), frontend) as running:
        yield running


async def test_the_frontend_is_served_at_the_root(server: KaguraProcess) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        root, index = await http.get("/"), await http.get("/index.html")
        script = await http.get("/assets/app.js")
        missing = await http.get("/assets/nothing.js")
    assert root.status_code == 200 and "<title>My frontend</title>" in root.text
    assert index.text == root.text
    assert script.status_code == 200 and "client-ws" in script.text
    assert "javascript" in script.headers["content-type"]
    assert missing.status_code == 404


async def test_kaguras_pages_and_endpoints_keep_their_paths(server: KaguraProcess) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        stage = await http.get("/stage")
        overlay, widget = await http.get("/overlay"), await http.get("/widget")
        info = await http.get("/live2d-models/info")
        stats = await http.get("/stage/stats")
    assert stage.status_code == 200 and 'src="/static/stage.js"' in stage.text
    assert overlay.status_code == 200 and "overlay.js" in overlay.text
    assert widget.status_code == 200 and "widget.js" in widget.text
    assert info.json()["type"] == "live2d-models/info"
    assert stats.status_code == 200 and "accepted" in stats.json()
    async with ProtocolClient(server.ws_url) as client:
        assert (await client.connect_sequence())[-1]["text"] == "start-mic"


@pytest.fixture
def pages(request: pytest.FixtureRequest, server: KaguraProcess) -> Iterator[PageRecorder]:
    yield from server_pages(request, server)


@pytest.mark.browser
def test_the_frontend_and_the_stage_page_both_run(
    pages: PageRecorder, server: KaguraProcess
) -> None:
    frontend, _ = pages.open(f"{server.http_url}/")
    frontend.wait_for_function(
        "document.getElementById('status').textContent.startsWith('haru of ')", timeout=15_000
    )
    color = frontend.evaluate("getComputedStyle(document.body).color")
    assert color == "rgb(18, 52, 86)"  # its stylesheet loaded too
    for path in ("/stage", "/overlay"):
        page, _ = pages.open(f"{server.http_url}{path}")
        wait_connected(page)
        assert page.evaluate("kagura.url").startswith(f"ws://127.0.0.1:{server.port}/")


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda folder: None, "does not exist"),
        (lambda folder: folder.mkdir(), "is empty"),
        (lambda folder: (folder.mkdir(), (folder / "README.md").write_text("x")), "index.html"),
    ],
    ids=["missing", "empty", "no-index"],
)
def test_a_folder_that_cannot_be_served_is_refused(
    tmp_path: Path, make: Callable[[Path], object], problem: str
) -> None:
    folder = tmp_path / "frontend"
    make(folder)
    conf = tmp_path / "conf.yaml"
    conf.write_text(yaml.safe_dump({"system": {"frontend_dir": "frontend"}}), "utf-8")
    for args in (["serve"], ["config", "check", "conf.yaml"]):
        result = kagura(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        message = " ".join(result.stderr.split())  # rich wraps long lines
        assert f"system.frontend_dir: {folder}" in message and problem in message
