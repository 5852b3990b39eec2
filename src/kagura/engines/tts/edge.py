"""Microsoft Edge's online voices (zh-CN-XiaoxiaoNeural, en-US-AvaMultilingualNeural, ...),
free and without a key, through the `edge-tts` package.

The wire format (edge-tts 7.3's communicate.py, which tracks Microsoft's changes): a
WebSocket to `wss://speech.platform.bing.com/consumer/speech/synthesize/readaloud/edge/v1`
with `TrustedClientToken`, `ConnectionId`, `Sec-MS-GEC` (a signature of the time) and
`Sec-MS-GEC-Version` in the query and Edge's Origin and User-Agent; the client sends a text
frame `Path:speech.config` (output format audio-24khz-48kbitrate-mono-mp3) and one
`Path:ssml` (a `speak` document: voice, prosody rate/volume/pitch, the escaped text); the
service answers with text frames `Path:turn.start`, `Path:audio.metadata`, binary frames
(two bytes big-endian header length, `Path:audio` headers, MP3 bytes) and `Path:turn.end`.
Only edge-tts knows the current signature scheme, so the protocol is left to it.

The MP3 is decoded progressively (`Mp3StreamReader`): each binary frame as it arrives, by
one decoder that keeps its state, so the first piece plays while the rest is synthesised and
pieces join without clicks.

edge-tts takes no URL and no SSL context: it reads the module globals `WSS_URL` and
`_SSL_CTX` (certifi's CAs) when it connects. A relay or a test fake (`tts.edge.wss_url`) and
an extra CA (`tts.edge.ca_file`: a company proxy's, a test's) are therefore applied by
setting those two globals; only when one differs from the default, so the ordinary path is
edge-tts untouched. The alternatives were worse: its `connector` cannot change the SSL
context (the request's own wins) and could only send the real host name to another address;
its `proxy` still needs certifi to trust whoever answers. If an edge-tts release renames the
globals, `load()` says so instead of silently connecting to Microsoft.
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import edge_tts
import edge_tts.communicate
import edge_tts.constants
from edge_tts.exceptions import EdgeTTSException, NoAudioReceived

from kagura.audio import Speech
from kagura.clipping import one_line
from kagura.config import EdgeConfig, TTSConfig
from kagura.engines.errors import EngineError

from .hosted import connect_reason, shown_url, ssl_context
from .mp3 import Mp3StreamReader
from .pcm import collect

SERVICE = "Edge TTS"
SETTING = "tts.edge"
MAX_DETAIL_CHARS = 200
# The globals of edge_tts.communicate that hold where and how it connects.
_URL, _SSL = "WSS_URL", "_SSL_CTX"


class EdgeTTS:
    runs_locally = False

    def __init__(self, config: TTSConfig) -> None:
        self._settings = config.edge
        self._idle_s = config.segment_timeout_s
        self._shown = shown_url(self._settings.wss_url)
        self._route = _Route(self._settings)

    async def load(self) -> None:
        """Check the voice and prosody with edge-tts (no connection) and the route."""
        self._communicate("check")
        self._route.apply()

    def stream(self, text: str) -> AsyncIterator[Speech]:
        return self._stream(text)

    async def _stream(self, text: str) -> AsyncIterator[Speech]:
        self._route.apply()
        reader = Mp3StreamReader(source=f"{SERVICE} at {self._shown}")
        chunks = self._communicate(text).stream()
        try:
            while True:
                try:
                    async with asyncio.timeout(self._idle_s):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise EngineError(
                        f"{SERVICE} at {self._shown} sent nothing for {self._idle_s:g} s "
                        "(tts.segment_timeout_s)"
                    ) from None
                except (aiohttp.ClientError, EdgeTTSException, ValueError) as exc:
                    raise self._failed(exc) from None
                if chunk["type"] == "audio":
                    piece = reader.feed(chunk["data"])
                    if piece is not None:
                        yield piece
        finally:
            await chunks.aclose()
        tail = reader.flush()
        if tail is not None:
            yield tail

    async def synthesize(self, text: str) -> Speech:
        return await collect(self.stream(text), source=SERVICE)

    async def aclose(self) -> None:
        self._route.restore()

    def _communicate(self, text: str) -> edge_tts.Communicate:
        settings = self._settings
        try:
            return edge_tts.Communicate(
                text,
                settings.voice,
                rate=settings.rate,
                volume=settings.volume,
                pitch=settings.pitch,
                connect_timeout=math.ceil(settings.connect_timeout_s),
                receive_timeout=math.ceil(self._idle_s),
            )
        except (TypeError, ValueError) as exc:
            raise EngineError(f"edge-tts does not accept {SETTING}: {exc}") from None

    def _failed(self, exc: Exception) -> EngineError:
        where = f"{SERVICE} at {self._shown}"
        if isinstance(exc, aiohttp.WSServerHandshakeError):
            if exc.status in (401, 403):
                return EngineError(
                    f"{where} refused the connection (HTTP {exc.status}): Microsoft changes "
                    f"the signature edge-tts sends; upgrade edge-tts (now "
                    f"{edge_tts.__version__}) or check {SETTING}.wss_url"
                )
            return EngineError(f"{where} answered HTTP {exc.status} ({SETTING}.wss_url)")
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientSSLError):
            return EngineError(
                f"cannot reach {where}: {connect_reason(exc)}; check {SETTING}.wss_url "
                "and the network"
            )
        if isinstance(exc, NoAudioReceived):
            return EngineError(f"{where} sent no audio; is {self._settings.voice!r} a voice?")
        detail = one_line(str(exc), MAX_DETAIL_CHARS) or type(exc).__name__
        return EngineError(f"{where} failed: {type(exc).__name__}: {detail} ({SETTING})")


class _Route:
    """Where edge-tts connects and which CAs it trusts. These are its module globals, so
    they are set only when the config differs from edge-tts's defaults, set again before
    each segment (another engine in the same process may have changed them: tests) and put
    back on close."""

    _saved: dict[str, Any] | None = None  # the globals as edge-tts had them

    def __init__(self, settings: EdgeConfig) -> None:
        self._url = _with_token(settings.wss_url)
        self._context: ssl.SSLContext | None = None
        self._broken: EngineError | None = None  # said by `apply()`, not by the constructor
        if settings.ca_file:
            try:
                self._context = ssl_context(settings.ca_file, f"{SETTING}.ca_file")
            except EngineError as exc:
                self._broken = exc
        self._shown = shown_url(settings.wss_url)

    def apply(self) -> None:
        if self._broken is not None:
            raise self._broken
        if self._url == edge_tts.constants.WSS_URL and self._context is None:
            self.restore()
            return
        module = edge_tts.communicate
        missing = [name for name in (_URL, _SSL) if not hasattr(module, name)]
        if missing:
            raise EngineError(
                f"edge-tts {edge_tts.__version__} has no {', '.join(missing)}: Kagura cannot "
                f"point it at {self._shown} or give it {SETTING}.ca_file; use the default "
                "wss_url without a ca_file, or the edge-tts version Kagura pins"
            )
        if _Route._saved is None:
            _Route._saved = {name: getattr(module, name) for name in (_URL, _SSL)}
        setattr(module, _URL, self._url)
        setattr(module, _SSL, self._context or _Route._saved[_SSL])

    def restore(self) -> None:
        saved, _Route._saved = _Route._saved, None
        for name, value in (saved or {}).items():
            setattr(edge_tts.communicate, name, value)


def _with_token(wss_url: str) -> str:
    """`wss_url` with edge-tts's client token (it appends `&ConnectionId=...` itself)."""
    if "?" in wss_url:
        return wss_url
    return f"{wss_url}?TrustedClientToken={edge_tts.constants.TRUSTED_CLIENT_TOKEN}"
