"""A VRM (3D) model in the pages: a `.vrm` file registered in the models folder's
`model_dict.json` is drawn with three.js and three-vrm on the stage page, the overlay and the
widget; an emotion tag shows its VRM expression, the mouth follows the audio, the eyes
blink, and the page draws only while something moves.

The model is written at test time (tests/support/vrm_model.py): no VRM model on npm may be
shipped or downloaded by Kagura."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from kagura.live2d import VRM_EMOTION_MAP, ModelInfo
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from kagura.widget import WidgetClient
from tests.support.server import KaguraProcess
from tests.support.stage import stage_url
from tests.support.vrm_model import write_vrm_model

from .conftest import fake_engines
from .web_browser import (
    MODEL_TIMEOUT_MS,
    NODE_MODULES,
    PageRecorder,
    count_drawn_frames,
    frames_over,
    read_png,
    recorded_pages,
    require_live2d_runtime,
    sample,
    send_text,
    wait_connected,
    wait_still,
)

pytestmark = pytest.mark.browser

MODEL = "figure"
HAPPY = 1  # EMOTIONS in vrm-face.js: neutral, happy, angry, sad, relaxed, surprised


@pytest.fixture(scope="module")
def server(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KaguraProcess]:
    if not (NODE_MODULES / "@pixiv" / "three-vrm").is_dir():
        pytest.fail("three-vrm is not installed: run scripts/setup.sh (npm ci)")
    workdir = tmp_path_factory.mktemp("vrm")
    write_vrm_model(workdir / "models", MODEL, description="a made figure")
    overrides = fake_engines(
        fake, system={"models_dir": str(workdir / "models")}, character={"live2d_model": MODEL}
    )
    with KaguraProcess(Path(workdir), overrides) as running:
        yield running


@pytest.fixture
def pages(
    request: pytest.FixtureRequest, browser: Browser, server: KaguraProcess
) -> Iterator[PageRecorder]:
    yield from recorded_pages(request, browser, server)


def open_loaded(pages: PageRecorder, url: str) -> Page:
    page, _ = pages.open(url)
    page.wait_for_function("window.kagura && window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    page.wait_for_function("kagura.frames.frames > 0", timeout=MODEL_TIMEOUT_MS)
    assert page.evaluate("kagura.modelKind") == "vrm"
    return page


def weights(page: Page) -> dict[str, float]:
    result: dict[str, float] = page.evaluate("kagura.expressionWeights()")
    return result


def test_a_vrm_entry_without_an_emotion_map_gets_the_vrm_presets(server: KaguraProcess) -> None:
    info = httpx.get(f"{server.http_url}/live2d-models/info", timeout=5).json()
    url = f"/live2d-models/{MODEL}.vrm"
    assert {"name": MODEL, "avatar": "", "model_path": url} in info["characters"]
    served = httpx.get(f"{server.http_url}{url}", timeout=5)
    assert served.status_code == 200 and served.content[:4] == b"glTF"
    settings = httpx.get(f"{server.http_url}/widget/settings", timeout=5).json()
    assert settings["model_info"]["emotionMap"] == VRM_EMOTION_MAP
    # A map of the user's own stays as written, an empty one too; Live2D entries get none.
    own: dict[str, Any] = {"name": "a", "url": "/m/a.VRM?v=2", "emotionMap": {"joy": "smile"}}
    assert ModelInfo.model_validate(own).emotionMap == {"joy": "smile"}
    assert ModelInfo.model_validate({**own, "emotionMap": {}}).emotionMap == {}
    assert ModelInfo(name="b", url="/m/b.model3.json").emotionMap == {}


def test_the_modules_are_served_by_the_allow_list_and_the_import_map_is_allowed(
    server: KaguraProcess,
) -> None:
    base = server.http_url
    for name in ("three/three.module.js", "three/loaders/GLTFLoader.js", "three-vrm.module.js"):
        response = httpx.get(f"{base}/vendor/{name}", timeout=5)
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/javascript")
    for name in ("three/package.json", "three/../three/build/three.cjs", "three/build"):
        assert httpx.get(f"{base}/vendor/{name}", timeout=5).status_code == 404, name
    policy = httpx.get(f"{base}/overlay", timeout=5).headers["content-security-policy"]
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert "'sha256-" in script_src and "'unsafe-inline'" not in script_src


def test_the_model_is_drawn_on_a_transparent_overlay(
    pages: PageRecorder, server: KaguraProcess
) -> None:
    page = open_loaded(pages, f"{server.http_url}/overlay")
    page.set_viewport_size({"width": 400, "height": 400})
    page.wait_for_function("kagura.ready", timeout=MODEL_TIMEOUT_MS)
    # The resize is drawn at once (a wake); a screenshot after the next frame shows it. The
    # page must have seen the resize first: a frame drawn before it is the old size.
    page.wait_for_function("document.querySelector('canvas')?.clientWidth === 400")
    drawn = page.evaluate("kagura.frames.frames")
    page.wait_for_function(f"kagura.frames.frames > {drawn}", timeout=10_000)
    alpha = read_png(page.screenshot(omit_background=True))[:, :, 3]
    corners = [alpha[0, 0], alpha[0, -1], alpha[-1, 0], alpha[-1, -1]]
    assert corners == [0, 0, 0, 0], "the background is not transparent"
    assert alpha[200, 200] == 255, "nothing drawn in the middle, where the figure's body is"
    assert (alpha == 255).mean() > 0.08, "the figure is not drawn"


def test_an_idle_page_draws_nothing_and_fps_is_honoured(
    pages: PageRecorder, server: KaguraProcess
) -> None:
    count_drawn_frames(pages.context)
    page = open_loaded(pages, f"{server.http_url}/overlay?fps=7")
    stats = page.evaluate("kagura.frames")
    assert (stats["software"], stats["fps"], stats["idleFps"]) == (True, 7, 0), stats
    page.wait_for_function("window.__drawn.frames > 0", timeout=10_000)
    wait_still(page)  # drawn for a moment after loading, then not at all
    assert frames_over(page, 1.5) == 0


def test_a_joy_tag_shows_happy_and_the_mouth_follows_the_audio(
    pages: PageRecorder, server: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="[joy] Hello there, it is so nice to see you again today!")
    fake.tts_script = TTSScript(seconds_per_char=0.04)
    page, frames = pages.open(server.http_url)
    wait_connected(page)
    page.wait_for_function("window.kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    [conf] = [m for m in frames.received if m["type"] == "set-model-and-conf"]
    assert conf["model_info"]["emotionMap"]["joy"] == "happy"
    assert weights(page).get("happy", 0) == 0
    send_text(page, "Hi!")
    page.wait_for_function("window.kagura.playing", timeout=20_000)
    seen = sample(page, "kagura.expressionWeights()", 1.5)
    page.wait_for_function("!window.kagura.playing", timeout=20_000)

    assert max(w.get("aa", 0) for w in seen) > 0.3, f"the mouth did not follow the audio: {seen}"
    assert max(w.get("oh", 0) for w in seen) > 0, "the other vowels stayed shut"
    page.wait_for_function("kagura.expressionWeights().happy > 0.99", timeout=5_000)
    assert page.evaluate("kagura.expressionIndex()") == HAPPY
    page.wait_for_function("kagura.expressionWeights().aa === 0", timeout=5_000)  # at rest
    assert weights(page)["happy"] > 0.99, "the emotion holds after the reply"
    frames.wait_sent(page, "frontend-playback-complete")


def test_the_eyes_blink(pages: PageRecorder, server: KaguraProcess) -> None:
    # Idle frames are off on a software renderer (the model holds still); a streamer with a
    # GPU gets 15 a second, and ?idle_fps= asks for them here.
    page = open_loaded(pages, f"{server.http_url}/overlay?idle_fps=10")
    page.wait_for_function("kagura.expressionWeights().blink > 0.3", timeout=15_000)
    page.wait_for_function("kagura.expressionWeights().blink === 0", timeout=5_000)
    blinks = page.evaluate("kagura.blinks()")
    page.wait_for_function(f"kagura.blinks() > {blinks}", timeout=15_000)  # and again


def test_the_widget_shows_the_model_and_its_expressions(
    pages: PageRecorder, server: KaguraProcess
) -> None:
    page = open_loaded(pages, f"{server.http_url}/widget")
    sender = WidgetClient(stage_url(server, "/widget-ws"))
    try:
        assert sender.connect(10)
        # A VRM expression's own name (what the stage sends: the emotionMap's value), then
        # Kagura's tag (the map's key). The widget may first get a replay of an earlier reply.
        assert sender.send_expression("sad") is True
        page.wait_for_function("kagura.expressionWeights().sad > 0.99", timeout=10_000)
        assert weights(page).get("happy", 0) == 0
        assert sender.send_expression("joy") is True
        page.wait_for_function("kagura.expressionWeights().happy > 0.99", timeout=10_000)
        page.wait_for_function("kagura.expressionWeights().sad === 0", timeout=10_000)
    finally:
        sender.disconnect()
    names = page.evaluate("kagura.received.filter(m => !m.replay).map(m => m.name)")
    assert names == ["sad", "joy"]


def test_a_model_of_the_other_kind_replaces_the_view(
    pages: PageRecorder, server: KaguraProcess
) -> None:
    """A character switched between a Live2D and a VRM model (a preset) gets the other view,
    and the old one's canvas goes."""
    require_live2d_runtime()
    page = open_loaded(pages, f"{server.http_url}/widget")
    page.evaluate("kagura.widget.view.load({url: '/live2d-models/shizuku/shizuku.model.json'})")
    page.wait_for_function(
        "kagura.modelKind === 'live2d' && kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS
    )
    assert page.evaluate("document.querySelectorAll('#model canvas').length") == 1
    page.evaluate(f"kagura.widget.view.load({{url: '/live2d-models/{MODEL}.vrm'}})")
    page.wait_for_function("kagura.modelKind === 'vrm' && kagura.modelLoaded", timeout=10_000)
    page.wait_for_function("kagura.frames.frames > 0", timeout=10_000)
    assert page.evaluate("document.querySelectorAll('#model canvas').length") == 1


def test_without_three_js_the_page_says_the_model_is_unavailable(
    pages: PageRecorder, server: KaguraProcess
) -> None:
    pages.context.route("**/vendor/three**", lambda route: route.fulfill(status=404, body=""))
    page, _ = pages.open(f"{server.http_url}/stage")
    wait_connected(page)
    page.wait_for_function("kagura.modelState === 'unavailable'", timeout=15_000)
    assert page.evaluate("kagura.modelKind") == "vrm" and page.evaluate("kagura.ready")
    assert page.is_visible("#model-notice")
