"""A local stand-in for the YouTube Data API v3's live-chat calls, over TLS.

    with FakeYouTube(tmp_path) as youtube:
        chat = youtube.go_live(VIDEO, CHANNEL)
        # kagura live youtube --video VIDEO --api {youtube.api_url} --ca-file {youtube.ca_file}
        youtube.post(chat, text("m1", author("Alice"), "hello"))

`videos.list` (a video's live chat id, or its upcoming / ended state), `search.list` with
`eventType=live` (a channel's live stream) and `liveChatMessages.list` (pages, page tokens,
`pollingIntervalMillis`, `offlineAt`) answer as Google's do, errors included: a wrong key
(400 `API_KEY_INVALID`), the quota used up (403 `quotaExceeded`), an outage (503
`backendError`), a poll sooner than the interval the last answer asked for (403
`rateLimitExceeded`, counted: a client must never do that), a chat that is over (403
`liveChatEnded`). Every call is charged its quota cost. Items are built in `items` from the
API reference, independently of the client's reader.

`liveChatMessages.insert` (`POST …/liveChat/messages?part=snippet`, 50 units) checks the
Bearer token against the fake OAuth server (`oauth`, at `oauth_url`: 401 `authError`
otherwise), the JSON shape (`liveChatIdRequired`, `typeRequired`, `messageTextRequired`) and
the length (over 200 characters: `messageTextInvalid`), records the line in the chat's
`posted` (with its arrival time) and lists it in the chat like any message, from `OWNER`'s
channel, as YouTube does. `refuse_inserts` makes the next inserts answer an error instead
(`quotaExceeded`, `rateLimitExceeded`, `liveChatEnded`, `forbidden`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kagura.testing.https import HttpsServer
from kagura.testing.tls import TlsFake

from .items import (
    Item,
    author,
    banned,
    chat_ended,
    deleted,
    gifting,
    milestone,
    new_member,
    stamp,
    super_chat,
    super_sticker,
    text,
)
from .oauth import CLIENT_ID, CLIENT_SECRET, GoogleOAuth

__all__ = [
    "API_KEY", "CLIENT_ID", "CLIENT_SECRET", "OWNER", "FakeYouTube", "LiveChat", "author",
    "banned", "chat_ended", "deleted", "gifting", "milestone", "new_member", "stamp",
    "super_chat", "super_sticker", "text",
]  # fmt: skip

API_KEY = "fake-youtube-api-key"
COSTS = {"videos": 1, "search": 100, "messages": 5, "insert": 50}
BAD_KEY = "API key not valid. Please pass a valid API key."
QUOTA = "The request cannot be completed because you have exceeded your quota."
MAX_MESSAGE_CHARS = 200
OWNER = author("Kagura", "UCkagura0000000000000001", owner=True)  # the logged-in channel
INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential."
)
INSERT_REFUSALS = {  # reason → (status, domain, message)
    "quotaExceeded": (403, "youtube.quota", QUOTA),
    "rateLimitExceeded": (403, "youtube.liveChat", "Too many messages in a short time."),
    "liveChatEnded": (403, "youtube.liveChat", "The live chat is no longer live."),
    "forbidden": (403, "youtube.liveChat", "You do not have the permissions required."),
}


@dataclass(frozen=True)
class Posted:
    text: str
    at: float  # monotonic time it arrived
    token: str  # the access token it came with

@dataclass
class LiveChat:
    chat_id: str
    items: list[Item] = field(default_factory=list)
    offline_at: str = ""
    over: bool = False  # polls answer 403 liveChatEnded
    polls: int = 0
    too_soon: int = 0
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (waited, asked), seconds
    answered_at: float = 0.0  # monotonic time of the last answer
    asked_s: float = 0.0  # the interval that answer asked for
    posted: list[Posted] = field(default_factory=list)  # lines inserted, in order


@dataclass
class Stream:
    video_id: str
    channel_id: str
    title: str
    state: str  # "upcoming", "live", "ended" or "video" (not a live stream)
    chat: LiveChat | None = None


class FakeYouTube(TlsFake):
    loop_name = "fake-youtube"

    def __init__(self, workdir: Path, *, key: str = API_KEY, interval_ms: int = 300) -> None:
        super().__init__(workdir)
        self.key = key
        self.interval_ms = interval_ms
        self.page_size = 2000  # at most this many items a page (less than maxResults, to page)
        self.quota_left: int | None = None  # None: unlimited; 0: every call is quotaExceeded
        self.fail_next = 0  # the next calls answer 503 backendError
        self.streams: dict[str, Stream] = {}
        self.calls: Counter[str] = Counter()
        self.units = 0
        self.refused: Counter[str] = Counter()  # reason → count
        self.keys_seen: set[str] = set()
        self.oauth = GoogleOAuth()
        self.insert_refusals: list[str] = []  # reasons the next inserts answer, in order
        self._http = HttpsServer(Starlette(routes=self._routes()), self.certificates)

    @property
    def api_url(self) -> str:
        return f"{self._http.url}/youtube/v3"

    @property
    def oauth_url(self) -> str:
        return f"{self._http.url}/oauth2"

    # -- lifecycle -------------------------------------------------------------------------

    async def _start(self) -> None:
        await self._http.start()

    async def _stop(self) -> None:
        await self._http.stop()

    # -- driving it (every change on the fake's own thread) --------------------------------

    def add(self, video_id: str, channel_id: str, state: str, title: str = "Kagura live!") -> None:
        def add() -> None:
            stream = Stream(video_id, channel_id, title, state)
            if state in ("upcoming", "live"):
                stream.chat = LiveChat(f"chat-{video_id}")
            self.streams[video_id] = stream

        self.read(add)

    def go_live(self, video_id: str, channel_id: str, *backlog: Item) -> LiveChat:
        """A live stream with a chat holding `backlog` (what was said before)."""
        self.add(video_id, channel_id, "live")
        self.post(video_id, *backlog)
        return self.chat(video_id)

    def chat(self, video_id: str) -> LiveChat:
        chat = self.read(lambda: self.streams[video_id].chat)
        assert isinstance(chat, LiveChat)
        return chat

    def post(self, video_id: str, *items: Item) -> None:
        def post() -> None:
            chat = self.streams[video_id].chat
            assert chat is not None
            for item in items:
                item["snippet"]["liveChatId"] = chat.chat_id
                chat.items.append(item)

        self.read(post)

    def go_offline(self, video_id: str, *, over: bool = False) -> None:
        """The stream ends: polls carry `offlineAt` (and with `over`, get liveChatEnded)."""

        def offline() -> None:
            stream = self.streams[video_id]
            stream.state = "ended"
            if stream.chat is not None:
                stream.chat.offline_at = stamp()
                stream.chat.over = over

        self.read(offline)

    def posted(self, video_id: str) -> list[Posted]:
        """The lines inserted in the chat of `video_id`, in order."""
        chat = self.chat(video_id)
        return self.read(lambda: list(chat.posted))

    def refuse_inserts(self, reason: str, times: int = 1) -> None:
        self.read(lambda: self.insert_refusals.extend([reason] * times))

    def set(self, **values: Any) -> None:
        """Change settings of the fake (`quota_left`, `page_size`, `interval_ms`, `key`)."""

        def change() -> None:
            for name, value in values.items():
                setattr(self, name, value)

        self.read(change)

    # -- the API ---------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            Route("/youtube/v3/videos", self._videos),
            Route("/youtube/v3/search", self._search),
            Route("/youtube/v3/liveChat/messages", self._messages, methods=["GET"]),
            Route("/youtube/v3/liveChat/messages", self._insert, methods=["POST"]),
            *self.oauth.routes("/oauth2"),
        ]

    def _refuse(self, status: int, reason: str, message: str, domain: str) -> JSONResponse:
        self.refused[reason] += 1
        error = {"message": message, "domain": domain, "reason": reason}
        body: Item = {"code": status, "message": message, "errors": [error]}
        if reason == "badRequest":
            body["status"] = "INVALID_ARGUMENT"
            info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": "googleapis.com"}
            body["details"] = [{**info, "reason": "API_KEY_INVALID"}]
        return JSONResponse({"error": body}, status)

    def _charge(self, request: Request, endpoint: str) -> JSONResponse | None:
        """Count the call, check the key and the quota; an error answer, or None."""
        self.calls[endpoint] += 1
        key = request.query_params.get("key", "")
        self.keys_seen.add(key)
        if key != self.key:
            return self._refuse(400, "badRequest", BAD_KEY, "global")
        return self._spend(endpoint)

    def _spend(self, endpoint: str) -> JSONResponse | None:
        if self.fail_next > 0:
            self.fail_next -= 1
            return self._refuse(503, "backendError", "Backend Error", "global")
        cost = COSTS[endpoint]
        if self.quota_left is not None:
            if self.quota_left < cost:
                return self._refuse(403, "quotaExceeded", QUOTA, "youtube.quota")
            self.quota_left -= cost
        self.units += cost
        return None

    async def _videos(self, request: Request) -> JSONResponse:
        if refused := self._charge(request, "videos"):
            return refused
        found = []
        for video_id in request.query_params.get("id", "").split(","):
            stream = self.streams.get(video_id)
            if stream is not None:
                found.append(self._video(stream, request.query_params.get("part", "")))
        page = {"totalResults": len(found), "resultsPerPage": 1}
        return JSONResponse({"kind": "youtube#videoListResponse", "items": found, "pageInfo": page})

    def _video(self, stream: Stream, parts: str) -> Item:
        item: Item = {"kind": "youtube#video", "etag": "e", "id": stream.video_id}
        if "snippet" in parts:
            item["snippet"] = {"title": stream.title, "channelId": stream.channel_id}
        if "liveStreamingDetails" in parts and stream.state != "video":
            details: Item = {"scheduledStartTime": stamp(0)}
            if stream.state in ("live", "ended"):
                details["actualStartTime"] = stamp(1)
            if stream.state == "ended":
                details["actualEndTime"] = stamp()
            elif stream.chat is not None and stream.state == "live":
                details["activeLiveChatId"] = stream.chat.chat_id
            item["liveStreamingDetails"] = details
        return item

    async def _search(self, request: Request) -> JSONResponse:
        if refused := self._charge(request, "search"):
            return refused
        query = request.query_params
        assert query.get("eventType") == "live" and query.get("type") == "video"
        live = [
            {"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": s.video_id}}
            for s in self.streams.values()
            if s.channel_id == query.get("channelId") and s.state == "live"
        ]
        return JSONResponse({"kind": "youtube#searchListResponse", "items": live[:1]})

    async def _messages(self, request: Request) -> JSONResponse:
        if refused := self._charge(request, "messages"):
            return refused
        query = request.query_params
        chats = {s.chat.chat_id: s.chat for s in self.streams.values() if s.chat is not None}
        chat = chats.get(query.get("liveChatId", ""))
        if chat is None:
            return self._refuse(404, "liveChatNotFound", "The live chat was not found.",
                                "youtube.liveChat")  # fmt: skip
        waited = time.monotonic() - chat.answered_at
        chat.polls += 1
        if chat.polls > 1:
            chat.gaps.append((waited, chat.asked_s))
        if waited < chat.asked_s:
            chat.too_soon += 1
            return self._refuse(403, "rateLimitExceeded", "Polled too soon.", "youtube.liveChat")
        if chat.over:
            return self._refuse(403, "liveChatEnded", "The live chat is no longer live.",
                                "youtube.liveChat")  # fmt: skip
        start = int(query.get("pageToken", "p0").removeprefix("p") or 0)
        size = min(self.page_size, int(query.get("maxResults", "500")))
        page = chat.items[start : start + size]
        chat.answered_at, chat.asked_s = time.monotonic(), self.interval_ms / 1000
        body: Item = {"kind": "youtube#liveChatMessageListResponse", "etag": "e"}
        body |= {"pollingIntervalMillis": self.interval_ms, "items": page}
        body |= {"nextPageToken": f"p{start + len(page)}"}
        body["pageInfo"] = {"totalResults": len(page), "resultsPerPage": len(page)}
        if chat.offline_at:
            body["offlineAt"] = chat.offline_at
        return JSONResponse(body)

    async def _insert(self, request: Request) -> JSONResponse:
        self.calls["insert"] += 1
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not self.oauth.valid(token):
            self.refused["authError"] += 1
            error = {"message": "Invalid Credentials", "domain": "global", "reason": "authError"}
            error |= {"location": "Authorization", "locationType": "header"}
            body = {"code": 401, "message": INVALID_CREDENTIALS, "errors": [error]}
            return JSONResponse({"error": {**body, "status": "UNAUTHENTICATED"}}, 401)
        if refused := self._spend("insert"):
            return refused
        if self.insert_refusals:
            reason = self.insert_refusals.pop(0)
            status, domain, message = INSERT_REFUSALS[reason]
            return self._refuse(status, reason, message, domain)
        if request.query_params.get("part") != "snippet":
            return self._refuse(400, "required", "Required parameter: part", "global")
        snippet = (await request.json()).get("snippet") or {}
        said = (snippet.get("textMessageDetails") or {}).get("messageText")
        for given, reason in [
            (bool(snippet.get("liveChatId")), "liveChatIdRequired"),
            (snippet.get("type") == "textMessageEvent", "typeRequired"),
            (bool(said), "messageTextRequired"),
        ]:
            if not given:
                return self._refuse(400, reason, f"{reason}", "youtube.liveChat")
        chats = {s.chat.chat_id: s.chat for s in self.streams.values() if s.chat is not None}
        chat = chats.get(snippet["liveChatId"])
        if chat is None:
            return self._refuse(404, "liveChatNotFound", "The live chat was not found.",
                                "youtube.liveChat")  # fmt: skip
        if chat.over or chat.offline_at:
            return self._refuse(403, "liveChatEnded", "The live chat is no longer live.",
                                "youtube.liveChat")  # fmt: skip
        if not isinstance(said, str) or len(said) > MAX_MESSAGE_CHARS:
            return self._refuse(400, "messageTextInvalid", "The message text is not valid.",
                                "youtube.liveChat")  # fmt: skip
        chat.posted.append(Posted(said, time.monotonic(), token))
        item = text(f"own-{len(chat.posted)}", OWNER, said)
        item["snippet"]["liveChatId"] = chat.chat_id
        chat.items.append(item)  # YouTube lists it like any message
        return JSONResponse({k: v for k, v in item.items() if k != "authorDetails"})
