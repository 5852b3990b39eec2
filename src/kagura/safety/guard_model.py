"""The guard model's client: one verdict per segment, within `safety.guard.timeout_ms`.

A guard that cannot answer is never taken to have said "safe": a refused connection, a
timeout, an HTTP error, an answer too long or not a verdict are all failures, and
`on_failure` decides what happens to the segment. The streamer hears about an outage once
(in the log and on the admin page, `status`), not once per segment, and once more only
after the guard has answered again and then failed anew.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from kagura.clipping import one_line
from kagura.config import GuardConfig
from kagura.safety import classifier, moderation
from kagura.safety.verdict import GarbledVerdict, GuardFailure, Verdict

log = logging.getLogger(__name__)

UNAVAILABLE = "guard:unavailable"  # the rule of a segment withheld for want of a verdict
MAX_RESPONSE_BYTES = 64 * 1024  # a verdict is a few dozen bytes; anything this big is wrong
MAX_CONNECTIONS = 8  # segments judged at once (a reply has a few ahead of the playback)
RETRY_S = 0.1  # with on_failure: hold, how soon a failed request is tried again
MAX_DETAIL_CHARS = 120  # of a server's error body, in our message
NOT_ASKED = "not asked yet"
SETTING = "safety.guard"


def shown_url(url: str) -> str:
    """`url` without any user:password in it, for logs and the admin page."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class GuardStatus:
    """Whether the guard model answers, told once per outage."""

    def __init__(self, on_failure: str) -> None:
        self._on_failure = on_failure
        self._failure: GuardFailure | None = None
        self._answered = False

    @property
    def text(self) -> str:
        """For the admin page: "ok", "not asked yet", or what failed, how, and what to do."""
        if self._failure is not None:
            return f"{self._failure.status}. {self._failure.hint}"
        return "ok" if self._answered else NOT_ASKED

    def answered(self) -> None:
        if self._failure is not None:
            log.info("safety: the guard model at %s answers again", self._failure.url)
        self._failure = None
        self._answered = True

    def failed(self, failure: GuardFailure) -> None:
        if self._failure is None:
            meanwhile = (
                "segments are said without its verdict (on_failure: pass)"
                if self._on_failure == "pass"
                else f"segments are withheld until it answers (on_failure: {self._on_failure})"
            )
            log.warning("safety: guard model %s; %s. %s", failure.status, meanwhile, failure.hint)
        self._failure = failure


