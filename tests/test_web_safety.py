"""The stage page's Ban button and safety panel in a real browser: a viewer's line in the chat
log bans them by platform identity, the panel lists them and the audit entry, and Unban lifts
the ban (checked on the server)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient
from tests.support.wait import wait_until

from .web_browser import PageRecorder, open_stage

pytestmark = pytest.mark.browser


async def mallory_chats(server: KaguraProcess) -> None:
    async with StageClient(server, "platform") as platform:
        await platform.connect_sequence()
        user = {"name": "Mallory", "id": "id-Mallory"}
        source = {"platform": "bilibili", "kind": "danmaku", "user": user}
        await platform.send({"type": "text-input", "text": "hello from Mallory", "source": source})


def bans(server: KaguraProcess) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = httpx.get(f"{server.http_url}/stage/bans").json()["bans"]
    return listed


def test_the_chat_log_bans_a_viewer_and_the_safety_panel_lifts_it(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hi Mallory!")
    page, _ = open_stage(pages, kagura)  # on loopback without a token: the admin
    page.on("dialog", lambda dialog: dialog.accept())
    # The page's Playwright loop owns this thread: the viewer chats from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, mallory_chats(kagura)).result(timeout=30)
    line = page.locator("#chat-log li.human", has_text="hello from Mallory")
    line.wait_for(timeout=20_000)

    line.locator("button.ban").click()
    page.wait_for_function(
        "document.querySelector('#chat-log button.ban').textContent === 'Banned'", timeout=10_000
    )
    assert line.locator("button.ban").is_disabled()
    assert [(b["platform"], b["user_id"], b["name"]) for b in bans(kagura)] == [
        ("bilibili", "id-Mallory", "Mallory")
    ]

    page.click("#safety-panel summary")
    page.wait_for_function(
        "document.querySelector('#safety-bans').textContent.includes('id-Mallory')",
        timeout=10_000,
    )
    assert "Mallory" in page.text_content("#safety-log li[data-kind='ban']")
    page.click("#safety-bans li button")  # Unban
    wait_until(lambda: bans(kagura) == [], 10, "the ban lifted")
    page.wait_for_function(
        "document.querySelector('#safety-bans').textContent.includes('Nobody is banned')",
        timeout=10_000,
    )
