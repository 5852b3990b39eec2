"""Fake voice servers: GPT-SoVITS's api_v2, CosyVoice's FastAPI server and Fish Speech's
`/v1/tts` (or, with `fish_hosted`, Fish Audio's), on one loopback port.

    with FakeVoices() as voices:
        voices.script = VoiceScript(first_chunk_s=0.3)
        # tts.gpt_sovits.base_url / tts.cosyvoice.base_url / tts.fish_speech.base_url:
        # voices.base_url

Each path answers as its real server does (`voices_wire` holds the checks): a wrong or
missing field gets that server's own error answer, and the audio comes in its real shape:
GPT-SoVITS a WAV header whose sizes say 0 and then bare PCM (or one whole WAV without
streaming), CosyVoice bare PCM with no header at the model's rate, Fish Speech bare PCM when
streaming (its header is lost on the way out) or a whole WAV, Fish Audio a streamed WAV with
placeholder sizes or bare PCM at the requested rate. The audio is a tone whose length grows
with the text, sent in chunks of `chunk_s`, the first `first_chunk_s` after the request.

The script can fail requests (500, a text page instead of audio, a hang, a cut mid-audio)
and `hold_after` chunks until `release()`, so a test sees pieces arrive while the server is
still "synthesising". Every request is recorded. Run it on its own, for a manual try:

    python -m kagura.testing.fake_voices --port 9880 --first-chunk-s 0.3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from . import voices_wire as wire
from .background import BackgroundFake
from .openai_wire import tone_pcm, wav_bytes
from .ports import free_port
from .tls import Certificates

GPT_SOVITS_PATH = "/tts"
COSYVOICE_SFT_PATH = "/inference_sft"
COSYVOICE_ZERO_SHOT_PATH = "/inference_zero_shot"
FISH_PATH = "/v1/tts"
STOP_TIMEOUT_S = 2.0
MAX_SPEECH_S = 10.0
MIN_SPEECH_S = 0.2

VoiceFailure = Literal["status_500", "garbage", "hang", "cut"]


@dataclass
class VoiceScript:
    """How the fakes answer. The tone lasts `seconds_per_char` per character of the text
    (between 0.2 and 10 s); it is sent in chunks of `chunk_s` seconds of audio, the first
    `first_chunk_s` after the request and the others `chunk_gap_s` apart. After `hold_after`
    chunks the rest waits for `FakeVoices.release()`. `failure`: "status_500" answers the
    server's own 500, "garbage" a 200 HTML page, "hang" nothing at all until the client
    leaves, "cut" drops the connection after the first chunk."""

    first_chunk_s: float = 0.02
    chunk_s: float = 0.2
    chunk_gap_s: float = 0.0
    seconds_per_char: float = 0.06
    hold_after: int | None = None
    failure: VoiceFailure | None = None


class VoiceRequest(NamedTuple):
    """A request as the fake saw it: JSON body or form fields (a file as `<name>_size`)."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


class _Cut(Exception):
    """Raised inside a streamed answer on purpose: uvicorn then drops the connection."""


class _QuietCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        return not isinstance(exc, _Cut)


