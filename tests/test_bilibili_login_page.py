"""Logging in to Bilibili from the stage page's admin panel: a real browser, a real server
and the fake Bilibili's passport (TLS, real endpoints and codes).

The QR code advances only when the test moves it, so each state is seen while it holds. The
login file the server saves is the one `kagura live bilibili` reads (tested with the reader
in test_live_bilibili_login.py): here its place, its mode and its contents are checked, and
that no cookie ever reaches the page or the server's log.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kagura.testing.fake_bilibili import UID, FakeBilibili
from kagura.testing.fake_openai import FakeOpenAI
from tests.support.server import KaguraProcess
from tests.support.wait import wait_until

from .conftest import fake_engines
from .web_browser import PageRecorder, open_stage

pytestmark = pytest.mark.browser

STATUS = "document.querySelector('#bili-login-status').textContent"
LOGIN = "/stage/bilibili-login"


@pytest.fixture(scope="module")
def bili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeBilibili]:
    with FakeBilibili(tmp_path_factory.mktemp("bili")) as server:
        yield server


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def kagura(
    fake: FakeOpenAI, bili: FakeBilibili, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KaguraProcess]:
    bilibili = {
        "passport_api": bili.api_url,
        "web_api": bili.api_url,
        "ca_file": str(bili.ca_file),
        "login_poll_s": 0.05,
    }
    config = fake_engines(fake, system={"data_dir": str(data_dir)}, live={"bilibili": bilibili})
    with KaguraProcess(tmp_path_factory.mktemp("login"), config) as process:
        yield process


def secrets(bili: FakeBilibili) -> list[str]:
    sessions = bili.read(lambda: list(bili.passport.sessions.values()))
    return [s for session in sessions for s in (session.sessdata, session.bili_jct)] + [
        session.refresh_token for session in sessions
    ]


def test_the_admin_panel_shows_the_qr_code_and_saves_the_login(
    pages: PageRecorder, kagura: KaguraProcess, bili: FakeBilibili, data_dir: Path
) -> None:
    stage, _ = open_stage(pages, kagura)
    stage.click("#admin-panel > summary")
    stage.click("#bili-login-start")
    stage.wait_for_function(f"{STATUS}.includes('Scan this QR code')", timeout=10_000)
    qr = stage.locator("#bili-login-qr")
    assert qr.is_visible()
    assert qr.get_attribute("src", timeout=1_000).startswith("data:image/svg+xml")
    assert stage.locator("#bili-login-start").is_hidden()

    bili.read(lambda: bili.passport.advance("scanned"))
    stage.wait_for_function(f"{STATUS}.includes('confirm the login on your phone')")
    path = data_dir / "bilibili-login.json"
    assert not path.exists()
    bili.read(lambda: bili.passport.advance("confirmed"))
    stage.wait_for_function(f"{STATUS}.includes('Logged in as')", timeout=10_000)
    shown = stage.evaluate(STATUS)
    assert f"tester (uid {UID})" in shown and str(path) in shown
    assert qr.is_hidden() and stage.locator("#bili-login-start").is_visible()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [session] = bili.read(lambda: list(bili.passport.sessions.values()))
    saved = json.loads(path.read_text())
    assert saved["cookies"]["SESSDATA"] == session.sessdata
    assert saved["refresh_token"] == session.refresh_token
    page_text = stage.content()
    assert not any(secret in page_text for secret in secrets(bili))
    assert not any(secret in kagura.log() for secret in secrets(bili))


def test_an_expired_code_fails_clearly_and_a_cancel_stops_the_attempt(
    kagura: KaguraProcess, bili: FakeBilibili
) -> None:
    """Over HTTP, as a Stream Deck or a script would (the browser test owns the page)."""

    def issued() -> int:
        return bili.read(lambda: len(bili.passport.qr_codes))

    before = issued()
    with httpx.Client(base_url=kagura.http_url, timeout=10) as http:

        def failed() -> dict[str, Any] | None:
            answer: dict[str, Any] = http.get(LOGIN).json()
            return answer if answer["state"] == "failed" else None

        first = http.post(LOGIN).json()
        assert first["state"] in ("starting", "waiting")
        wait_until(lambda: issued() > before, 10, "a QR code")
        second = http.post(LOGIN).json()  # a second page: the same attempt
        assert second["state"] in ("starting", "waiting") and issued() == before + 1
        bili.read(lambda: bili.passport.advance("expired"))
        answer = wait_until(failed, 10, "the expired code")
        assert "expired" in answer["error"] and answer["qr"] is None

        started = http.post(LOGIN).json()
        assert started["state"] in ("starting", "waiting")
        cancelled = http.delete(LOGIN).json()
        assert (cancelled["state"], cancelled["error"], cancelled["qr"]) == (
            "failed",
            "cancelled",
            None,
        )
