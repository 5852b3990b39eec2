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
from kagura.conversation.events import ConversationEvent
from kagura.engines.asr import FloatAudio
from kagura.permissions import Endpoint
from kagura.protocol import client as m
from kagura.protocol import outgoing as out
from kagura.runtime import Runtime
from kagura.voice import Interruption, Utterance, VoiceEvent, VoiceFailed, VoiceInput

from .connection import Connection, accept
from .encoder import Encoder
from .listening import MicBuffer, follow_reply, voice_input
from .requests import Requests, model_and_conf
from .safety_api import audit_event

log = logging.getLogger(__name__)


class ClientSession:
    def __init__(
        self, runtime: Runtime, encoder: Encoder, websocket: WebSocket, role: Role
    ) -> None:
        self.runtime = runtime
        self.encoder = encoder
        self.websocket = websocket
        self.client_uid = f"client_{uuid.uuid4().hex[:12]}"
        self.connection = Connection(websocket, self.client_uid, Endpoint.CLIENT, role)
        self.send = self.connection.send
        self.conversation = Conversation(runtime, self._on_event)
        self.requests = Requests(self.conversation, self.client_uid, self.send)
        self._turn_task: asyncio.Task[Any] | None = None
        self._mic = MicBuffer(runtime.config.asr.max_seconds)
        # Made at once, though nothing loads before audio arrives: it follows every reply,
        # so a microphone opened in the middle of one still knows the character's voice.
        self._voice: VoiceInput = voice_input(
            runtime, self._on_voice, lambda: self.conversation.active, self.client_uid
        )
        # The server started a turn from streamed audio; a client of the original protocol
        # answers its `mic-audio-end` control with a `mic-audio-end` of its own: not a turn.
        self._answered_stream = False

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
            await self._voice.aclose()

    async def handle(self, message: m.Incoming) -> None:
        conversation = self.conversation
        match message:
            case m.TextInput(text=text, images=images):
                if text.strip():
                    self.start_turn(TurnInput(text=text, images=m.image_urls(images)))
                else:
                    self.send(out.error("text-input: the text is empty"))
            case m.MicAudioData(audio=audio):
                self._mic.extend(audio)
                self._answered_stream = False
            case m.MicAudioEnd(images=images):
                recorded = self._mic.take()
                if recorded.size:
                    self.start_turn(TurnInput(audio=recorded, images=m.image_urls(images)))
                elif self._answered_stream:
                    self._answered_stream = False  # that turn has started already
                else:
                    self.send(out.error("mic-audio-end: no audio was received"))
            case m.RawAudioData(audio=audio):
                await self._hear(np.asarray(audio, dtype=np.float32))
            case m.PcmAudio(samples=samples):
                await self._hear(samples)
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

    async def _hear(self, audio: FloatAudio) -> None:
        """Streamed audio: the server decides when a turn starts, ends and interrupts."""
        await self._voice.feed(audio)

    def _on_voice(self, event: VoiceEvent) -> None:
        match event:
            case Interruption():
                if self.conversation.active:
                    # The page stops playing and reports what was heard (interrupt-signal).
                    self.send(out.control("interrupt"))
            case Utterance(text=text):
                self.send(out.control("mic-audio-end"))
                self._answered_stream = True
                self.start_turn(TurnInput(text=text, transcribed=True))
            case VoiceFailed(message=message):
                self.send(out.error(message))

    def _on_event(self, event: ConversationEvent) -> None:
        """The conversation's events, encoded for this one client (and audited)."""
        follow_reply(self._voice, event)
        audit_event(self.runtime.audit, event, "private")
        for frame in self.encoder.encode(event).to(self.client_uid):
            self.connection.sender.put(frame)


async def client_ws(websocket: WebSocket) -> None:
    role = await accept(websocket, Endpoint.CLIENT)
    if role is None:
        return  # refused: closed with a code and the reason
    state = websocket.app.state
    await ClientSession(state.runtime, state.encoder, websocket, role).serve()
