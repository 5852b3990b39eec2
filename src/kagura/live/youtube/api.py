"""The Data API v3 calls of a live-chat client, each charged to the quota budget.

- `videos.list` (1 unit): a video's live chat id, or why it has none (not a live stream,
  not started, over);
- `search.list` with `eventType=live` (100 units): a channel's current live stream;
- `liveChatMessages.list` (5 units): a page of chat, the next page token, how long to wait
  before the next poll (`pollingIntervalMillis`), and `offlineAt` once the stream is over;
- `liveChatMessages.insert` (50 units, from the replies' share): a line in the chat, as the
  account of the streamer's OAuth login (`Authorization: Bearer`, never a key).

The API key goes in the `key` query parameter, as Google documents; it is never logged
(URLs are logged without their query, and the live CLI's log filter redacts `key=`).
Errors come back as Google's JSON (`error.errors[].reason`): a refused key or an API not
enabled for the project is `Fatal` (retrying cannot help), everything else an `ApiError`
with its reason for the client to act on (`quotaExceeded`, `liveChatEnded`, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from kagura.config import YouTubeConfig
from kagura.link import safe_url
from kagura.live.platform import Fatal
from kagura.live.settings import ssl_context

from .quota import QuotaBudget

VIDEOS, SEARCH, MESSAGES = "videos", "search", "liveChat/messages"
COST = {VIDEOS: 1, SEARCH: 100, MESSAGES: 5}
# Google's quota calculator says 50; a newer reference page says 20. Counting 50 keeps the
# ledger on the safe side of whichever YouTube charges.
INSERT_COST = 50
MAX_RESULTS = 2000  # the most a page may hold: fewer polls when chat is busy
DEFAULT_INTERVAL_S = 5.0  # when an answer leaves out pollingIntervalMillis
USER_AGENT = "kagura-live"
# Reasons (in `errors[].reason` or `details[].reason`) that retrying cannot fix.
BAD_KEY = {"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"}
NO_ACCESS = {
    "accessNotConfigured",
    "SERVICE_DISABLED",
    "ipRefererBlocked",
    "API_KEY_IP_ADDRESS_BLOCKED",
    "API_KEY_HTTP_REFERRER_BLOCKED",
    "API_KEY_SERVICE_BLOCKED",
}
KEY_SETTING = "live.youtube.api_key (or the YOUTUBE_API_KEY environment variable)"


class ApiError(Exception):
    """A call that failed; `reason` is Google's (e.g. `quotaExceeded`), or "unreachable"."""

    def __init__(self, endpoint: str, status: int, reason: str, message: str) -> None:
        super().__init__(f"{endpoint}: HTTP {status} {reason}: {message[:200]}".strip())
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Video:
    video_id: str
    title: str
    is_live_stream: bool  # it has liveStreamingDetails (upcoming, live or over)
    chat_id: str  # "" while there is no active live chat
    ended_at: str  # "" until the stream is over


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_page_token: str
    interval_s: float
    offline_at: str


