"""Local stand-ins for ElevenLabs, Azure Speech and Edge's online voices, over TLS.

    with FakeCloudVoices(tmp_path) as voices:
        # tts.elevenlabs.base_url: {voices.elevenlabs_url}, tts.azure.endpoint:
        # {voices.azure_url}, tts.edge.wss_url: {voices.edge_url}; ca_file: {voices.ca_file}
        voices.reset(VoiceScript(mode="unauthorized", first_chunk_s=0.3))

ElevenLabs (`POST /v1/text-to-speech/{voice_id}/stream?output_format=pcm_<rate>`, key in
`xi-api-key`, JSON body) and Azure (`POST /cognitiveservices/v1`, key in
`Ocp-Apim-Subscription-Key`, SSML body, `X-Microsoft-OutputFormat: raw-...-pcm`) answer with
chunked raw PCM; Edge speaks its WebSocket protocol (`cloud_voice_wire`) with real MP3.
Each request is checked as the service would (key, fields, well-formed SSML naming a voice,
Edge's query and frames) and recorded. `script` sets the latency to the first chunk and the
failure: a refused key, HTTP 500, a body that is not audio, or a hang; `hold` sends half the
audio, then waits for `release()`, so a test can see a client play what it has before the
rest exists; `go_offline()` refuses connections until `come_back()`. Run it as a process:
`python -m kagura.testing.fake_cloud_voices`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from kagura.testing import cloud_voice_wire as wire
from kagura.testing.https import HttpsServer
from kagura.testing.openai_wire import tone_pcm
from kagura.testing.tls import TlsFake
from kagura.testing.ws_server import WebSocketServer

Mode = Literal["ok", "unauthorized", "status_500", "garbage", "hang"]
Service = Literal["elevenlabs", "azure", "edge"]
ELEVENLABS_KEY = "xi-test-key-0123456789"
AZURE_KEY = "azure-test-key-0123456789"
EDGE_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
EDGE_TOKEN = "6A5AA1D4EAFF4E9FB37E23D68491D6F4"  # the client token Edge's own extension sends
EDGE_ORIGIN = "chrome-extension://jdiccldimpdaibmpdkjnbmckianbfold"
SEC_MS_GEC = re.compile(r"^([0-9A-F]{16}-)?[0-9A-F]{64}$")
ELEVENLABS_RATES = {8000, 16000, 22050, 24000, 44100, 48000}
AZURE_FORMATS = {
    "raw-8khz-16bit-mono-pcm": 8000,
    "raw-16khz-16bit-mono-pcm": 16000,
    "raw-22050hz-16bit-mono-pcm": 22050,
    "raw-24khz-16bit-mono-pcm": 24000,
    "raw-44100hz-16bit-mono-pcm": 44100,
    "raw-48khz-16bit-mono-pcm": 48000,
}
GARBAGE_PAGE = b"<html><body><h1>Gateway login</h1><p>Sign in to continue.</p></body></html>"
MAX_SECONDS = 10.0


@dataclass
class VoiceScript:
    mode: Mode = "ok"
    first_chunk_s: float = 0.05  # from the request to the first audio
    seconds_per_char: float = 0.05  # how long the speech of a text is
    chunk_s: float = 0.1  # audio per chunk (a network message)
    hold: bool = False  # send half the audio, then wait for `release()`


@dataclass(frozen=True)
class VoiceRequest:
    service: Service
    text: str
    fields: dict[str, Any]  # what else the request said: voice, model, settings, format
    key_ok: bool
    at: float = field(default_factory=time.monotonic)


class FakeCloudVoices(TlsFake):
    loop_name = "fake-cloud-voices"

    def __init__(
        self, workdir: Path, *, elevenlabs_key: str = ELEVENLABS_KEY, azure_key: str = AZURE_KEY
    ) -> None:
        super().__init__(workdir)
        self.keys = {"elevenlabs": elevenlabs_key, "azure": azure_key}
        self.script = VoiceScript()
        self.requests: list[VoiceRequest] = []
        self.problems: list[str] = []  # requests refused as malformed, and why
        self.edge_connects = 0
        self.holding = 0  # streams waiting for `release()`
        self.finished = 0  # streams that sent all their audio
        self._released = asyncio.Event()
        self._stopping = asyncio.Event()
        self._http = HttpsServer(self._app(), self.certificates)
        self._ws = WebSocketServer(
            self._edge,
            ssl=self.certificates.server_context(),
            process_request=self._edge_handshake,
            ping_interval=None,
        )

    @property
    def elevenlabs_url(self) -> str:
        return self._http.url

    @property
    def azure_url(self) -> str:
        return f"{self._http.url}/cognitiveservices/v1"

    @property
    def edge_url(self) -> str:
        return f"wss://127.0.0.1:{self._ws.port}{EDGE_PATH}"

    # -- driving it ------------------------------------------------------------------------

    def reset(self, script: VoiceScript | None = None) -> None:
        """A new script, no requests, no held streams (held ones are let go)."""

        def clear() -> None:
            self._released.set()
            self._released = asyncio.Event()
            self.script = script or VoiceScript()
            self.requests.clear()
            self.problems.clear()
            self.edge_connects = self.holding = self.finished = 0

        self.read(clear)

    def release(self) -> None:
        """Let every held stream send the rest of its audio."""
        self.read(self._released.set)

    def go_offline(self) -> None:
        """Stop listening (connections are refused) until `come_back()`."""
        self._loop().run(self._close())

    def come_back(self) -> None:
        """Listen again, on the same ports."""
        self._loop().run(self._open())

    def recorded(self, service: Service) -> list[VoiceRequest]:
        return list(self.read(lambda: [r for r in self.requests if r.service == service]))

    def counts(self) -> tuple[int, int]:
        """(streams holding, streams finished)."""
        return self.read(lambda: (self.holding, self.finished))

    # -- lifecycle -------------------------------------------------------------------------

    async def _start(self) -> None:
        await self._open()

    async def _stop(self) -> None:
        await self._close()

    async def _open(self) -> None:
        self._released = asyncio.Event()
        self._stopping = asyncio.Event()
        await self._http.start()
        await self._ws.start()

    async def _close(self) -> None:
        self._stopping.set()
        self._released.set()
        await self._ws.stop()
        await self._http.stop(at_once=True)

    # -- what every service shares ---------------------------------------------------------

    def _audio_pcm(self, text: str, rate: int) -> bytes:
        seconds = min(MAX_SECONDS, max(0.3, self.script.seconds_per_char * len(text)))
        return tone_pcm(round(seconds * rate), rate)

    async def _chunks(self, chunks: list[bytes], script: VoiceScript) -> AsyncIterator[bytes]:
        """`chunks` paced as a service speaks: the first after the latency, the next as fast
        as the network takes them; with `hold`, the second half after `release()`."""
        if not await self._pause(script.first_chunk_s):
            return
        half = len(chunks) // 2 if script.hold else len(chunks)
        for index, chunk in enumerate(chunks):
            if index == half and index > 0:
                self.holding += 1
                try:
                    if not await self._until_released():
                        return
                finally:
                    self.holding -= 1
            yield chunk
        self.finished += 1

    async def _pause(self, seconds: float) -> bool:
        """Sleep, unless the fake stops first (False then)."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return True
        return False

    async def _until_released(self) -> bool:
        released = asyncio.ensure_future(self._released.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait([released, stopping], return_when=asyncio.FIRST_COMPLETED)
        released.cancel()
        stopping.cancel()
        return not self._stopping.is_set()

    def _refuse(self, problem: str) -> None:
        self.problems.append(problem)

    # -- ElevenLabs and Azure (HTTPS) ------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/text-to-speech/{voice_id}/stream", self._elevenlabs, methods=["POST"]),
                Route("/cognitiveservices/v1", self._azure, methods=["POST"]),
            ]
        )

    async def _elevenlabs(self, request: Request) -> Response:
        script = self.script
        key_ok = request.headers.get("xi-api-key") == self.keys["elevenlabs"]
        if not key_ok or script.mode == "unauthorized":
            self.requests.append(VoiceRequest("elevenlabs", "", {}, key_ok))
            detail = {"status": "invalid_api_key", "message": "Invalid API key"}
            return JSONResponse({"detail": detail}, status_code=401)
        try:
            body = json.loads(await request.body())
            text, fields, rate = self._elevenlabs_request(request, body)
        except (ValueError, wire.WireError) as exc:
            self._refuse(f"elevenlabs: {exc}")
            detail = {"status": "invalid_request", "message": str(exc)}
            return JSONResponse({"detail": detail}, status_code=422)
        self.requests.append(VoiceRequest("elevenlabs", text, fields, key_ok))
        return await self._pcm_answer(request, text, rate, "audio/pcm")

    def _elevenlabs_request(self, request: Request, body: Any) -> tuple[str, dict[str, Any], int]:
        output = request.query_params.get("output_format", "mp3_44100_128")
        match = re.fullmatch(r"pcm_(\d+)", output)
        if match is None or int(match.group(1)) not in ELEVENLABS_RATES:
            raise wire.WireError(f"output_format {output!r} is not raw PCM at a known rate")
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise wire.WireError("the body needs a text string")
        settings = body.get("voice_settings", {})
        for name in ("stability", "similarity_boost", "style"):
            value = settings.get(name, 0.5)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise wire.WireError(f"voice_settings.{name} must be between 0 and 1")
        speed = settings.get("speed", 1.0)
        if not isinstance(speed, int | float) or not 0.7 <= speed <= 1.2:
            raise wire.WireError("voice_settings.speed must be between 0.7 and 1.2")
        fields = {
            "voice_id": request.path_params["voice_id"],
            "model_id": body.get("model_id"),
            "voice_settings": settings,
            "output_format": output,
        }
        return body["text"], fields, int(match.group(1))

    async def _azure(self, request: Request) -> Response:
        script = self.script
        key_ok = request.headers.get("ocp-apim-subscription-key") == self.keys["azure"]
        if not key_ok or script.mode == "unauthorized":
            self.requests.append(VoiceRequest("azure", "", {}, key_ok))
            return Response(b"", status_code=401)  # Azure's 401 has no body
        output = request.headers.get("x-microsoft-outputformat", "")
        problem = ""
        if request.headers.get("content-type", "").split(";")[0] != "application/ssml+xml":
            problem = "Content-Type must be application/ssml+xml"
        elif output not in AZURE_FORMATS:
            problem = f"X-Microsoft-OutputFormat {output!r} is not raw PCM"
        elif not request.headers.get("user-agent"):
            problem = "a User-Agent is required"
        try:
            ssml = wire.parse_ssml((await request.body()).decode("utf-8"))
        except (UnicodeDecodeError, wire.WireError) as exc:
            problem = problem or str(exc)
        if problem:
            self._refuse(f"azure: {problem}")
            return Response(problem.encode(), status_code=400)
        fields = {
            "voice": ssml.voice,
            "lang": ssml.lang,
            "style": ssml.style,
            "prosody": ssml.prosody,
            "output_format": output,
        }
        self.requests.append(VoiceRequest("azure", ssml.text, fields, key_ok))
        return await self._pcm_answer(request, ssml.text, AZURE_FORMATS[output], "audio/x-wav")

    async def _pcm_answer(self, request: Request, text: str, rate: int, kind: str) -> Response:
        script = self.script
        if script.mode == "status_500":
            return JSONResponse({"detail": "The fake was scripted to fail."}, status_code=500)
        if script.mode == "garbage":
            return Response(GARBAGE_PAGE, media_type="text/html")
        if script.mode == "hang":
            await self._hang(request)
            return Response(b"", status_code=503)
        step = round(script.chunk_s * rate) * 2
        chunks = wire.split(self._audio_pcm(text, rate), step)
        return StreamingResponse(self._chunks(chunks, script), media_type=kind)

    async def _hang(self, request: Request) -> None:
        """Until the client goes away or the fake stops."""

        async def gone() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        waiters = [asyncio.ensure_future(w) for w in (gone(), self._stopping.wait())]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    # -- Edge (WSS) ------------------------------------------------------------------------

    def _edge_handshake(
        self, connection: ServerConnection, request: WsRequest
    ) -> WsResponse | None:
        self.edge_connects += 1
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        problem = ""
        if parts.path != EDGE_PATH:
            problem = f"path {parts.path} is not Edge's"
        elif query.get("TrustedClientToken") != EDGE_TOKEN:
            problem = "TrustedClientToken is missing or wrong"
        elif not re.fullmatch(r"[0-9a-f]{32}", query.get("ConnectionId", "")):
            problem = "ConnectionId must be 32 hex digits"
        elif not SEC_MS_GEC.match(query.get("Sec-MS-GEC", "")) or not query.get(
            "Sec-MS-GEC-Version"
        ):
            problem = "Sec-MS-GEC or Sec-MS-GEC-Version is missing or malformed"
        elif request.headers.get("Origin") != EDGE_ORIGIN:
            problem = "the Origin is not Edge's read-aloud extension"
        if problem:
            self._refuse(f"edge: {problem}")
            return connection.respond(400, problem)
        if self.script.mode == "unauthorized":
            return connection.respond(403, "Forbidden")  # what a stale Sec-MS-GEC gets
        if self.script.mode == "status_500":
            return connection.respond(500, "The fake was scripted to fail.")
        return None

    async def _edge(self, ws: ServerConnection) -> None:
        script = self.script
        try:
            config_headers, config_body = wire.parse_text_frame(str(await ws.recv()))
            ssml_headers, ssml_body = wire.parse_text_frame(str(await ws.recv()))
            ssml = self._edge_request(config_headers, config_body, ssml_headers, ssml_body)
        except (ValueError, wire.WireError) as exc:
            self._refuse(f"edge: {exc}")
            await ws.close(1007, str(exc)[:100])
            return
        except websockets.ConnectionClosed:
            return
        fields = {"voice": ssml.voice, "prosody": ssml.prosody}
        self.requests.append(VoiceRequest("edge", ssml.text, fields, True))
        if script.mode == "hang":
            await ws.wait_closed()
            return
        request_id = ssml_headers["X-RequestId"]
        stream_id = wire.new_id().upper()
        pcm = self._audio_pcm(ssml.text, wire.EDGE_RATE)
        if script.mode == "garbage":
            mp3_chunks = wire.split(GARBAGE_PAGE * 20, 600)
        else:
            step = round(script.chunk_s * wire.EDGE_BITRATE_KBPS * 1000 / 8)
            mp3_chunks = wire.split(wire.mp3_of(pcm), step)
        try:
            await ws.send(wire.text_frame(request_id, "turn.start", {"context": {}}))
            duration = len(pcm) / 2 / wire.EDGE_RATE
            await ws.send(wire.sentence_boundary(request_id, ssml.text, duration))
            async for chunk in self._chunks(mp3_chunks, script):
                await ws.send(wire.audio_frame(request_id, stream_id, chunk))
            await ws.send(wire.audio_frame(request_id, stream_id, b""))
            await ws.send(wire.text_frame(request_id, "turn.end", {}))
            await ws.wait_closed()
        except websockets.ConnectionClosed:
            pass

    def _edge_request(
        self, config: dict[str, str], config_body: str, ssml: dict[str, str], ssml_body: str
    ) -> wire.Ssml:
        if config.get("Path") != "speech.config" or "X-Timestamp" not in config:
            raise wire.WireError("the first frame must be Path:speech.config with X-Timestamp")
        audio = json.loads(config_body)["context"]["synthesis"]["audio"]
        if audio.get("outputFormat") != wire.EDGE_FORMAT:
            raise wire.WireError(f"outputFormat {audio.get('outputFormat')!r} is not Edge's MP3")
        if ssml.get("Path") != "ssml" or ssml.get("Content-Type") != "application/ssml+xml":
            raise wire.WireError("the second frame must be Path:ssml, application/ssml+xml")
        if not re.fullmatch(r"[0-9a-f]{32}", ssml.get("X-RequestId", "")):
            raise wire.WireError("X-RequestId must be 32 hex digits")
        parsed = wire.parse_ssml(ssml_body)
        if not wire.EDGE_VOICE.match(parsed.voice):
            raise wire.WireError(f"voice {parsed.voice!r} is not in the service's long form")
        if set(parsed.prosody) != {"pitch", "rate", "volume"}:
            raise wire.WireError("prosody must give pitch, rate and volume")
        return parsed


def main() -> None:
    """Serve the fakes until Ctrl-C, printing the settings that point Kagura at them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("fake-cloud-voices"))
    parser.add_argument("--mode", choices=["ok", "unauthorized", "status_500", "garbage", "hang"])
    parser.add_argument("--first-chunk-s", type=float, default=0.2)
    args = parser.parse_args()
    with FakeCloudVoices(args.dir) as voices:
        voices.reset(VoiceScript(mode=args.mode or "ok", first_chunk_s=args.first_chunk_s))
        print(f"tts.elevenlabs.base_url: {voices.elevenlabs_url}  (api_key {ELEVENLABS_KEY})")
        print(f"tts.azure.endpoint: {voices.azure_url}  (api_key {AZURE_KEY})")
        print(f"tts.edge.wss_url: {voices.edge_url}")
        print(f"ca_file (each of them): {voices.ca_file}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
