"""The protocol's request messages: configs, presets, backgrounds, groups, heartbeat."""

from __future__ import annotations

import httpx

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess


async def ask(client: ProtocolClient, message: dict, reply_type: str) -> list[dict]:
    await client.send(message)
    return await client.recv_until(reply_type, timeout=10)


async def test_fetch_and_switch_config(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        configs = (await ask(client, {"type": "fetch-configs"}, "config-files"))[-1]["configs"]
        assert configs[0]["filename"] == "conf.yaml"
        assert {"filename": "mika.yaml", "name": "Mika"} in configs

        seen = await ask(client, {"type": "switch-config", "file": "mika.yaml"}, "config-switched")
        [conf] = [m for m in seen if m["type"] == "set-model-and-conf"]
        assert conf["conf_name"] == "Mika" and conf["model_info"]["name"] == "shizuku"
        configs = (await ask(client, {"type": "fetch-configs"}, "config-files"))[-1]["configs"]
        assert configs[0]["filename"] == "mika.yaml"

        fake.script = LLMScript(reply="Hi, I am Mika now.")
        await client.turn("Who are you?")
        system = fake.chat_requests()[-1]["messages"][0]["content"]
        assert "Mika" in system


async def test_switch_config_rejects_traversal(kagura: KaguraProcess) -> None:
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        for name in ("../conf.yaml", "/etc/passwd", "sub/x.yaml", "missing.yaml"):
            reply = (await ask(client, {"type": "switch-config", "file": name}, "error"))[-1]
            assert name in reply["message"]


async def test_backgrounds_groups_heartbeat_init(kagura: KaguraProcess) -> None:
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        backgrounds = (await ask(client, {"type": "fetch-backgrounds"}, "background-files"))[-1]
        # The default background the frontend asks for first, shipped in the package.
        assert backgrounds["files"] == ["ceiling-window-room-night.jpeg"]
        async with httpx.AsyncClient(base_url=kagura.http_url) as http:
            image = await http.get("/bg/ceiling-window-room-night.jpeg")
        assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"  # a JPEG
        result = (
            await ask(
                client,
                {"type": "add-client-to-group", "invitee_uid": "x"},
                "group-operation-result",
            )
        )[-1]
        assert result["success"] is False and result["message"]
        info = (await ask(client, {"type": "request-group-info"}, "group-update"))[-1]
        assert info == {"type": "group-update", "members": [], "is_owner": False}
        init = (await ask(client, {"type": "request-init-config"}, "set-model-and-conf"))[-1]
        assert init["model_info"]["name"] == "haru"
        assert (await ask(client, {"type": "heartbeat"}, "heartbeat-ack"))[-1] == {
            "type": "heartbeat-ack"
        }


async def test_proactive_speech(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="So, has anyone seen a good movie lately?")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "ai-speak-signal", "idle_time": 30})
        seen = await client.collect_turn()
    # As the original server: the announcement first, then an ordinary turn.
    assert seen[0] == {"type": "full-text", "text": "AI wants to speak something..."}
    assert seen[1] == {"type": "control", "text": "conversation-chain-start"}
    assert seen[2] == {"type": "full-text", "text": "Thinking..."}
    assert any(m["type"] == "audio" for m in seen)
