"""What the engines of self-hosted voice servers share: one HTTP request whose answer is
speech, read as it arrives, and every way it can fail said in one line.

GPT-SoVITS, CosyVoice and Fish Speech answer a POST with audio, streamed in chunks while they
synthesise. The engines build the request and choose how the bytes become samples (a
`pcm` reader); this module sends it, bounds it (the connection, the time between chunks and
the whole segment each get `tts.segment_timeout_s`; an error body is read only so far), and
turns failures into an `EngineError` naming the server's URL and the setting to check. An
error answer, a body that is text rather than audio, or a connection cut mid-audio is an
error, never a silence played as speech.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import errno
import json
import os
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from kagura.audio import Speech
from kagura.clipping import one_line
from kagura.engines.errors import EngineError

MAX_ERROR_BYTES = 16 * 1024  # of an error answer: its message is in the first few hundred
MAX_DETAIL_CHARS = 200  # of a server's message, in ours
TEXT_SNIFF_BYTES = 64  # the start of a body looked at to tell text from audio
MAX_CONNECTIONS = 16  # tts.max_concurrency is at most 16
CONNECT_TIMEOUT_S = 5.0  # a server on the LAN connects in milliseconds, or not at all


class AudioReader(Protocol):
    """Bytes in, `Speech` pieces out: `pcm.PcmReader`, `pcm.WavStreamReader` and the like."""

    def feed(self, data: bytes) -> Speech | None: ...

    def flush(self) -> Speech | None: ...


@dataclass(frozen=True)
class Server:
    """Which server, for messages: its name ("GPT-SoVITS"), its URL and its settings."""

    name: str
    base_url: str
    setting: str  # "tts.gpt_sovits"

    @property
    def shown_url(self) -> str:
        """The URL without any user:password in it: messages reach logs and clients."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    @property
    def source(self) -> str:
        """How the readers name this server in their errors."""
        return f"{self.name} server at {self.shown_url}"


class VoiceClient:
    """One server's client: no retries, no redirects, bounded connections and waits."""

    def __init__(self, server: Server, timeout_s: float, headers: dict[str, str]) -> None:
        self.server = server
        self.timeout_s = timeout_s
        self._client = httpx.AsyncClient(
            base_url=server.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
            follow_redirects=False,
        )

    def request(self, path: str, **content: Any) -> httpx.Request:
        """A POST of `path` (`json=`, `data=`, `files=`, `headers=` as httpx takes them)."""
        return self._client.build_request("POST", path, **content)

    async def speak(
        self, build: Callable[[], httpx.Request], reader: AudioReader
    ) -> AsyncGenerator[Speech, None]:
        """Send the request `build` makes and yield its answer's speech piece by piece,
        within `timeout_s` in all.

        `build` runs on the first `anext`, so what it raises (a setting still missing)
        reaches the caller where the pieces would. The deadline is checked around each wait
        rather than held across the yields: a caller still playing the last piece is not
        charged for it, and a timeout never lands in the caller's own code.
        """
        server, timeout_s = self.server, self.timeout_s
        request = build()
        deadline = asyncio.get_running_loop().time() + timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(request, stream=True)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise EngineError(_failed(exc, server, timeout_s)) from None
        try:
            if response.status_code != 200:
                body = await _read_error(response, deadline)
                raise EngineError(status_error(response.status_code, body, server))
            spoken, reader_is_new = False, True
            chunks = _body(response, deadline, server, timeout_s)
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    if reader_is_new:
                        _refuse_text(chunk, server)
                        reader_is_new = False
                    piece = reader.feed(chunk)
                    if piece is not None:
                        spoken = True
                        yield piece
            last = reader.flush()
            if last is not None:
                spoken = True
                yield last
            if not spoken:
                raise EngineError(f"{server.source} sent no audio ({server.setting})")
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()


async def _body(
    response: httpx.Response, deadline: float, server: Server, timeout_s: float
) -> AsyncGenerator[bytes, None]:
    """The body's chunks as they arrive; the first holds at least `TEXT_SNIFF_BYTES` (or
    the whole body, if shorter), so that it can be told from text."""
    chunks = response.aiter_bytes()
    head = b""
    started = False
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                chunk = await anext(chunks, None)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise EngineError(_failed(exc, server, timeout_s, midway=True)) from None
        if chunk is None:
            break
        if started:
            yield chunk
            continue
        head += chunk
        if len(head) >= TEXT_SNIFF_BYTES:
            started = True
            yield head
    if not started and head:
        yield head


