"""What the hosted voices share: TLS with an extra CA, keys from the config or the environment,
and a streamed POST whose answer is raw 16-bit PCM, with every failure explained.

ElevenLabs and Azure Speech both answer a POST with a chunked stream of raw PCM at the rate
asked for, so one client serves both: pieces are played as they arrive (`PcmReader` keeps
them whole samples, gapless, bounded). A failure is an `EngineError` that names the URL, the
setting to check and, for a refused key, says so; the key itself travels only in a header and
never appears in a message or a log line (URLs are shown without query or user info).
"""

from __future__ import annotations

import errno
import os
import ssl
from collections.abc import AsyncGenerator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpx

from kagura.audio import Speech
from kagura.clipping import one_line
from kagura.engines.errors import EngineError

from .pcm import PcmReader

MAX_ERROR_BODY_BYTES = 4096  # of an error answer, read for its message
MAX_DETAIL_CHARS = 200  # of a service's error message, in ours
MAX_CONNECTIONS = 8  # segments in flight at once are few (tts.max_concurrency)
# What a service sends instead of audio when something in between went wrong: an HTML page
# from a proxy, a JSON error with status 200. Raw PCM comes as audio/* or octet-stream.
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/problem")


def shown_url(url: str) -> str:
    """`url` without user info, query or fragment: what messages and logs may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def ssl_context(ca_file: str, setting: str) -> ssl.SSLContext:
    """The usual trusted CAs (certifi's, as httpx and edge-tts use) plus `ca_file`."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise EngineError(f"cannot read the CA file {ca_file!r} ({setting}): {exc}") from None
    return context


def api_key(configured: str, env: str) -> str:
    """The key from the config, else from the environment variable `env`, else ""."""
    return configured or os.environ.get(env, "")


def missing_key(service: str, setting: str, env: str) -> EngineError:
    return EngineError(f"no {service} API key: set {setting}.api_key or the {env} variable")


def connect_reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words: the OS or TLS error under the client's own."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            # aiohttp's own error is one too, and carries ssl's as `certificate_error`.
            cause = getattr(seen, "certificate_error", seen)
            detail = getattr(cause, "verify_message", "") or "verification failed"
            return f"its TLS certificate is not trusted ({detail})"
        if isinstance(seen, OSError) and seen.errno:
            if seen.errno == errno.ECONNREFUSED:
                return "connection refused"
            return os.strerror(seen.errno).lower()
        seen = seen.__cause__ or seen.__context__
    return one_line(str(exc), 80) or type(exc).__name__


class PcmClient:
    """POSTs to one service and streams the raw PCM it answers with."""

    def __init__(
        self,
        *,
        service: str,
        setting: str,
        key_env: str,
        ca_file: str,
        connect_timeout_s: float,
        read_timeout_s: float,
    ) -> None:
        self.service = service
        self.setting = setting
        self._key_env = key_env
        self._read_timeout_s = read_timeout_s
        # An unreadable CA file is said by `check()` and each request, not by the
        # constructor: building the engines must not fail (the server starts and says why).
        self._broken: EngineError | None = None
        verify: ssl.SSLContext | bool = True
        try:
            verify = ssl_context(ca_file, f"{setting}.ca_file")
        except EngineError as exc:
            self._broken = exc
        self._client = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
            follow_redirects=False,
        )

    def check(self) -> None:
        """Raise what would keep every request from being made (an unreadable CA file)."""
        if self._broken is not None:
            raise self._broken

    async def aclose(self) -> None:
        await self._client.aclose()

    async def stream(
        self,
        url: str,
        *,
        sample_rate: int,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> AsyncGenerator[Speech, None]:
        """The answer to one POST, piece by piece as it arrives."""
        self.check()
        shown = shown_url(url)
        source = f"{self.service} at {shown}"
        reader = PcmReader(sample_rate, source=source)
        request = self._client.build_request(
            "POST", url, params=params, headers=headers, json=json, content=content
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._failed(exc, shown) from None
        received = 0
        try:
            await self._check(response, shown)
            chunks = response.aiter_bytes()
            while True:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except httpx.HTTPError as exc:
                    raise self._failed(exc, shown) from None
                received += len(chunk)
                piece = reader.feed(chunk)
                if piece is not None:
                    yield piece
        finally:
            await response.aclose()
        tail = reader.flush()
        if tail is None and received == 0:
            raise EngineError(f"{source} sent no audio ({self.setting})")
        if tail is not None:
            yield tail

    async def _check(self, response: httpx.Response, shown: str) -> None:
        """Raise unless the answer is audio: a refused key, an error status, a text body."""
        kind = response.headers.get("content-type", "").lower()
        if response.status_code == 200 and not kind.startswith(TEXT_TYPES):
            return
        detail = await self._detail(response)
        status = response.status_code
        if status in (401, 403):
            raise EngineError(
                f"{self.service} at {shown} refused the request (HTTP {status}): {detail}; "
                f"check the key ({self.setting}.api_key or {self._key_env})"
            )
        if status == 429:
            raise EngineError(
                f"{self.service} at {shown} is limiting requests (HTTP 429): {detail}; "
                "check the plan's quota or lower tts.max_concurrency"
            )
        if status != 200:
            raise EngineError(
                f"{self.service} at {shown} answered HTTP {status}: {detail} ({self.setting})"
            )
        raise EngineError(
            f"{self.service} at {shown} sent {kind or 'text'} instead of audio: {detail} "
            f"(is {self.setting} pointing at the service?)"
        )

    async def _detail(self, response: httpx.Response) -> str:
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= MAX_ERROR_BODY_BYTES:
                    break
        except httpx.HTTPError:
            pass  # what arrived is still worth showing
        text = one_line(body[:MAX_ERROR_BODY_BYTES].decode(errors="replace"), MAX_DETAIL_CHARS)
        return text or response.reason_phrase or "no message"

    def _failed(self, exc: httpx.HTTPError, shown: str) -> EngineError:
        if isinstance(exc, httpx.ConnectTimeout):
            return EngineError(
                f"cannot reach {self.service} at {shown}: no connection in time; "
                f"check {self.setting} and the network"
            )
        if isinstance(exc, httpx.ConnectError):
            return EngineError(
                f"cannot reach {self.service} at {shown}: {connect_reason(exc)}; "
                f"check {self.setting} and the network"
            )
        if isinstance(exc, httpx.TimeoutException):
            return EngineError(
                f"{self.service} at {shown} sent nothing for {self._read_timeout_s:g} s "
                f"(tts.segment_timeout_s)"
            )
        detail = one_line(str(exc), MAX_DETAIL_CHARS) or type(exc).__name__
        return EngineError(f"{self.service} at {shown} broke off: {detail} ({self.setting})")