class GuardModel:
    """Asks the configured guard model about a segment in the context of its reply."""

    def __init__(self, config: GuardConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        path = "/moderations" if config.provider == "openai_moderation" else "/chat/completions"
        self.url = config.base_url.rstrip("/") + path
        self.shown = shown_url(self.url)
        self._parse = classifier.PARSERS[config.format]
        self._timeout_s = config.timeout_ms / 1000
        self._client = client or httpx.AsyncClient(
            timeout=self._timeout_s,
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
            follow_redirects=False,
        )
        self.status = GuardStatus(config.on_failure)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check(self, user: str | None, reply: str) -> str | None:
        """The rule that keeps the last segment of `reply` unsaid ("guard:unsafe (S1)",
        "guard:unavailable"), or None: it may be said. Takes at most `timeout_ms`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    verdict = await self.judge(user, reply)
            except TimeoutError:
                failure = self._slow()
            except GuardFailure as exc:
                failure = exc
            else:
                self.status.answered()
                return verdict.rule if verdict.blocks(self.config.block) else None
            self.status.failed(failure)
            if self.config.on_failure == "pass":
                return None
            if self.config.on_failure == "drop" or deadline - loop.time() <= RETRY_S:
                return UNAVAILABLE
            await asyncio.sleep(RETRY_S)  # hold: ask again while the segment may still wait

    async def judge(self, user: str | None, reply: str) -> Verdict:
        """One request, one verdict; any trouble is a `GuardFailure` (no deadline of its own
        beyond the client's: `check` bounds it)."""
        config = self.config
        body: dict[str, Any]
        if config.provider == "openai_moderation":
            body = moderation.request(config.model, reply)
        else:
            body = classifier.request(config.model, user, reply)
        answer = await self._post(body)
        try:
            if config.provider == "openai_moderation":
                return moderation.parse_moderation(answer)
            return self._parse(classifier.answer_text(answer))
        except GarbledVerdict as exc:
            raise self._failure(str(exc), garbled=True) from None

    async def _post(self, body: dict[str, Any]) -> Any:
        headers = {"authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        try:
            async with self._client.stream("POST", self.url, json=body, headers=headers) as got:
                data = await _read_bounded(got)
                if got.status_code != 200:
                    detail = one_line(data.decode(errors="replace"), MAX_DETAIL_CHARS)
                    status = got.status_code
                    raise self._failure(f"HTTP {status}: {detail}", status=status)
        except httpx.TimeoutException:
            raise self._slow() from None
        except httpx.ConnectError as exc:
            raise self._unreachable(exc) from None
        except httpx.HTTPError as exc:
            raise self._failure(f"{type(exc).__name__}: {one_line(str(exc), 80)}") from None
        except _TooLong:
            raise self._failure(f"answered more than {MAX_RESPONSE_BYTES} bytes") from None
        try:
            return json.loads(data)
        except ValueError:
            garbled = GarbledVerdict("JSON", data.decode(errors="replace"))
            raise self._failure(str(garbled), garbled=True) from None

    def _unreachable(self, exc: httpx.ConnectError) -> GuardFailure:
        reason = _connect_reason(exc)
        hint = f"Is the guard model running there? Start it, or fix {SETTING}.base_url."
        return GuardFailure(self.shown, reason, hint, unreachable=True)

    def _slow(self) -> GuardFailure:
        return self._failure(f"no answer within {self.config.timeout_ms} ms", slow=True)

    def _failure(
        self, reason: str, *, slow: bool = False, garbled: bool = False, status: int = 0
    ) -> GuardFailure:
        if slow:
            hint = f"Is it overloaded? Raise {SETTING}.timeout_ms or serve a smaller model."
        elif garbled:
            hint = (
                f"Is {self.config.model or 'the model'} a guard model that answers in the "
                f"{self._expected} format? Check {SETTING}.provider, .format and .model."
            )
        elif status in (401, 403):
            hint = f"Check {SETTING}.api_key."
        elif status == 404:
            hint = f"Check {SETTING}.base_url (it usually ends in /v1) and {SETTING}.model."
        else:
            hint = f"Check the guard model server's log and {SETTING}."
        return GuardFailure(self.shown, reason, hint)

    @property
    def _expected(self) -> str:
        return "moderation" if self.config.provider == "openai_moderation" else self.config.format


def _connect_reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words: the OS error under httpx's own, whose
    message ("All connection attempts failed") says nothing."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            if seen.errno == errno.ECONNREFUSED:
                return "connection refused"
            return os.strerror(seen.errno).lower()
        seen = seen.__cause__ or seen.__context__
    return one_line(str(exc), 80) or "cannot connect"


class _TooLong(Exception):
    pass


async def _read_bounded(response: httpx.Response) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > MAX_RESPONSE_BYTES:
            raise _TooLong
    return bytes(data)


def create(config: GuardConfig) -> GuardModel | None:
    """The configured guard model, or None (`provider: none`: nothing to ask, nothing spent)."""
    if config.provider == "none":
        return None
    model = GuardModel(config)
    what = config.format if config.provider == "chat_classifier" else "moderation"
    log.info(
        "safety: every segment is also judged by the guard model at %s (%s%s, within %d ms)",
        model.shown,
        what,
        f", {config.model}" if config.model else "",
        config.timeout_ms,
    )
    return model
