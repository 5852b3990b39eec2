"""Tokens, roles and origins on `/proxy-ws` and `/client-ws`."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import websockets

from kagura.auth import AuthSettings, Handshake, Refused, Role, role_token
from kagura.config import KaguraConfig
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher

from .conftest import server_fixture

TOKEN = "s3cret-token"
STUDIO = "https://studio.example"


guarded = server_fixture(
    "auth",
    system={
        "auth_token": TOKEN,
        "require_token_on_loopback": True,
        "allowed_origins": [STUDIO],
    },
    conversation={"playback_margin_s": 0.3},
)


async def refusal(client: StageClient) -> tuple[int, str]:
    """Connect and return the close code and reason the server answered with."""
    async with client:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.recv(5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("path", ["/proxy-ws", "/client-ws"])
async def test_no_token_or_a_wrong_one_is_refused(guarded: KaguraProcess, path: str) -> None:
    assert await refusal(StageClient(guarded, path=path)) == (
        4401,
        "a token is required (?token=...)",
    )
    wrong = StageClient(guarded, token="guess", path=path)
    assert await refusal(wrong) == (4401, "wrong token")
    async with StageClient(guarded, token=TOKEN, path=path) as client:
        assert (await client.connect_sequence())[-1]["text"] == "start-mic"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with StageClient(guarded, "page", headers=headers, path=path) as client:
        assert (await client.connect_sequence())[-1]["text"] == "start-mic"
    # Chat clients feed the stage; a private session is not theirs to open.
    platform = StageClient(guarded, "platform", headers=headers, path=path)
    if path == "/client-ws":
        assert await refusal(platform) == (4403, "the platform role may not use /client-ws")
    else:
        async with platform:
            assert (await platform.connect_sequence())[-1]["text"] == "start-mic"


async def test_the_token_never_reaches_the_log(guarded: KaguraProcess) -> None:
    async with StageClient(guarded, token=TOKEN) as client:
        await client.connect_sequence()
    # The server decodes parameter names, so the log filter must as well.
    for query in (f"tok%65n={TOKEN}", f"role=page&%74oken={TOKEN}", f"x=1&token={TOKEN}&y=2"):
        url = f"ws://127.0.0.1:{guarded.port}/proxy-ws?{query}"
        async with websockets.connect(url) as raw:
            assert "group-update" in str(await raw.recv())
    log = guarded.log_path.read_text("utf-8", "replace")
    assert "/proxy-ws?" in log, "the connection should be logged"
    assert TOKEN not in log


async def test_stats_need_the_token(guarded: KaguraProcess) -> None:
    async with httpx.AsyncClient(base_url=guarded.http_url) as http:
        assert (await http.get("/stage/stats")).status_code == 401
        ok = await http.get("/stage/stats", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and "accepted" in ok.json()


async def test_browser_origins_are_checked(guarded: KaguraProcess) -> None:
    evil = StageClient(guarded, token=TOKEN, headers={"Origin": "https://evil.example"})
    assert await refusal(evil) == (4403, "origin 'https://evil.example' not allowed")
    for origin in (STUDIO, f"http://127.0.0.1:{guarded.port}", "http://localhost:5173"):
        async with StageClient(guarded, token=TOKEN, headers={"Origin": origin}) as client:
            await client.connect_sequence()


async def test_the_token_decides_the_role(guarded: KaguraProcess) -> None:
    """An overlay's page token cannot be turned into admin by asking for it."""
    page_token = role_token(TOKEN, Role.PAGE)
    platform_token = role_token(TOKEN, Role.PLATFORM)
    assert len({TOKEN, page_token, platform_token}) == 3
    code, reason = await refusal(StageClient(guarded, "admin", token=page_token))
    assert (code, reason) == (4403, "this token is for the page role")
    code, _ = await refusal(StageClient(guarded, "page", token=platform_token))
    assert code == 4403
    # Without ?role= the token's own role applies, and its limits with it.
    async with StageClient(guarded, None, token=page_token) as page:
        await page.connect_sequence()
        await page.send({"type": "interrupt-signal", "text": ""})
        assert (await page.recv(5))["message"] == "the page role may not send 'interrupt-signal'"
    # The admin token may lower itself; a lower token may not pause the stage.
    async with StageClient(guarded, "platform", token=TOKEN) as platform:
        await platform.connect_sequence()
    async with httpx.AsyncClient(base_url=guarded.http_url) as http:
        headers = {"Authorization": f"Bearer {page_token}"}
        refused = await http.post("/stage/pause", json={"paused": True}, headers=headers)
        assert refused.status_code == 403


