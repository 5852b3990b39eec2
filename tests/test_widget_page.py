"""The widget page in Debian's Chromium, fed by someone's own script through the Python client:
`kagura widget serve --http-port` serves the page, the page connects to the seed's port, and
the test plays the user's pipeline with `WidgetClient`. The restart test runs last."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route

from kagura.widget import WidgetClient

from .web_browser import (
    MODEL_TIMEOUT_MS,
    PageRecorder,
    count_drawn_frames,
    drawn_frames,
    frames_over,
    recorded_pages,
    require_live2d_runtime,
    wait_still,
)
from .widget_helpers import WidgetProcess

pytestmark = pytest.mark.browser

ATTEMPTS = 5  # backoff 0.5, 1, 2, 4, 8 s: ~15 s for a restart, even on a busy machine
ANGER = 2  # Shizuku's emotionMap (f03 angry)
HTML = '<b id="bold">Hi</b> <img src=x onerror="window.pwned=1"> & you'


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetProcess]:
    config = {
        "widget": {
            "reconnect_attempts": ATTEMPTS,
            "live2d_model": "shizuku",
            "idle_tips": [],
            "replay_messages": 1,
        }
    }
    with WidgetProcess(tmp_path_factory.mktemp("widget"), config) as process:
        yield process


@pytest.fixture(scope="module")
def client(channel: WidgetProcess) -> Iterator[WidgetClient]:
    """The user's two lines: a client of the widget server, kept across restarts."""
    sender = WidgetClient(channel.ws_url)
    assert sender.connect(10)
    yield sender
    sender.disconnect()


@pytest.fixture
def pages(
    request: pytest.FixtureRequest, browser: Browser, channel: WidgetProcess
) -> Iterator[PageRecorder]:
    yield from recorded_pages(request, browser, channel)


def open_widget(pages: PageRecorder, channel: WidgetProcess, *, model: bool = False) -> Page:
    """The widget page, connected; with `model`, its Live2D model loaded too (the test is
    skipped without the Live2D runtime)."""
    if model:
        require_live2d_runtime()
    page, _ = pages.open(channel.page_url)
    page.wait_for_function("window.kagura && window.kagura.state === 'open'", timeout=15_000)
    if model:
        page.wait_for_function("kagura.modelLoaded", timeout=MODEL_TIMEOUT_MS)
    return page


def bubble(page: Page) -> dict:
    result: dict = page.evaluate("kagura.bubble()")
    return result


def test_a_reply_shows_for_its_duration_above_status_lines_as_text(
    pages: PageRecorder, channel: WidgetProcess, client: WidgetClient
) -> None:
    page = open_widget(pages, channel)
    assert client.send_llm_response(HTML, duration=3000) is True
    page.wait_for_function("kagura.bubble().visible && kagura.bubble().kind === 'reply'")
    assert bubble(page)["text"] == HTML
    assert page.locator("#bubble b, #bubble img").count() == 0, "the payload became HTML"
    assert page.evaluate("window.pwned") is None

    assert client.send_status("Thinking about the next one...") is True
    page.wait_for_function(
        "kagura.received.some(m => m.type === 'status')", timeout=10_000
    )  # the status arrived ...
    assert bubble(page) == {"visible": True, "text": HTML, "kind": "reply"}  # ... and waited
    page.wait_for_function("!kagura.bubble().visible", timeout=15_000)
    shown = page.evaluate("kagura.lastBubble()")
    assert shown["kind"] == "reply"
    assert 2900 <= shown["hiddenAt"] - shown["shownAt"] <= 4000

    assert client.send_status("Listening") is True
    page.wait_for_function("kagura.bubble().text === 'Listening'")
    assert bubble(page)["kind"] == "status"


def test_the_page_acknowledges_and_a_late_page_gets_a_replay(
    pages: PageRecorder, channel: WidgetProcess, client: WidgetClient
) -> None:
    first = open_widget(pages, channel)
    report = client.send({"type": "status", "content": "ack me"}, wait_ack_s=10)
    assert report is not None and (report.sent, report.acked) == (1, 1)
    first.close()
    client.send_llm_response("You missed this one", duration=20_000)
    late = open_widget(pages, channel)
    late.wait_for_function("kagura.bubble().text === 'You missed this one'", timeout=10_000)
    replayed = late.evaluate("kagura.received.filter(m => m.replay).map(m => m.content)")
    assert replayed == ["You missed this one"]


def test_expression_and_motion_messages_are_performed(
    pages: PageRecorder, channel: WidgetProcess, client: WidgetClient
) -> None:
    page = open_widget(pages, channel, model=True)
    assert page.evaluate("kagura.expressionIndex()") != ANGER
    assert client.send_expression("anger") is True
    page.wait_for_function(f"kagura.expressionIndex() === {ANGER}", timeout=10_000)
    assert client.send_motion("tap_body", 0) is True
    page.wait_for_function(
        "kagura.lastMotion && kagura.lastMotion.group === 'tap_body'", timeout=10_000
    )


