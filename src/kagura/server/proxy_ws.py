"""`/proxy-ws`: the stage's endpoint, and `GET /stage/stats`.

Every connection here shares the one stage conversation. Chat (`text-input`) is queued by
the stage's flood policy; control messages act at once, if the sender's role allows them;
replies to a client's own requests go to that client only, while everything a turn says is
broadcast. A page joining never resets the shared history: on the stage,
`create-new-history` answers with the current history.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.websockets import WebSocket

from kagura import auth
from kagura.conversation.events import TurnEvent
from kagura.permissions import Endpoint
from kagura.protocol import client as m
from kagura.protocol import outgoing as out
from kagura.stage.events import chat_event
from kagura.stage.policy import BAD_INPUT
from kagura.stage.stage import Stage
from kagura.voice import Interruption, Utterance, VoiceEvent, VoiceFailed, VoiceInput

from .connection import Connection, accept, check
from .listening import MicBuffer, follow_reply, voice_input
from .requests import Requests, model_and_conf

log = logging.getLogger(__name__)

router = APIRouter()


class StageClient:
    def __init__(self, stage: Stage, websocket: WebSocket, role: auth.Role) -> None:
        self.stage = stage
        self.websocket = websocket
        self.role = role
        self.client_uid = f"stage_{role.value}_{uuid.uuid4().hex[:12]}"
        self.connection = Connection(
            websocket, self.client_uid, Endpoint.STAGE, role, stage.config.client_queue_frames
        )
        self.send = self.connection.send
        self.requests = Requests(stage.conversation, self.client_uid, self.send)
        # The streamer's voice (the permission table lets only the admin role send it).
        self._voice: VoiceInput | None = None
        self._mic = MicBuffer(stage.runtime.config.asr.max_seconds)

    async def serve(self) -> None:
        self.connection.greet(model_and_conf(self.stage.conversation, self.client_uid))
        self.stage.add_client(self.client_uid, self.connection.sender, self.role.value)
        if self.role is auth.Role.ADMIN:
            self._listening()  # follows replies from the start (see `_listening`)
        try:
            await self.connection.serve(self.handle)
        finally:
            self.stage.broadcast.remove(self.client_uid)
            if self._voice is not None:
                self.stage.observers.remove(self._follow_reply)
                await self._voice.aclose()

    async def handle(self, message: m.Incoming) -> None:
        stage = self.stage
        match message:
            case m.TextInput(text=text, source=source):
                self._submit(text, source)
            case m.ChatWithdraw(platform=platform, ids=ids):
                stage.withdraw(platform, ids)
            case m.InterruptSignal(text=heard):
                if stage.interrupt(heard):
                    # One stage, one voice: every other page stops playing as well.
                    stage.broadcast.send(out.interrupt_signal(heard), exclude=self.client_uid)
            case m.Simple(type="frontend-playback-complete"):
                stage.conversation.playback.acknowledge()
            case m.Simple(type="audio-play-start"):
                pass  # group sync only
            case m.Simple(type="create-new-history"):
                uid = await stage.conversation.ensure_history()
                self.send(out.new_history_created(uid))
            case m.SwitchConfig():
                before = stage.conversation.config
                await self.requests.handle(message)
                if stage.conversation.config is not before:
                    # One character for everyone: every page loads the new model.
                    stage.broadcast.each(
                        lambda uid: out.frame(model_and_conf(stage.conversation, uid)),
                        exclude=self.client_uid,
                    )
            case m.RawAudioData(audio=audio):
                await self._listening().feed(np.asarray(audio, dtype=np.float32))
            case m.PcmAudio(samples=samples):
                await self._listening().feed(samples)
            case m.MicAudioData(audio=audio):
                self._mic.extend(audio)
            case m.MicAudioEnd():
                recorded = self._mic.take()
                if recorded.size:
                    self._listening().recorded(recorded)
                else:
                    self.send(out.error("mic-audio-end: no audio was received"))
            case m.AISpeakSignal():
                self.send(out.error(f"{message.type!r} is not supported on the stage"))
            case _:
                await self.requests.handle(message)

    def _listening(self) -> VoiceInput:
        """The streamer's voice input, made when the admin connects: it keeps the reply being
        spoken as its echo reference, so a microphone opened in the middle of a reply still
        knows the character's voice (nothing is loaded before audio arrives)."""
        if self._voice is None:
            audible = lambda: self.stage.active  # noqa: E731
            self._voice = voice_input(self.stage.runtime, self._on_voice, audible, self.client_uid)
            self.stage.observers.append(self._follow_reply)
        return self._voice

    def _follow_reply(self, event: TurnEvent) -> None:
        follow_reply(self._voice, event)

    def _on_voice(self, event: VoiceEvent) -> None:
        """The streamer spoke: their words go to the top lane, shown on their page at once
        and on every other page when the stage answers them."""
        match event:
            case Interruption():
                if self.stage.runtime.config.voice.barge_in.stage and self.stage.interrupt(None):
                    # One stage, one voice: every page stops playing the reply.
                    self.stage.broadcast.send(out.interrupt_signal(""))
            case Utterance(text=text):
                self.send(out.transcription(text))
                self._submit(text[: self.stage.config.max_text_chars], None)
            case VoiceFailed(message=message):
                self.send(out.error(message))

    def _submit(self, text: str, source: m.ChatSource | None) -> None:
        event = chat_event(
            text, source, streamer=self.role is auth.Role.ADMIN, origin=self.client_uid
        )
        if event is None:
            return  # joins and likes: not worth a turn
        verdict = self.stage.submit(event)
        if verdict in BAD_INPUT:
            limit = self.stage.config.max_text_chars
            why = "the text is empty" if verdict == "empty" else f"longer than {limit} characters"
            self.send(out.error(f"text-input: {why}"))


def _stage(connection: WebSocket | Request) -> Stage:
    stage: Stage = connection.app.state.stage
    return stage


@router.websocket("/proxy-ws")
async def proxy_ws(websocket: WebSocket) -> None:
    role = await accept(websocket, Endpoint.STAGE)
    if role is not None:
        await StageClient(_stage(websocket), websocket, role).serve()


def http_role(request: Request) -> auth.Role | JSONResponse:
    """The caller's role, or the error response that refuses it."""
    try:
        return check(request)
    except auth.Refused as refused:
        status = 401 if refused.code == auth.CLOSE_UNAUTHORIZED else 403
        return JSONResponse({"error": refused.reason}, status_code=status)


@router.get("/stage/stats")
async def stage_stats(request: Request) -> JSONResponse:
    role = http_role(request)
    if isinstance(role, JSONResponse):
        return role
    return JSONResponse(_stage(request).stats())


class PauseRequest(BaseModel):
    paused: bool


@router.post("/stage/pause")
async def stage_pause(request: Request, body: PauseRequest) -> JSONResponse:
    """Stop or resume answering (admin only); chat keeps queueing meanwhile."""
    role = http_role(request)
    if isinstance(role, JSONResponse):
        return role
    if role is not auth.Role.ADMIN:
        return JSONResponse({"error": "only the admin role may pause the stage"}, 403)
    stage = _stage(request)
    stage.set_paused(body.paused)
    return JSONResponse({"paused": stage.paused})


@asynccontextmanager
async def stage_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the stage for as long as the server runs."""
    stage = Stage(app.state.runtime)
    app.state.stage = stage
    await stage.start()
    try:
        yield
    finally:
        await stage.stop()
