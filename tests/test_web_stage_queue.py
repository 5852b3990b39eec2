"""The admin panel's queue in a real browser: a waiting viewer message is listed in the
streamer's words (a membership with what it bought beside what the viewer wrote), its Skip
button drops it (checked on the server), and the panel says why;
the pace is shown and changed from the page; the sound prompt leaves the character free."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.server import KaguraProcess
from tests.support.stage import StageClient
from tests.support.wait import wait_until

from .web_browser import PageRecorder, open_stage

pytestmark = pytest.mark.browser


async def viewer_asks(server: KaguraProcess) -> None:
    async with StageClient(server, "platform") as platform:
        await platform.connect_sequence()
        await platform.chat("Kagura, what's your favourite game?", user="Quinn")
        await platform.chat(
            "still here after 3 months", user="Rin", kind="membership", label="Tier 1, 3 months"
        )
        await platform.send({"type": "heartbeat"})  # answered once the chat is queued
        await platform.recv_until("heartbeat-ack", timeout=10)


def queue(server: KaguraProcess) -> dict[str, Any]:
    listed: dict[str, Any] = httpx.get(f"{server.http_url}/stage/queue", timeout=5).json()
    return listed


def test_the_admin_panel_lists_a_waiting_message_and_skips_it(
    pages: PageRecorder, kagura: KaguraProcess
) -> None:
    httpx.post(f"{kagura.http_url}/stage/pause", json={"paused": True}, timeout=5)
    try:
        page, _ = open_stage(pages, kagura)  # on loopback without a token: the admin
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, viewer_asks(kagura)).result(timeout=30)
        page.click("#admin-panel summary")
        item = page.locator("#admin-queue li", has_text="favourite game")
        item.wait_for(timeout=10_000)
        shown = item.inner_text()
        assert "Quinn" in shown and "[chat]" in shown and "asks the character" in shown
        assert "Waiting 2" in page.locator("#admin-summary").inner_text()
        member = page.locator("#admin-queue li", has_text="Rin").inner_text()
        assert "«Tier 1, 3 months» still here after 3 months" in member

        item.locator("button.skip").click()
        wait_until(lambda: len(queue(kagura)["waiting"]) == 1, 10, "the message skipped")
        dropped = page.locator("#admin-dropped li", has_text="favourite game")
        dropped.wait_for(timeout=10_000)
        assert "skipped by you" in dropped.inner_text()
        assert page.locator("#admin-queue li", has_text="favourite game").count() == 0

        page.select_option("#admin-pace", "lively")
        wait_until(lambda: queue(kagura)["pace"]["name"] == "lively", 10, "the pace changed")
        page.select_option("#admin-pace", "normal")
        wait_until(lambda: queue(kagura)["pace"]["name"] == "normal", 10, "the pace restored")
    finally:
        httpx.post(f"{kagura.http_url}/stage/pause", json={"paused": False}, timeout=5)


def test_the_sound_prompt_does_not_cover_the_character(
    pages: PageRecorder, kagura: KaguraProcess
) -> None:
    page, _ = open_stage(pages, kagura)
    page.evaluate("document.getElementById('audio-unlock').hidden = false")
    prompt = page.locator("#audio-unlock").bounding_box()
    stage = page.locator("#stage").bounding_box()
    assert prompt is not None and stage is not None
    # Within the top tenth of the stage, well clear of the character in the middle.
    assert prompt["y"] + prompt["height"] <= stage["y"] + stage["height"] * 0.1
