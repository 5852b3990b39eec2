"""The widget channel inside `kagura serve`: `/widget-ws` gets every finished stage reply
(tags stripped, the first emotion as an expression and a motion), only admins may connect
there as senders, and `/widget` is served."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosedError

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_END, stage_url, widget_reply

REPLY = "[joy] Hello there, friend! [sadness] It is a rainy day today."


async def test_stage_replies_reach_widget_ws(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=REPLY)
    frames, seen = await widget_reply(kagura, "How is the weather?")
    assert CHAIN_END in seen
    # Haru (the default model): joy is expression 1 and, having no expressions, a motion.
    assert [f["type"] for f in frames] == ["expression", "motion", "llm_response"]
    assert frames[0]["index"] == 1 and frames[1]["group"] == "Use"
    reply = frames[2]
    assert reply["content"] == "Hello there, friend! It is a rainy day today."
    assert reply["duration"] == 8000


async def test_widget_page_and_settings_are_served(kagura: KaguraProcess) -> None:
    async with httpx.AsyncClient(base_url=kagura.http_url) as http:
        page = await http.get("/widget")
        settings = (await http.get("/widget/settings")).json()
    assert page.status_code == 200 and "widget.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert settings["reconnect_attempts"] == 5
    assert settings["model_info"]["name"] == "haru"


async def test_only_an_admin_may_send_on_widget_ws(kagura: KaguraProcess) -> None:
    status = json.dumps({"type": "status", "content": "from a page", "id": "s1"})
    async with websockets.connect(
        stage_url(kagura, "/widget-ws", role="page", kind="sender")
    ) as ws:
        with pytest.raises(ConnectionClosedError) as closed:
            await ws.send(status)
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    async with websockets.connect(stage_url(kagura, "/widget-ws", kind="sender")) as admin:
        await admin.send(status)
        receipt = json.loads(await asyncio.wait_for(admin.recv(), 10))
    assert receipt["type"] == "receipt" and receipt["id"] == "s1"
