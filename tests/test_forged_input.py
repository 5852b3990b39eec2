"""A hostile platform client (#23, bad input): its claimed amounts count only up to the
stage's caps, and it speaks for one platform only, its token's or its first event's."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kagura.auth import AuthSettings, Grant, Handshake, Refused, Role, platform_token, role_token
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient
from tests.support.wait import until

from .conftest import server_fixture
from .memory_helpers import brain, memory_rows, reply_prompts

TOKEN = "forged-input-token"
PER_EVENT = 500
PER_VIEWER = 1000

forged = server_fixture(
    "forged",
    system={"auth_token": TOKEN, "require_token_on_loopback": True},
    memory={"enabled": True},
    stage={
        "batch_max": 1,
        "user_rate_per_min": 0,
        "dedup_window_s": 0,
        "gift_llm_min_amount": 10,
        "max_amount_per_event": PER_EVENT,
        "max_amount_per_viewer_per_stream": PER_VIEWER,
    },
    conversation={"playback_margin_s": 0.1},
)


@pytest.fixture(autouse=True)
def remembering(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=brain)


def platform_client(server: KaguraProcess, token: str | None = None) -> StageClient:
    """A chat client with a platform token (the plain one unless `token` is given)."""
    return StageClient(server, "platform", token=token or role_token(TOKEN, Role.PLATFORM))


async def event(
    client: StageClient,
    platform: str,
    user: str,
    kind: str = "danmaku",
    text: str = "",
    **extra: Any,
) -> None:
    source = {"platform": platform, "kind": kind, "user": {"name": user, "id": f"id-{user}"}}
    await client.send({"type": "text-input", "text": text, "source": {**source, **extra}})


async def error_frame(client: StageClient) -> str:
    """The next `error` the server sends this client (other frames skipped), within 5 s."""
    while True:
        message = await client.recv(5)
        if message["type"] == "error":
            return str(message["message"])


async def prompted(fake: FakeOpenAI, words: str) -> str:
    """The reply prompt that says `words` (waited for)."""

    def found() -> str | None:
        return next((p for p in reply_prompts(fake.chat_requests()) if words in p), None)

    return await until(found, 30, f"a prompt saying {words!r}")


async def stage_stats(server: KaguraProcess) -> dict[str, Any]:
    """`GET /stage/stats` as the streamer (this server wants a token even on loopback)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10, headers=headers) as http:
        response = await http.get("/stage/stats")
    assert response.status_code == 200, response.text
    stats: dict[str, Any] = response.json()
    return stats


def paid(server: KaguraProcess, uid: str) -> tuple[int, dict[str, float]] | None:
    """(messages, paid by currency) of viewer `uid` in long-term memory."""
    rows = memory_rows(server, "SELECT messages, paid FROM viewers WHERE uid = ?", uid)
    return (rows[0][0], json.loads(rows[0][1])) if rows else None


async def test_an_absurd_super_chat_is_answered_but_counts_only_up_to_the_cap(
    forged: KaguraProcess, fake: FakeOpenAI
) -> None:
    before = (await stage_stats(forged))["forged"]["amount_clipped"]
    async with platform_client(forged) as client:
        await client.connect_sequence()
        await event(
            client, "bilibili", "Whale", "superchat", "Notice me!", amount=1e12, currency="CNY"
        )
        prompt = await prompted(fake, "Whale")
    assert f"Super Chat ({PER_EVENT} CNY)" in prompt  # answered as paid, at the cap
    assert "1e+12" not in prompt and "1000000000000" not in prompt
    stats = await stage_stats(forged)
    assert stats["forged"]["amount_clipped"] == before + 1
    remembered = await until(lambda: paid(forged, "id-Whale"), 10, "Whale's profile")
    assert remembered == (1, {"CNY": PER_EVENT})