class FakeVoices(BackgroundFake):
    loop_name = "fake-voices"

    def __init__(
        self,
        script: VoiceScript | None = None,
        *,
        port: int = 0,
        gpt_sovits_rate: int = 32000,
        gpt_sovits_refs: frozenset[str] | None = None,
        cosyvoice_rate: int = 24000,
        fish_rate: int = 44100,
        fish_key: str = "",
        fish_hosted: bool = False,
        certificates: Certificates | None = None,
    ) -> None:
        super().__init__()
        self.script = script or VoiceScript()
        self.port = port or free_port()
        self.gpt_sovits_rate = gpt_sovits_rate
        self.gpt_sovits_refs = gpt_sovits_refs  # reference paths that exist; None: any
        self.cosyvoice_rate = cosyvoice_rate
        self.fish_rate = fish_rate
        self.fish_key = fish_key
        self.fish_hosted = fish_hosted
        self.certificates = certificates  # serve HTTPS with them (a hosted API's stand-in)
        self._requests: list[VoiceRequest] = []
        self._finished = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._released = asyncio.Event()

    @property
    def base_url(self) -> str:
        scheme = "https" if self.certificates is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[VoiceRequest]:
        return self.read(lambda: list(self._requests))

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == path]

    @property
    def finished(self) -> int:
        """Answers whose audio was sent to the end."""
        return self.read(lambda: self._finished)

    def release(self) -> None:
        """Let answers held by `hold_after` go on (and any later ones not wait)."""
        self.read(self._released.set)

    def clear(self) -> None:
        """Forget the requests; hold answers again."""

        def reset() -> None:
            self._requests.clear()
            self._finished = 0
            self._released = asyncio.Event()

        self.read(reset)

    async def _start(self) -> None:
        logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietCuts) for f in logger.filters):
            logger.addFilter(_QuietCuts())
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        tls = self.certificates
        config = uvicorn.Config(
            self._app(),
            lifespan="off",
            log_config=None,
            log_level=None,
            ssl_certfile=str(tls.cert_file) if tls is not None else None,
        )
        config.timeout_graceful_shutdown = 1
        self._stopping = asyncio.Event()
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def _stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        self._stopping.set()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, STOP_TIMEOUT_S)

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(GPT_SOVITS_PATH, self._gpt_sovits, methods=["POST"]),
                Route(COSYVOICE_SFT_PATH, self._cosyvoice, methods=["POST"]),
                Route(COSYVOICE_ZERO_SHOT_PATH, self._cosyvoice, methods=["POST"]),
                Route(FISH_PATH, self._fish, methods=["POST"]),
            ]
        )

    # --- the three servers ------------------------------------------------------------------

    async def _gpt_sovits(self, request: Request) -> Response:
        started = asyncio.get_running_loop().time()
        body = await self._json(request)
        self._record(request, GPT_SOVITS_PATH, body if isinstance(body, dict) else {})
        refused = wire.gpt_sovits_error(body)
        if refused is not None:
            return refused
        failed = await self._scripted_failure(request, PlainTextResponse(wire.UVICORN_500, 500))
        if failed is not None:
            return failed
        rate, pcm = self.gpt_sovits_rate, self._tone(body["text"], self.gpt_sovits_rate)
        missing = (
            self.gpt_sovits_refs is not None and body["ref_audio_path"] not in self.gpt_sovits_refs
        )
        streaming = body.get("streaming_mode", False) not in (0, False)
        if missing and not streaming:
            return wire.gpt_sovits_failed(f"Audio file not found: {body['ref_audio_path']}")
        if not streaming:
            await self._generate(started, pcm, rate)
            audio = wav_bytes(pcm, rate) if body.get("media_type", "wav") != "raw" else pcm
            return Response(audio, media_type=f"audio/{body.get('media_type', 'wav')}")
        # The pipeline reads the reference inside the stream: a missing one cuts it.
        header = (
            wire.streamed_wav_header(rate, 0) if body.get("media_type", "wav") == "wav" else b""
        )
        chunks = [] if missing else self._chunks(pcm, rate)
        media = f"audio/{body.get('media_type', 'wav')}"
        return StreamingResponse(self._send(started, header, chunks, cut=missing), media_type=media)

    async def _cosyvoice(self, request: Request) -> Response:
        started = asyncio.get_running_loop().time()
        fields, files = wire.cosyvoice_form(
            await request.body(), request.headers.get("content-type", "")
        )
        path = request.url.path
        recorded: dict[str, Any] = dict(fields)
        recorded |= {f"{name}_size": len(data) for name, data in files.items()}
        self._record(request, path, recorded)
        sft = path == COSYVOICE_SFT_PATH
        required = ("tts_text", "spk_id") if sft else ("tts_text", "prompt_text", "prompt_wav")
        refused = wire.cosyvoice_error(fields, files, required)
        if refused is not None:
            return refused
        if not sft and not files["prompt_wav"].startswith(b"RIFF"):
            return PlainTextResponse(wire.UVICORN_500, 500)  # load_wav raised
        failed = await self._scripted_failure(request, PlainTextResponse(wire.UVICORN_500, 500))
        if failed is not None:
            return failed
        unknown = sft and fields["spk_id"] not in wire.COSYVOICE_SPEAKERS  # a KeyError inside
        pcm = self._tone(fields["tts_text"], self.cosyvoice_rate)
        chunks = [] if unknown else self._chunks(pcm, self.cosyvoice_rate)
        return StreamingResponse(self._send(started, b"", chunks, cut=unknown))

    async def _fish(self, request: Request) -> Response:
        started = asyncio.get_running_loop().time()
        hosted = self.fish_hosted
        body = await self._json(request)
        recorded = dict(body) if isinstance(body, dict) else {}
        self._record(request, FISH_PATH, recorded)
        if self.fish_key:
            auth = request.headers.get("authorization", "")
            refused = wire.fish_auth_error(auth, self.fish_key, hosted=hosted)
            if refused is not None:
                return refused
        refused = wire.fish_error(body, hosted=hosted)
        if refused is not None:
            return refused
        fail_500 = wire.fish_exception(500, "Failed to generate speech")
        failed = await self._scripted_failure(request, fail_500)
        if failed is not None:
            return failed
        audio_format = body.get("format", "wav")
        rate = int(body.get("sample_rate") or self.fish_rate) if hosted else self.fish_rate
        pcm = self._tone(body["text"], rate)
        if hosted:
            header = wire.streamed_wav_header(rate, 0xFFFFFFFF) if audio_format == "wav" else b""
        elif body.get("streaming"):
            header = b""  # the server's header never leaves it (see engines.tts.fish_speech)
        elif audio_format == "wav":
            await self._generate(started, pcm, rate)
            return Response(wav_bytes(pcm, rate), media_type="audio/wav")
        else:
            return fail_500  # sf.write(format="pcm") raises inside the view
        media = "audio/wav" if audio_format == "wav" else "application/octet-stream"
        return StreamingResponse(
            self._send(started, header, self._chunks(pcm, rate)), media_type=media
        )

    # --- shared -----------------------------------------------------------------------------

    async def _json(self, request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError:
            return None

    def _record(self, request: Request, path: str, body: dict[str, Any]) -> None:
        headers = {k: v for k, v in request.headers.items() if k in ("authorization", "model")}
        self._requests.append(VoiceRequest(path, body, headers, time.monotonic()))

    def _tone(self, text: str, rate: int) -> bytes:
        seconds = min(MAX_SPEECH_S, max(MIN_SPEECH_S, self.script.seconds_per_char * len(text)))
        return tone_pcm(round(seconds * rate), rate)

    async def _generate(self, started: float, pcm: bytes, rate: int) -> None:
        """A whole answer leaves when its last chunk would have been made: the scripted
        generation time of the audio, not at once."""
        chunks = len(self._chunks(pcm, rate))
        due = started + self.script.first_chunk_s + max(0, chunks - 1) * self.script.chunk_gap_s
        left = due - asyncio.get_running_loop().time()
        await self._wait_for(self._stopping.wait(), max(0.0, left))

    def _chunks(self, pcm: bytes, rate: int) -> list[bytes]:
        size = max(2, round(self.script.chunk_s * rate) * 2)
        return [pcm[i : i + size] for i in range(0, len(pcm), size)]

    async def _scripted_failure(self, request: Request, status_500: Response) -> Response | None:
        match self.script.failure:
            case "status_500":
                return status_500
            case "garbage":
                return HTMLResponse(wire.GARBAGE_PAGE)
            case "hang":
                await self._hang(request)
                return PlainTextResponse("the fake is stopping", 503)
            case _:
                return None

    async def _hang(self, request: Request) -> None:
        """Until the client goes away or the fake stops."""

        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        waiters = [asyncio.ensure_future(w) for w in (self._stopping.wait(), disconnected())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _send(
        self, started: float, header: bytes, chunks: list[bytes], *, cut: bool = False
    ) -> AsyncIterator[bytes]:
        script = self.script
        loop = asyncio.get_running_loop()
        if header:
            yield header  # a header goes out at once, as the servers send theirs
        due = started + script.first_chunk_s
        for index, chunk in enumerate(chunks):
            if script.hold_after is not None and index == script.hold_after:
                await self._wait_for(self._released.wait(), None)
            await self._wait_for(self._stopping.wait(), max(0.0, due - loop.time()))
            if self._stopping.is_set():
                raise _Cut("the fake is stopping")
            yield chunk
            if script.failure == "cut":
                raise _Cut("scripted cut")
            due = max(due, loop.time()) + script.chunk_gap_s
        if cut:
            raise _Cut("the server failed inside the stream")
        self._finished += 1

    async def _wait_for(self, event_wait: Any, timeout_s: float | None) -> None:
        """Wait on `event_wait` (for at most `timeout_s`), or until the fake stops."""
        waiters = [asyncio.ensure_future(event_wait), asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9880)
    parser.add_argument("--first-chunk-s", type=float, default=0.3, help="latency to audio")
    parser.add_argument("--chunk-gap-s", type=float, default=0.1, help="between audio chunks")
    parser.add_argument("--fish-key", default="", help="bearer key /v1/tts asks for")
    parser.add_argument("--fish-hosted", action="store_true", help="answer as Fish Audio")
    parser.add_argument("--failure", choices=["status_500", "garbage", "hang", "cut"], default=None)
    args = parser.parse_args()
    script = VoiceScript(
        first_chunk_s=args.first_chunk_s, chunk_gap_s=args.chunk_gap_s, failure=args.failure
    )
    fake = FakeVoices(script, port=args.port, fish_key=args.fish_key, fish_hosted=args.fish_hosted)
    with fake:
        print(f"fake voice servers at {fake.base_url} (Ctrl+C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()


__all__ = ["FakeVoices", "VoiceRequest", "VoiceScript"]
