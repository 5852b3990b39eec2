"""The stage page's Start show / End show buttons, in a real browser on a real server."""

from __future__ import annotations

import pytest

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import user_messages
from tests.support.wait import wait_until

from .conftest import server_fixture
from .web_browser import PageRecorder, open_stage

pytestmark = pytest.mark.browser

kagura = server_fixture("show")

STATUS = "document.querySelector('#show-status').textContent"


def test_the_buttons_open_and_close_the_show(
    pages: PageRecorder, kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Welcome, everyone!")
    stage, _ = open_stage(pages, kagura)
    stage.click("#show-start")
    stage.wait_for_function(f"{STATUS}.includes('starts')", timeout=5_000)
    stage.click("#show-start")
    stage.wait_for_function(f"{STATUS}.includes('already started')", timeout=5_000)
    stage.click("#show-end")
    stage.wait_for_function(f"{STATUS}.includes('ends')", timeout=5_000)

    def asked(words: str) -> bool:
        return any(words in str(text) for text in user_messages(fake.chat_requests()))

    wait_until(lambda: asked("stream is starting") and asked("stream is ending"), 15, "both")