class YouTubeApi:
    def __init__(self, config: YouTubeConfig, key: str, budget: QuotaBudget) -> None:
        self.base = config.api.rstrip("/")
        self.key = key
        self.budget = budget
        self.http = httpx.AsyncClient(
            verify=ssl_context(config.ca_file),
            timeout=config.http_timeout_s,
            headers={"User-Agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def video(self, video_id: str) -> Video | None:
        answer = await self._get(VIDEOS, {"part": "liveStreamingDetails,snippet", "id": video_id})
        found = answer.get("items") or []
        if not found:
            return None
        item = found[0]
        details = item.get("liveStreamingDetails")
        details = details if isinstance(details, dict) else {}
        return Video(
            video_id=video_id,
            title=str((item.get("snippet") or {}).get("title", "")),
            is_live_stream="liveStreamingDetails" in item,
            chat_id=str(details.get("activeLiveChatId") or ""),
            ended_at=str(details.get("actualEndTime") or ""),
        )

    async def live_video(self, channel_id: str) -> str | None:
        """The id of the channel's current live stream, or None when it is not live."""
        params = {"part": "id", "channelId": channel_id, "eventType": "live", "type": "video"}
        answer = await self._get(SEARCH, {**params, "maxResults": "1"})
        for item in answer.get("items") or []:
            video_id = (item.get("id") or {}).get("videoId")
            if video_id:
                return str(video_id)
        return None

    async def messages(self, chat_id: str, page_token: str = "") -> Page:
        params = {"liveChatId": chat_id, "part": "snippet,authorDetails"}
        params["maxResults"] = str(MAX_RESULTS)
        if page_token:
            params["pageToken"] = page_token
        answer = await self._get(MESSAGES, params)
        interval = answer.get("pollingIntervalMillis")
        items = answer.get("items")
        return Page(
            items=[item for item in items if isinstance(item, dict)]
            if isinstance(items, list)
            else [],
            next_page_token=str(answer.get("nextPageToken") or ""),
            interval_s=DEFAULT_INTERVAL_S if interval is None else max(0.0, int(interval) / 1000),
            offline_at=str(answer.get("offlineAt") or ""),
        )

    async def insert_message(self, chat_id: str, text: str, bearer: str) -> dict[str, Any]:
        """Post `text` in the live chat `chat_id` as the login whose access token is
        `bearer`; returns the new message (its `id`, its `snippet.authorChannelId`)."""
        url, endpoint = f"{self.base}/{MESSAGES}", safe_url(f"{self.base}/{MESSAGES}")
        self.budget.charge_reply(INSERT_COST)
        snippet: dict[str, Any] = {"liveChatId": chat_id, "type": "textMessageEvent"}
        snippet["textMessageDetails"] = {"messageText": text}
        headers = {"Authorization": f"Bearer {bearer}"}
        try:
            response = await self.http.post(
                url, params={"part": "snippet"}, json={"snippet": snippet}, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ApiError(endpoint, 0, "unreachable", str(exc) or type(exc).__name__) from None
        answer, reasons, message = _answer(response)
        if answer is not None:
            return answer
        primary = reasons[0] if reasons else f"HTTP {response.status_code}"
        raise ApiError(endpoint, response.status_code, primary, message)

    async def _get(self, resource: str, params: dict[str, str]) -> dict[str, Any]:
        endpoint = safe_url(f"{self.base}/{resource}")
        self.budget.charge(COST[resource])
        try:
            response = await self.http.get(
                f"{self.base}/{resource}", params={**params, "key": self.key}
            )
        except httpx.HTTPError as exc:
            raise ApiError(endpoint, 0, "unreachable", str(exc) or type(exc).__name__) from None
        answer, reasons, message = _answer(response)
        if answer is not None:
            return answer
        primary = reasons[0] if reasons else f"HTTP {response.status_code}"
        status = response.status_code
        if BAD_KEY.intersection(reasons) or (status == 400 and "api key" in message.lower()):
            raise Fatal(
                f"YouTube refused the API key ({message or status}). Check {KEY_SETTING}: a "
                "key of a Google Cloud project with the YouTube Data API v3 enabled."
            )
        if NO_ACCESS.intersection(reasons):
            raise Fatal(
                f"YouTube refused the call ({message or status}). Enable the YouTube Data API "
                f"v3 for the Google Cloud project of {KEY_SETTING}, and check the key's "
                "restrictions (applications, APIs)."
            )
        raise ApiError(endpoint, status, primary, message)


def _answer(response: httpx.Response) -> tuple[dict[str, Any] | None, list[str], str]:
    """A successful answer's JSON; else None, and the reasons and message of the error."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 200 and isinstance(answer, dict):
        return answer, [], ""
    return None, *_problem(answer)


def _problem(answer: Any) -> tuple[list[str], str]:
    """The reasons of Google's error JSON, the API's own (`errors[]`) before the generic
    ones (`details[]`), and its message; empty when the answer is not that."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return [], ""
    entries = [*(error.get("errors") or []), *(error.get("details") or [])]
    reasons = [str(e["reason"]) for e in entries if isinstance(e, dict) and e.get("reason")]
    return reasons, str(error.get("message", ""))[:300]