def test_an_idle_widget_draws_nothing_and_a_motion_is_drawn(
    pages: PageRecorder, channel: WidgetProcess, client: WidgetClient
) -> None:
    """On software WebGL (here, and on machines without a GPU) an idle frame costs the CPU
    as much as any: the widget draws only what moves."""
    count_drawn_frames(pages.context)
    page = open_widget(pages, channel, model=True)
    wait_still(page)
    assert frames_over(page, 2.0) == 0
    before = drawn_frames(page)
    assert client.send_motion("tap_body", 0) is True
    page.wait_for_function(f"window.__drawn.frames > {before + 5}", timeout=10_000)
    wait_still(page)  # the motion ends, the model settles into its idle pose, drawing stops


def drop_link(page: Page) -> None:
    """A network blip: the socket closes under the page, which was not asked to stop, and the
    server (still running, its replay intact) sees the widget go and come back."""
    page.evaluate("kagura.widget.connection.ws.close()")
    page.wait_for_function("kagura.state !== 'open'", timeout=5_000)
    page.wait_for_function("kagura.state === 'open'", timeout=15_000)


def test_a_reconnect_does_not_replay_what_was_shown_but_a_fresh_page_gets_it(
    pages: PageRecorder, channel: WidgetProcess, client: WidgetClient
) -> None:
    page = open_widget(pages, channel)
    assert client.send_llm_response("Said once", duration=1000) is True
    page.wait_for_function("kagura.bubble().text === 'Said once'", timeout=10_000)
    page.wait_for_function("!kagura.bubble().visible", timeout=10_000)

    drop_link(page)
    page.wait_for_function(
        "kagura.received.some(m => m.replay && m.content === 'Said once')", timeout=10_000
    )  # the server did replay it ...
    page.wait_for_timeout(300)
    assert not bubble(page)["visible"], "a reconnect showed the reply again"  # ... unseen

    fresh = open_widget(pages, channel)  # a page that never saw it still catches up
    fresh.wait_for_function("kagura.bubble().text === 'Said once'", timeout=10_000)


def test_a_reconnect_does_not_perform_an_expression_again(
    pages: PageRecorder, channel: WidgetProcess, client: WidgetClient
) -> None:
    page = open_widget(pages, channel, model=True)
    assert client.send_expression("anger") is True
    page.wait_for_function(f"kagura.expressionIndex() === {ANGER}", timeout=10_000)
    page.evaluate("kagura.widget.view.expression(0)")  # the character moved on since
    page.wait_for_function("kagura.expressionIndex() === 0", timeout=10_000)

    drop_link(page)
    page.wait_for_function(
        "kagura.received.some(m => m.replay && m.type === 'expression')", timeout=10_000
    )
    page.wait_for_timeout(300)
    assert page.evaluate("kagura.expressionIndex()") == 0, "the expression was performed again"


def test_a_reconnect_reloads_a_model_whose_motions_failed_to_load(
    pages: PageRecorder, channel: WidgetProcess
) -> None:
    require_live2d_runtime()

    def server_away(route: Route) -> None:
        route.abort()

    pages.context.route("**/mtn/idle_*.mtn", server_away)  # lost while the server was down
    page = open_widget(pages, channel)
    page.wait_for_function(
        "kagura.modelLoaded && kagura.widget.view.view.damaged", timeout=MODEL_TIMEOUT_MS
    )
    pages.context.unroute("**/mtn/idle_*.mtn", server_away)

    drop_link(page)
    page.wait_for_function(
        "kagura.widget.view.view.loadSeq === 2 && kagura.modelLoaded"
        " && !kagura.widget.view.view.damaged",
        timeout=MODEL_TIMEOUT_MS,
    )
    drop_link(page)  # a healthy model is left as it is
    page.wait_for_timeout(300)
    assert page.evaluate("kagura.widget.view.view.loadSeq") == 2


def test_reconnects_after_a_restart_then_gives_up_and_offers_a_retry(
    pages: PageRecorder, channel: WidgetProcess, client: WidgetClient
) -> None:
    page = open_widget(pages, channel)
    channel.stop()
    page.wait_for_function("kagura.state === 'reconnecting'", timeout=10_000)
    channel.start()
    page.wait_for_function("kagura.state === 'open'", timeout=30_000)
    assert client.connect(30), "the Python client did not come back"
    assert client.send_llm_response("Back again", duration=5000) is True
    page.wait_for_function("kagura.bubble().text === 'Back again'", timeout=10_000)

    channel.stop()
    page.wait_for_function("kagura.state === 'failed'", timeout=60_000)
    assert page.evaluate("kagura.attempts") == ATTEMPTS
    assert page.locator("#retry").is_visible()
    assert f"after {ATTEMPTS} attempts" in page.locator("#link-text").inner_text()
    channel.start()
    page.click("#retry")
    page.wait_for_function("kagura.state === 'open'", timeout=30_000)
    assert page.locator("#link").is_hidden()
