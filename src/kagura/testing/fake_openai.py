"""A scripted OpenAI-compatible server for tests and benchmarks.

Kagura reaches every LLM, TTS and ASR backend through the `openai` SDK, so the honest test lets
that SDK speak real HTTP (SSE streaming included) to a server whose answers, speed and failures
a test scripts. Nothing in Kagura is patched. The server has its own event loop in a background
thread, so sync tests, async tests on any loop and benchmarks can all use it; delays are sleeps
to absolute deadlines, so time-to-first-token and token rate hold to about a millisecond.

    with FakeOpenAI() as fake:
        fake.script = LLMScript(reply="Hi! [joy]", ttft_s=0.05, tokens_per_s=50.0)
        client = openai.OpenAI(base_url=fake.base_url, api_key="x")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from .openai_wire import (
    MODEL_ID,
    Frames,
    chat_frames,
    chat_json,
    echo_last_user,
    embeddings_response,
    error_response,
    parse_multipart,
    shutting_down,
    split_tokens,
    tone_pcm,
    wav_bytes,
)
from .scripts import (
    ASRScript,
    EmbeddingsScript,
    LLMFailure,
    LLMScript,
    RecordedRequest,
    TTSScript,
)

__all__ = [
    "ASRScript",
    "EmbeddingsScript",
    "FakeOpenAI",
    "LLMScript",
    "RecordedRequest",
    "TTSScript",
    "echo_last_user",
    "split_tokens",
]

PCM_SAMPLE_RATE = 24000  # OpenAI's `response_format="pcm"`: 16-bit LE mono at 24 kHz
CHAT_PATH = "/v1/chat/completions"
SPEECH_PATH = "/v1/audio/speech"
TRANSCRIPTION_PATH = "/v1/audio/transcriptions"
EMBEDDINGS_PATH = "/v1/embeddings"


class _StreamCut(Exception):
    """Raised inside a response on purpose: uvicorn then drops the connection mid-body."""


def _is_cut(exc: BaseException | None) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_cut(e) for e in exc.exceptions)
    return isinstance(exc, _StreamCut)


class _QuietCuts(logging.Filter):
    """Keeps uvicorn from logging our deliberate cuts as application errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_cut(record.exc_info[1]))


