"""`/client-ws`: one connection, one private session (Open-LLM-VTuber compatible).

The receive loop never waits on a turn: turns run as tasks, and everything the server says
goes through the connection's bounded sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import numpy as np
from starlette.websockets import WebSocket

from kagura.auth import Role
from kagura.conversation.conversation import Conversation, TurnInput
from kagura.engines import vad
from kagura.engines.asr import SAMPLE_RATE, FloatAudio
from kagura.permissions import Endpoint
from kagura.protocol import client as m
from kagura.protocol import outgoing as out
from kagura.runtime import Runtime

from .connection import Connection, accept
from .requests import Requests, model_and_conf

log = logging.getLogger(__name__)


class ClientSession:
    def __init__(self, runtime: Runtime, websocket: WebSocket, role: Role) -> None:
        self.runtime = runtime
        self.websocket = websocket
        self.client_uid = f"client_{uuid.uuid4().hex[:12]}"
        self.connection = Connection(websocket, self.client_uid, Endpoint.CLIENT, role)
        self.send = self.connection.send
        self.conversation = Conversation(runtime, self.send)
        self.requests = Requests(self.conversation, self.client_uid, self.send)
        self._turn_task: asyncio.Task[Any] | None = None
        self._mic = _MicBuffer(runtime.config.asr.max_seconds)
        self._vad: vad.VoiceActivityDetector | None = None

    async def serve(self) -> None:
        self.connection.greet(model_and_conf(self.conversation, self.client_uid))
        try:
            await self.connection.serve(self.handle)
        finally:
            if self._turn_task is not None:
                self._turn_task.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(self._turn_task, 5)
            self.conversation.close()

    async def handle(self, message: m.ClientMessage) -> None:
        conversation = self.conversation
        match message:
            case m.TextInput(text=text, images=images):
                if text.strip():
                    self.start_turn(TurnInput(text=text, images=m.image_urls(images)))
                else:
                    self.send(out.error("text-input: the text is empty"))
            case m.MicAudioData(audio=audio):
                self._mic.extend(audio)
            case m.MicAudioEnd(images=images):
                recorded = self._mic.take()
                if recorded.size:
                    self.start_turn(TurnInput(audio=recorded, images=m.image_urls(images)))
                else:
                    self.send(out.error("mic-audio-end: no audio was received"))
            case m.RawAudioData(audio=audio):
                await self._detect_speech(audio)
            case m.AISpeakSignal():
                self.start_turn(TurnInput(proactive=True))
            case m.InterruptSignal(text=heard):
                conversation.interrupt(heard)
            case m.Simple(type="frontend-playback-complete"):
                conversation.playback.acknowledge()
            case m.Simple(type="audio-play-start"):
                pass  # group sync only
            case _:
                await self.requests.handle(message)

    def start_turn(self, request: TurnInput) -> None:
        """New input interrupts the reply in progress: a private session answers the latest."""
        previous = self._turn_task
        if previous is not None and not previous.done():
            previous.cancel()
        self._turn_task = asyncio.create_task(self._run_turn(request, previous))

    async def _run_turn(self, request: TurnInput, previous: asyncio.Task[Any] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous], timeout=5)
        limit = self.runtime.config.conversation.turn_timeout_s
        try:
            async with asyncio.timeout(limit):  # stops the turn like an interrupt
                await self.conversation.run_turn(request)
        except TimeoutError:
            log.warning("turn of %s took over %g s; stopped it", self.client_uid, limit)
            self.send(
                out.error(
                    f"the reply took over {limit:g} s and was stopped (conversation.turn_timeout_s)"
                )
            )
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("turn failed")

    async def _detect_speech(self, audio: list[float]) -> None:
        if self._vad is None:
            config = self.runtime.config
            self._vad = await asyncio.to_thread(vad.create, config.vad, config.asr.max_seconds)
        events = await asyncio.to_thread(self._vad.feed, np.asarray(audio, dtype=np.float32))
        for event in events:
            if isinstance(event, vad.SpeechStarted):
                if self.conversation.active:
                    self.send(out.control("interrupt"))
            else:
                self._mic.replace(event.audio)
                self.send(out.control("mic-audio-end"))


class _MicBuffer:
    """The utterance being recorded, capped at `max_seconds` (the oldest audio is dropped)."""

    def __init__(self, max_seconds: float) -> None:
        self._limit = int(max_seconds * SAMPLE_RATE)
        self._chunks: list[FloatAudio] = []
        self._size = 0

    def extend(self, samples: list[float]) -> None:
        chunk = np.asarray(samples, dtype=np.float32)
        self._chunks.append(chunk)
        self._size += chunk.size
        while self._size - self._chunks[0].size >= self._limit and len(self._chunks) > 1:
            self._size -= self._chunks.pop(0).size

    def replace(self, audio: FloatAudio) -> None:
        self._chunks, self._size = [audio[-self._limit :]], min(audio.size, self._limit)

    def take(self) -> FloatAudio:
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        self._chunks, self._size = [], 0
        return audio[-self._limit :]


async def client_ws(websocket: WebSocket) -> None:
    role = await accept(websocket, Endpoint.CLIENT)
    if role is None:
        return  # refused: closed with a code and the reason
    runtime: Runtime = websocket.app.state.runtime
    await ClientSession(runtime, websocket, role).serve()
