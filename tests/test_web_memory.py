"""The console's memory panel in a real browser: it lists what the stage remembered,
searches it, and deletes a viewer for good (checked in the database)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher
from tests.support.wait import wait_until

from .conftest import fake_engines
from .memory_helpers import brain, facts_of, viewer_uids
from .web_browser import PageRecorder, open_stage, recorded_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def remembering(fake: FakeOpenAI, tmp_path: Path) -> Iterator[KaguraProcess]:
    fake.script = LLMScript(reply=brain)
    config = fake_engines(fake, memory={"enabled": True})
    with KaguraProcess(tmp_path, config) as server:
        yield server


@pytest.fixture
def pages(
    request: pytest.FixtureRequest, browser: Browser, remembering: KaguraProcess
) -> Iterator[PageRecorder]:
    yield from recorded_pages(request, browser, remembering)


async def chat(server: KaguraProcess) -> None:
    async with StageClient(server) as admin, Watcher(admin) as seen:
        await admin.chat("my cat is called Mochi", user="Alice")
        await seen.wait_turns(1)
        await admin.chat("I play the piano", user="Bob")
        await seen.wait_turns(2)


def test_the_memory_panel_lists_searches_and_deletes(
    pages: PageRecorder, remembering: KaguraProcess
) -> None:
    # The page's Playwright loop owns this thread: the viewers chat from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, chat(remembering)).result(timeout=60)
    wait_until(lambda: facts_of(remembering, "id-Bob"), 15, "Bob's fact")

    page, _ = open_stage(pages, remembering)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#memory-panel summary")
    page.wait_for_function(
        "document.querySelector('#memory-notes').textContent.includes('Mochi')", timeout=10_000
    )
    assert "Alice" in page.text_content("#memory-viewers")

    page.fill("#memory-search", "piano")
    page.wait_for_function(
        "!document.querySelector('#memory-notes').textContent.includes('Mochi')", timeout=10_000
    )
    assert "This viewer plays the piano." in page.text_content("#memory-notes")
    page.fill("#memory-search", "bob")
    page.wait_for_function(
        "document.querySelectorAll('#memory-viewers li').length === 1", timeout=10_000
    )
    page.click("#memory-viewers li button:last-child")  # Delete
    wait_until(lambda: "id-Bob" not in viewer_uids(remembering), 10, "Bob deleted")
    assert facts_of(remembering, "id-Bob") == []
    assert "id-Alice" in viewer_uids(remembering)