def _refuse_text(start: bytes, server: Server) -> None:
    """A body that begins as readable text (an HTML page, JSON) is not audio, whatever the
    status said: raw samples and WAV headers are full of bytes text never has."""
    sample = start[:TEXT_SNIFF_BYTES]
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        raise EngineError(
            f"{server.source} sent text, not audio: "
            f"{one_line(start.decode('utf-8', 'replace'), MAX_DETAIL_CHARS)!r} "
            f"(is {server.setting}.base_url that server?)"
        )


async def _read_error(response: httpx.Response, deadline: float) -> bytes:
    """At most `MAX_ERROR_BYTES` of an error answer; whatever arrived if it stalls."""
    data = bytearray()
    try:
        async with asyncio.timeout_at(deadline):
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) >= MAX_ERROR_BYTES:
                    break
    except (httpx.HTTPError, TimeoutError):
        pass  # the status says enough
    return bytes(data[:MAX_ERROR_BYTES])


def error_detail(body: bytes) -> str:
    """The message in an error answer, in the shapes these servers use.

    GPT-SoVITS: `{"message": ..., "Exception": ...}`; FastAPI's validation (GPT-SoVITS,
    CosyVoice): `{"detail": [{"loc": [...], "msg": ...}]}`; Fish Speech:
    `{"statusCode": ..., "message": ..., "error": ...}`, or kui's validation, a bare list of
    `{"loc", "msg", "in"}`; Fish Audio: `{"status": ..., "message": ...}` or plain text.
    Anything else is shown as text.
    """
    text = body.decode("utf-8", "replace")
    try:
        answer: Any = json.loads(text)
    except ValueError:
        return one_line(text, MAX_DETAIL_CHARS)
    if isinstance(answer, list):
        return one_line("; ".join(_validation_item(d) for d in answer), MAX_DETAIL_CHARS)
    if isinstance(answer, dict):
        message = answer.get("message")
        if isinstance(message, str) and message:
            cause = answer.get("Exception")
            full = f"{message}: {cause}" if isinstance(cause, str) and cause else message
            return one_line(full, MAX_DETAIL_CHARS)
        detail = answer.get("detail")
        if isinstance(detail, str):
            return one_line(detail, MAX_DETAIL_CHARS)
        if isinstance(detail, list):
            return one_line("; ".join(_validation_item(d) for d in detail), MAX_DETAIL_CHARS)
    return one_line(text, MAX_DETAIL_CHARS)


def _validation_item(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    loc = item.get("loc")
    where = (
        ".".join(str(p) for p in loc if p not in ("body", "query")) if isinstance(loc, list) else ""
    )
    message = str(item.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


def status_error(status: int, body: bytes, server: Server) -> str:
    """An error answer in one line, with the setting most likely to fix it."""
    detail = error_detail(body) or "no message"
    if status in (401, 402, 403):
        hint = f"check {server.setting}.api_key"
    elif status in (404, 405):
        hint = f"is {server.setting}.base_url the {server.name} server?"
    else:
        hint = f"check {server.setting} and the server's log"
    return f"{server.source} answered HTTP {status}: {detail} ({hint})"


def _failed(exc: BaseException, server: Server, timeout_s: float, *, midway: bool = False) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return (
            f"{server.source} did not {'finish' if midway else 'answer'} within "
            f"{timeout_s:g} s; is it overloaded? (tts.segment_timeout_s)"
        )
    if isinstance(exc, httpx.ConnectError):
        return (
            f"cannot reach the {server.source}: {_connect_reason(exc)}. Is it running? "
            f"Check {server.setting}.base_url"
        )
    if midway:
        return (
            f"{server.source} broke off the audio ({type(exc).__name__}); its log says why "
            f"(check {server.setting})"
        )
    detail = one_line(str(exc), MAX_DETAIL_CHARS)
    return f"{server.source} failed: {type(exc).__name__}: {detail} ({server.setting}.base_url)"


def _connect_reason(exc: BaseException) -> str:
    """Why a connection failed, from the OS error under httpx's own vaguer one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            if seen.errno == errno.ECONNREFUSED:
                return "connection refused"
            return os.strerror(seen.errno).lower()
        seen = seen.__cause__ or seen.__context__
    return one_line(str(exc), MAX_DETAIL_CHARS) or type(exc).__name__