async def test_a_viewers_gifts_stop_counting_past_the_stream_cap(
    forged: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with platform_client(forged) as client:
        await client.connect_sequence()
        for n in range(5):  # 2000 CNY claimed, each gift under the per-event cap
            await event(
                client, "bilibili", "Gifter", "gift", "Rocket", amount=400, currency="CNY", id=n
            )
        profile = await until(
            lambda: (found := paid(forged, "id-Gifter")) and found[0] == 5 and found,
            30,
            "all five gifts counted into Gifter's profile",
        )
    assert profile == (5, {"CNY": PER_VIEWER})  # 400 + 400 + 200, then nothing
    # The third gift counted for what was left; the last two for nothing: they are thanked
    # as unpaid (by the template), never told to the LLM as worth anything.
    assert (await stage_stats(forged))["forged"]["amount_over_viewer_cap"] == 3
    await prompted(fake, "(200 CNY)")
    gifts = [p for p in reply_prompts(fake.chat_requests()) if "Gifter" in p]
    assert sum("(400 CNY)" in p for p in gifts) == 2 and sum("(200 CNY)" in p for p in gifts) == 1


async def test_a_platform_client_speaks_only_for_the_platform_of_its_first_event(
    forged: KaguraProcess, fake: FakeOpenAI
) -> None:
    before = await stage_stats(forged)
    async with platform_client(forged) as client:
        await client.connect_sequence()
        await event(client, "bilibili", "Bili", text="hello from bilibili")
        await prompted(fake, "hello from bilibili")
        await event(client, "youtube", "Tuber", text="hello from youtube")
        refused = await error_frame(client)
        assert "this connection speaks for bilibili" in refused and "youtube" in refused
        await client.send({"type": "chat-withdraw", "platform": "youtube", "ids": ["x"]})
        assert "this connection speaks for bilibili" in await error_frame(client)
        # Still its own platform's client: the next bilibili event is answered.
        await event(client, "bilibili", "Bili", text="still here")
        await prompted(fake, "still here")
    after = await stage_stats(forged)
    assert after["forged"]["wrong_platform"] == before["forged"]["wrong_platform"] + 2
    assert after["accepted"] == before["accepted"] + 2  # the youtube event never queued
    assert not any("hello from youtube" in p for p in reply_prompts(fake.chat_requests()))


async def test_a_token_bound_to_a_platform_may_not_say_hello_as_another(
    forged: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with platform_client(forged, platform_token(TOKEN, "twitch")) as client:
        await client.connect_sequence()
        await event(client, "bilibili", "Posing", text="first words as bilibili")
        assert "this connection speaks for twitch" in await error_frame(client)
        await event(client, "twitch", "Streamer", text="first words as twitch")
        await prompted(fake, "first words as twitch")
    assert not any("as bilibili" in p for p in reply_prompts(fake.chat_requests()))


async def test_the_streamer_may_relay_every_platform(
    forged: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with StageClient(forged, token=TOKEN) as admin:
        await admin.connect_sequence()
        await event(admin, "bilibili", "Ann", text="admin relays bilibili")
        await prompted(fake, "admin relays bilibili")
        await event(admin, "youtube", "Ben", text="admin relays youtube")
        await prompted(fake, "admin relays youtube")
        assert not [m for m in await admin.quiet(0.3) if m["type"] == "error"]


def grant(token: str, role: str | None = None) -> Grant:
    settings = AuthSettings.for_host("127.0.0.1", token=TOKEN, require_on_loopback=True)
    query = f"token={token}" + (f"&role={role}" if role else "")
    return settings.grant(Handshake.of([("host", "127.0.0.1")], query))


def test_platform_tokens_bound_and_unbound() -> None:
    # The tokens handed out before platforms could be named still work, unbound.
    assert grant(role_token(TOKEN, Role.PLATFORM)) == Grant(Role.PLATFORM)
    assert grant(platform_token(TOKEN, "bilibili")) == Grant(Role.PLATFORM, "bilibili")
    assert grant(platform_token(TOKEN, "bilibili"), "platform") == Grant(Role.PLATFORM, "bilibili")
    assert grant(TOKEN, "platform") == Grant(Role.PLATFORM)  # the streamer's, lowered
    forged_mac = platform_token(TOKEN, "bilibili").replace("bilibili.", "youtube.")
    for wrong in (forged_mac, "bilibili.", "youtube." + "0" * 32):
        with pytest.raises(Refused, match="wrong token"):
            grant(wrong)
    with pytest.raises(Refused, match="this token is for the platform role"):
        grant(platform_token(TOKEN, "bilibili"), "admin")
    with pytest.raises(ValueError, match="platform name"):
        platform_token(TOKEN, "bili bili")
