"""A streamer's own model: files dropped into the models folder and registered in its
`model_dict.json` are served, announced over the protocol, and rendered by the page."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kagura.testing.fake_openai import FakeOpenAI
from tests.support.server import KaguraProcess

from .conftest import REPO, fake_engines
from .web_browser import (
    MODEL_TIMEOUT_MS,
    PageRecorder,
    require_live2d_runtime,
    server_pages,
)

pytestmark = pytest.mark.browser

SAMPLE = REPO / "src/kagura/web/node_modules/live2d-widget-model-shizuku/assets"
ENTRY = {
    "name": "my-idol",
    "description": "A model of my own",
    "url": "/live2d-models/my-idol/shizuku.model.json",
    "kScale": 0.3,
    "initialXshift": 10,
    "initialYshift": -5,
    "idleMotionGroupName": "idle",
    "emotionMap": {"neutral": 0, "happy": 3},
    "tapMotions": {},
}


@pytest.fixture(scope="module")
def server(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KaguraProcess]:
    require_live2d_runtime()
    workdir = tmp_path_factory.mktemp("user-model")
    models = workdir / "my-models"
    shutil.copytree(SAMPLE, models / "my-idol")
    (models / "model_dict.json").write_text(json.dumps([ENTRY]), "utf-8")
    overrides = fake_engines(
        fake,
        system={"models_dir": str(models)},
        character={"live2d_model": "my-idol"},
    )
    with KaguraProcess(Path(workdir), overrides) as running:
        yield running


@pytest.fixture
def pages(request: pytest.FixtureRequest, server: KaguraProcess) -> Iterator[PageRecorder]:
    yield from server_pages(request, server)


def test_registered_model_is_served_and_announced(server: KaguraProcess) -> None:
    info = httpx.get(f"{server.http_url}/live2d-models/info", timeout=5).json()
    assert {"name": "my-idol", "avatar": "", "model_path": ENTRY["url"]} in info["characters"]
    assert {c["name"] for c in info["characters"]} >= {"haru", "shizuku", "my-idol"}
    model_file = httpx.get(f"{server.http_url}{ENTRY['url']}", timeout=5)
    assert model_file.status_code == 200 and "model" in model_file.json()


def test_the_page_renders_the_registered_model(pages: PageRecorder, server: KaguraProcess) -> None:
    page, frames = pages.open(server.http_url)
    page.wait_for_function("window.kagura && window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    assert page.evaluate("kagura.modelUrl").endswith("/live2d-models/my-idol/shizuku.model.json")
    [conf] = [m for m in frames.received if m["type"] == "set-model-and-conf"]
    assert conf["model_info"]["name"] == "my-idol"
    assert conf["model_info"]["kScale"] == 0.3
    assert conf["model_info"]["emotionMap"] == {"neutral": 0, "happy": 3}