class _Server(uvicorn.Server):
    """A uvicorn server that exits as soon as `stopping` is set, rather than at its next 0.1 s
    poll of `should_exit`: a fake per test should not cost the suite much."""

    def __init__(self, config: uvicorn.Config, stopping: asyncio.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the default response headers
        await self.stopping.wait()


class FakeOpenAI:
    """A local OpenAI-compatible HTTP server driven by `script`, `tts_script` and `asr_script`.

    Scripts may be replaced at any time; each request reads them once, when it arrives. Setting
    `script` restarts its `fail_times` count. `stop()` releases hanging requests, so it returns
    within a couple of seconds whatever the script is doing.
    """

    def __init__(
        self,
        *,
        script: LLMScript | None = None,
        tts_script: TTSScript | None = None,
        asr_script: ASRScript | None = None,
        port: int = 0,
        startup_timeout_s: float = 5.0,
    ) -> None:
        self.tts_script = tts_script or TTSScript()
        self.asr_script = asr_script or ASRScript()
        self.embeddings_script = EmbeddingsScript()
        self._script = script or LLMScript()
        self._port = port
        self._startup_timeout_s = startup_timeout_s
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._chat_count = 0  # chat requests since `script` was set
        self._abandoned = 0  # streams the client closed before their end
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def script(self) -> LLMScript:
        return self._script

    @script.setter
    def script(self, script: LLMScript) -> None:
        with self._lock:
            self._script = script
            self._chat_count = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == CHAT_PATH]

    def speech_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == SPEECH_PATH]

    def transcription_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == TRANSCRIPTION_PATH]

    def embeddings_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == EMBEDDINGS_PATH]

    @property
    def streams_abandoned(self) -> int:
        """How many chat streams the client stopped reading before their end (an
        interrupted turn closes its LLM stream: this counts that it did)."""
        with self._lock:
            return self._abandoned

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def start(self) -> None:
        """Serve from a background thread; returns once connections are accepted.

        A fake started again after `stop()` keeps its port, as a restarted server would.
        """
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI is already running")
        uvicorn_logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietCuts) for f in uvicorn_logger.filters):
            uvicorn_logger.addFilter(_QuietCuts())
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        # No log config or level: the host process's logging setup is left alone. The graceful
        # timeout is only a backstop, since hanging requests end as soon as `_stopping` is set.
        config = uvicorn.Config(self._app(), lifespan="off", log_config=None, log_level=None)
        config.timeout_graceful_shutdown = 1
        self._stopping = asyncio.Event()
        self._server = _Server(config, self._stopping)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="fake-openai")
        self._thread.daemon = True
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"FakeOpenAI did not start within {self._startup_timeout_s} s")
            time.sleep(0.005)

    def stop(self) -> None:
        """Release hanging requests, shut the server down and join its thread."""
        thread, server, loop = self._thread, self._server, self._loop
        if thread is None or server is None:
            return
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(self._stopping.set)
        server.should_exit = True
        thread.join(timeout=2.0)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=1.0)
        self._thread, self._server, self._loop = None, None, None

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeOpenAI:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.stop)

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        with asyncio.Runner() as runner:  # also cancels whatever tasks the shutdown left behind
            self._loop = runner.get_loop()
            runner.run(self._server.serve(sockets=[sock]))

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(CHAT_PATH, self._chat, methods=["POST"]),
                Route(SPEECH_PATH, self._speech, methods=["POST"]),
                Route(TRANSCRIPTION_PATH, self._transcribe, methods=["POST"]),
                Route(EMBEDDINGS_PATH, self._embeddings, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    def _record(self, request: Request, path: str, body: dict[str, Any]) -> None:
        auth = request.headers.get("authorization", "")
        with self._lock:
            self._requests.append(RecordedRequest(path, body, auth, time.monotonic()))

    async def _sleep_until(self, deadline: float) -> bool:
        """Sleep until `deadline` (loop clock); False if the server began stopping first."""
        delay = deadline - asyncio.get_running_loop().time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        return not self._stopping.is_set()

    async def _hang(self, request: Request) -> None:
        """Wait until the client goes away or the server stops, whichever comes first."""

        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        waiters = [asyncio.ensure_future(w) for w in (self._stopping.wait(), disconnected())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _models(self, request: Request) -> Response:
        model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "kagura"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _chat(self, request: Request) -> Response:
        start = asyncio.get_running_loop().time()
        body: dict[str, Any] = await request.json()
        self._record(request, CHAT_PATH, body)
        with self._lock:
            script, count = self._script, self._chat_count
            self._chat_count += 1
        fails = script.fail_times is None or count < script.fail_times
        failure = script.failure if fails else None
        stream = bool(body.get("stream"))
        if failure in ("status_500", "refuse"):
            return error_response(
                500, f"The fake server was scripted to fail ({failure}).", failure
            )
        if failure == "hang_before_headers" or (failure == "hang_after_first_chunk" and not stream):
            await self._hang(request)
            return shutting_down()

        reply = script.reply(body) if callable(script.reply) else script.reply
        rate = script.tokens_per_s
        interval = 1.0 / rate if 0 < rate < float("inf") else 0.0
        frames = chat_frames(body, reply, start + script.ttft_s, interval)
        if not stream:
            payload = chat_json(body, reply)
            if failure == "cut_mid_stream":  # promise the whole body, send half of it
                headers = {"content-length": str(len(payload))}
                half = [(frames[-1][0], payload[: len(payload) // 2])]
                return StreamingResponse(self._send(half, failure), headers=headers)
            if not await self._sleep_until(frames[-1][0]):
                return shutting_down()
            return Response(payload, media_type="application/json")

        n_tokens = len(frames) - 2  # less the role chunk and the ending
        if failure == "hang_after_first_chunk":
            frames = frames[: 1 + min(1, n_tokens)]
        elif failure == "cut_mid_stream":  # about half of the tokens, then the cut
            frames = frames[: 1 + min(n_tokens, max(1, n_tokens // 2))]
        return StreamingResponse(
            self._send(frames, failure),
            headers={"cache-control": "no-cache"},
            media_type="text/event-stream",
        )

    async def _send(self, frames: Frames, failure: LLMFailure | None) -> AsyncIterator[bytes]:
        try:
            for due, frame in frames:
                if not await self._sleep_until(due):
                    raise _StreamCut("server stopping")
                yield frame
        except (asyncio.CancelledError, GeneratorExit):  # the client went away mid-stream
            with self._lock:
                self._abandoned += 1
            raise
        if failure == "hang_after_first_chunk":
            # A client disconnect cancels this generator (Starlette watches for it); a stop
            # ends the wait and drops the connection.
            await self._stopping.wait()
        if failure in ("hang_after_first_chunk", "cut_mid_stream"):
            raise _StreamCut(failure)

    async def _speech(self, request: Request) -> Response:
        start = asyncio.get_running_loop().time()
        body: dict[str, Any] = await request.json()
        self._record(request, SPEECH_PATH, body)
        script = self.tts_script
        text = str(body.get("input", ""))
        if not await self._sleep_until(start + script.latency_s):
            return shutting_down()
        if script.failure == "status_500" or any(s in text for s in script.fail_inputs):
            return error_response(500, "The fake server was scripted to fail this speech request.")
        seconds = min(10.0, max(0.2, script.seconds_per_char * len(text)))
        if script.failure == "bad_wav":
            return Response(wav_bytes(tone_pcm(100, 8000), 8000)[:30], media_type="audio/wav")
        if body.get("response_format") == "pcm":
            pcm = tone_pcm(round(seconds * PCM_SAMPLE_RATE), PCM_SAMPLE_RATE)
            return Response(pcm, media_type="audio/pcm")
        # Only wav and pcm are encoded; any other format (mp3, opus, ...) gets wav as well.
        pcm = tone_pcm(round(seconds * script.sample_rate), script.sample_rate)
        wav = wav_bytes(pcm, script.sample_rate)
        if script.stream_chunk_s is None:
            return Response(wav, media_type="audio/wav")
        return StreamingResponse(self._streamed_wav(wav, script), media_type="audio/wav")

    async def _streamed_wav(self, wav: bytes, script: TTSScript) -> AsyncIterator[bytes]:
        """The WAV as a streaming server sends it: header (sizes unknown), then chunks."""
        header = bytearray(wav[:44])
        struct.pack_into("<I", header, 4, 0xFFFFFFFF)
        struct.pack_into("<I", header, 40, 0xFFFFFFFF)
        yield bytes(header)
        assert script.stream_chunk_s is not None
        size = max(2, round(script.stream_chunk_s * script.sample_rate) * 2)
        for start in range(44, len(wav), size):
            if start > 44 and not await self._sleep_until(
                asyncio.get_running_loop().time() + script.chunk_gap_s
            ):
                return
            yield wav[start : start + size]

    async def _transcribe(self, request: Request) -> Response:
        start = asyncio.get_running_loop().time()
        fields, files = parse_multipart(
            await request.body(), request.headers.get("content-type", "")
        )
        self._record(
            request, TRANSCRIPTION_PATH, {**fields, "file_size": len(files.get("file", b""))}
        )
        script = self.asr_script
        if not await self._sleep_until(start + script.latency_s):
            return shutting_down()
        if script.failure == "status_500":
            return error_response(500, "The fake server was scripted to fail this transcription.")
        if fields.get("response_format") == "text":
            return PlainTextResponse(script.text)
        return JSONResponse({"text": script.text})

    async def _embeddings(self, request: Request) -> Response:
        start = asyncio.get_running_loop().time()
        body: dict[str, Any] = await request.json()
        self._record(request, EMBEDDINGS_PATH, body)
        script = self.embeddings_script
        if not await self._sleep_until(start + script.latency_s):
            return shutting_down()
        return embeddings_response(body, script.dim, script.failure)
