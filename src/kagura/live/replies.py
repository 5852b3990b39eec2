"""The character's replies, heard on the widget channel and posted in a platform's chat.

`kagura serve` sends every finished reply to `/widget-ws` as it goes on air: after the
safety guard, after the stream delay, and never a reply the streamer cut. A platform client
with `reply_in_chat` listens there as a widget would (with its platform token) and hands
each reply to its `ChatOut`. Replies replayed to a widget that connects late were posted
before, or are stale: they are not posted. The session is supervised like a room's
(reconnects with backoff); its heartbeats keep the watchdog content while nobody talks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection

from kagura.link import LIVE, Refusal, connect, safe_url, with_query

from .chat_out import ChatOut
from .platform import ALIVE_EVERY_S, Fatal, Link, LivePlatform, stop


def widget_url(proxy_url: str) -> str:
    """The widget channel of the server whose `/proxy-ws` is `proxy_url`."""
    parts = urlsplit(proxy_url)
    path = parts.path.rsplit("/", 1)[0] + "/widget-ws"
    return with_query(urlunsplit(parts._replace(path=path, query="")), "kind", "widget")


class ChatReplies(LivePlatform):
    def __init__(self, name: str, label: str, proxy_url: str, token: str, out: ChatOut) -> None:
        self.name = name
        self.label = label
        self.url = widget_url(proxy_url)
        self.token = token
        self.out = out

    async def run(self, link: Link) -> None:
        try:
            async with connect(self.url, token=self.token, client=LIVE) as ws:
                link.connected(f"listening for replies at {safe_url(self.url)}")
                beating = asyncio.create_task(self._beat(ws))
                try:
                    async for frame in ws:
                        link.alive()
                        if isinstance(frame, str):
                            await self._read(ws, frame)
                finally:
                    await stop(beating)
        except Refusal as refusal:
            raise Fatal(
                f"the widget channel at {safe_url(self.url)} refused this client: "
                f"{refusal.explained()}"
            ) from None

    async def close(self) -> None:
        await self.out.aclose()

    def status(self) -> str:
        out = self.out
        if out.refused is not None:
            return "replies in chat: stopped"
        return f"replies in chat: {out.posted} posted, {out.dropped} dropped"

    async def _read(self, ws: ClientConnection, frame: str) -> None:
        try:
            message: Any = json.loads(frame)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("id") is not None:  # a widget acknowledges what it was shown
            await ws.send(json.dumps({"type": "ack", "id": message["id"]}))
        content = message.get("content")
        fresh = message.get("type") == "llm_response" and not message.get("replay")
        if fresh and isinstance(content, str) and content.strip():
            self.out.reply(content)

    async def _beat(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(ALIVE_EVERY_S)
                await ws.send(json.dumps({"type": "heartbeat"}))
