"""History over the wire: create, list, load, delete; survives a restart and a kill -9."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.wait import until

from .conftest import fake_engines


async def history_list(client: ProtocolClient) -> list[dict]:
    await client.send({"type": "fetch-history-list"})
    return (await client.recv_until("history-list", timeout=10))[-1]["histories"]


async def history_data(client: ProtocolClient, uid: str) -> list[dict]:
    await client.send({"type": "fetch-and-set-history", "history_uid": uid})
    return (await client.recv_until("history-data", timeout=10))[-1]["messages"]


def stored(server: KaguraProcess, uid: str) -> list[str]:
    """The history's messages as on disk, read by another connection as a tool would."""
    path = Path(server.config["system"]["data_dir"]) / "history.sqlite3"
    conn = sqlite3.connect(path, timeout=5)
    try:
        query = "SELECT content FROM messages WHERE history_uid = ? ORDER BY id"
        return [row[0] for row in conn.execute(query, (uid,))]
    finally:
        conn.close()


async def test_history_lifecycle(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="Hello there, it is nice to see you again.")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "create-new-history"})
        created = (await client.recv_until("new-history-created"))[-1]["history_uid"]
        await client.turn("Remember me?")
        listing = await history_list(client)
        assert listing[0]["uid"] == created
        latest = listing[0]["latest_message"]
        assert latest["role"] == "ai" and latest["content"].startswith("Hello there")
        messages = await history_data(client, created)
        assert [(m["role"], m["content"]) for m in messages] == [
            ("human", "Remember me?"),
            ("ai", "Hello there, it is nice to see you again."),
        ]
        # Loading a history restores memory: the next prompt contains it.
        await client.turn("And now?")
        assert fake.chat_requests()[-1]["messages"][1]["content"] == "Remember me?"

        await client.send({"type": "delete-history", "history_uid": created})
        deleted = (await client.recv_until("history-deleted"))[-1]
        assert deleted == {"type": "history-deleted", "success": True, "history_uid": created}
        assert created not in [h["uid"] for h in await history_list(client)]
        await client.send({"type": "fetch-and-set-history", "history_uid": created})
        assert (await client.recv_until("error"))[-1]["type"] == "error"


async def test_history_survives_restart_and_kill(fake: FakeOpenAI, tmp_path) -> None:
    server = KaguraProcess(tmp_path, fake_engines(fake)).start()
    try:
        fake.script = LLMScript(reply="This reply is stored before the restart.")
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            await client.turn("Before restart")
        server.stop()
        server.start()
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            [summary] = await history_list(client)
            first_uid = summary["uid"]
            assert (
                summary["latest_message"]["content"] == "This reply is stored before the restart."
            )

            # Now kill -9 while a reply is being written.
            fake.script = LLMScript(reply=" ".join(["Slowly I speak."] * 30), tokens_per_s=10)
            await history_data(client, first_uid)  # continue the same history
            await client.send({"type": "text-input", "text": "Crash during this"})
            await client.recv_until("audio", timeout=15)
            # The human message is written alongside the LLM call, so first audio does not
            # mean it is committed: wait until it is on disk (the reply takes seconds more).
            await until(
                lambda: "Crash during this" in stored(server, first_uid),
                timeout_s=10,
                what="the human message in the history database",
            )
            server.kill()
            await asyncio.sleep(0.2)
        server.start()
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            messages = await history_data(client, first_uid)
        contents = [m["content"] for m in messages]
        # Everything committed before the kill is there; only the in-flight reply is lost.
        assert contents[:2] == ["Before restart", "This reply is stored before the restart."]
        assert contents[2] == "Crash during this"
        assert len(contents) == 3
    finally:
        server.stop()