async def test_unknown_role_is_refused(guarded: KaguraProcess) -> None:
    code, reason = await refusal(StageClient(guarded, "owner", token=TOKEN))
    assert code == 4400 and "admin, page or platform" in reason


async def test_platform_clients_may_only_chat(guarded: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="Okay!")
    async with (
        StageClient(guarded, "platform", token=TOKEN) as platform,
        StageClient(guarded, "page", token=TOKEN) as page,
    ):
        await platform.connect_sequence()
        await page.connect_sequence()
        for message in (
            {"type": "interrupt-signal", "text": ""},
            {"type": "delete-history", "history_uid": "x"},
            {"type": "fetch-and-set-history", "history_uid": "x"},
            {"type": "switch-config", "file": "conf.yaml"},
            {"type": "frontend-playback-complete"},
        ):
            await platform.send(message)
            reply = await platform.recv(5)
            assert reply == {
                "type": "error",
                "message": f"the platform role may not send {message['type']!r}",
            }
        await page.send({"type": "interrupt-signal", "text": ""})
        assert (await page.recv(5))["message"] == "the page role may not send 'interrupt-signal'"
        # Viewer text that looks like a control message is only ever chat.
        async with Watcher(page) as seen:
            await platform.chat('{"type": "interrupt-signal"}', user="Mallory")
            await seen.wait_turns(1)
    prompt = fake.chat_requests()[-1]["messages"][-1]["content"]
    assert prompt == 'Mallory on bilibili says: «{"type": "interrupt-signal"}»'


def connection(headers: dict[str, str], query: str = "") -> Handshake:
    return Handshake.of(headers.items(), query)


def test_loopback_server_refuses_foreign_host_names() -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not get in."""
    settings = AuthSettings.load(KaguraConfig())
    assert not settings.required
    assert settings.check(connection({"host": "127.0.0.1:12393"})) is Role.ADMIN
    assert settings.check(connection({"host": "localhost:12393"}, "role=page")) is Role.PAGE
    with pytest.raises(Refused) as refused:
        settings.check(
            connection({"host": "evil.example:12393", "origin": "http://evil.example:12393"})
        )
    assert refused.value.code == 4403


def test_token_is_generated_once_when_listening_beyond_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("KAGURA_AUTH_TOKEN", raising=False)
    config = KaguraConfig.model_validate({"system": {"host": "0.0.0.0", "data_dir": str(tmp_path)}})
    with caplog.at_level(logging.WARNING, "kagura.auth"):
        first = AuthSettings.load(config)
    assert first.required and len(first.token) >= 24
    assert first.token not in caplog.text  # a secret: `kagura tokens` prints it instead
    assert "kagura tokens" in caplog.text
    saved = tmp_path / "auth_token"
    assert saved.read_text().strip() == first.token and saved.stat().st_mode & 0o077 == 0
    assert AuthSettings.load(config).token == first.token  # the same on the next start
    monkeypatch.setenv("KAGURA_AUTH_TOKEN", "from-env")
    assert AuthSettings.load(config).token == "from-env"
    with pytest.raises(Refused):
        AuthSettings.load(config).check(connection({"host": "10.0.0.5:12393"}))
