"""`/proxy-ws`: the stage's endpoint.

Every connection here shares the one stage conversation. Chat (`text-input`) is queued by
the stage's flood policy; control messages act at once, if the sender's role allows them;
replies to a client's own requests go to that client only, while the show (everything a turn
says) goes to the clients whose role hears it (`audience.py`). A page joining never resets
the shared history: on the stage, `create-new-history` answers with the current history.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import numpy as np
from fastapi import APIRouter
from starlette.websockets import WebSocket

from kagura import auth
from kagura.conversation.framing import clean, clean_name
from kagura.permissions import Endpoint
from kagura.protocol import client as m
from kagura.protocol import outgoing as out
from kagura.stage.addressing import Addressing, normal
from kagura.stage.events import KIND_LANES, ChatEvent, Lane, StageEvent, label_and_text
from kagura.stage.host import SHOW_KINDS
from kagura.stage.policy import BAD_INPUT
from kagura.voice import Interruption, Speaking, Utterance, VoiceEvent, VoiceFailed, VoiceInput

from .audience import Audience
from .connection import Connection, admit, mistakes
from .listening import MicBuffer, follow_reply, voice_input
from .requests import Requests, model_and_conf
from .speaks_for import SpeaksFor

log = logging.getLogger(__name__)

router = APIRouter()

# Why the streamer's words are not answered under `stage.streamer_addressing: by_name`.
NOT_ADDRESSED = "the character was not named (stage.streamer_addressing: by_name)"


class StageClient:
    def __init__(self, audience: Audience, websocket: WebSocket, granted: auth.Grant) -> None:
        self.audience = audience
        self.stage = stage = audience.stage
        self.role = role = granted.role
        # The one platform a platform client may speak for (its token's, or its hello's).
        self.speaks_for = SpeaksFor(granted)
        self.client_uid = f"stage_{role.value}_{uuid.uuid4().hex[:12]}"
        self.connection = Connection(
            websocket, self.client_uid, Endpoint.STAGE, role, stage.config.client_queue_frames
        )
        self.send = self.connection.send
        self.requests = Requests(stage.conversation, self.client_uid, self.send)
        # The streamer's voice (the permission table lets only the admin role send it).
        self._voice: VoiceInput | None = None
        self._unfollow: Callable[[], None] | None = None
        self._mic = MicBuffer(stage.runtime.config.asr.max_seconds)

    async def serve(self) -> None:
        self.connection.greet(model_and_conf(self.stage.conversation, self.client_uid))
        self.audience.join(self.client_uid, self.connection.sender, self.role)
        if self.role is auth.Role.ADMIN:
            self._listening()  # follows replies from the start (see `_listening`)
        try:
            await self.connection.serve(self.handle)
        finally:
            self.audience.leave(self.client_uid)
            if self._unfollow is not None:
                self._unfollow()
            if self._voice is not None:
                await self._voice.aclose()
                self.stage.streamer_speaking(self.client_uid, False)  # gone: not speaking

    async def handle(self, message: m.Incoming) -> None:
        stage = self.stage
        match message:
            case m.TextInput(text=text, source=source):
                self._submit(text, source)
            case m.ChatWithdraw(platform=platform, ids=ids):
                if self._speaks_for(message.type, platform):
                    stage.withdraw(platform, ids)
            case m.InterruptSignal(text=heard):
                stage.interrupt(heard, origin=self.client_uid)
            case m.Simple(type="frontend-playback-complete"):
                if not self.audience.delayed(self.client_uid):  # a delayed page is behind
                    stage.acknowledge_playback()
            case m.Simple(type="audio-play-start"):
                pass  # group sync only
            case m.Simple(type="create-new-history"):
                uid = await stage.conversation.ensure_history()
                self.send(out.new_history_created(uid))
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
            self._unfollow = self.stage.subscribe(self._follow_reply)
        return self._voice

    def _follow_reply(self, event: StageEvent) -> None:
        follow_reply(self._voice, event)

    def _on_voice(self, event: VoiceEvent) -> None:
        """The streamer spoke: their words go to the top lane, shown on their page at once
        and on every other page when the stage answers them. While they speak the stage
        yields to them (`stage.yield_to_streamer`)."""
        match event:
            case Speaking(speaking=speaking):
                self.stage.streamer_speaking(self.client_uid, speaking)
            case Interruption():
                if self.stage.runtime.config.voice.barge_in.stage:
                    self.stage.interrupt(None)
            case Utterance(text=text):
                if self._addressed(text):
                    self.send(out.transcription(text))
                    self._submit(text[: self.stage.config.max_text_chars], None)
                else:
                    self.send(out.transcription(text, unanswered=NOT_ADDRESSED))
            case VoiceFailed(message=message):
                self.send(out.error(message))

    def _addressed(self, text: str) -> bool:
        """Whether the streamer's spoken words are for the character: always, or with
        `stage.streamer_addressing: by_name` only when they name it (talking to their
        audience, they are shown their transcript and nothing is answered)."""
        if self.stage.config.streamer_addressing == "always":
            return True
        if Addressing(self.stage.character_names()).names_character(normal(text)):
            return True
        log.debug("%s: the streamer did not name the character; not answered", self.client_uid)
        return False

    def _speaks_for(self, what: str, platform: str) -> bool:
        """Whether this connection may send an event of `platform`; if not, it is told so."""
        refused = self.speaks_for.refusal(platform)
        if refused is None:
            return True
        self.stage.wrong_platform += 1
        mistakes.warning("%s: %s", self.client_uid, refused)
        self.send(out.error(f"{what}: {refused}"))
        return False

    def _submit(self, text: str, source: m.ChatSource | None) -> None:
        if source is not None and not self._speaks_for("text-input", source.platform):
            return
        if source is not None and source.kind in SHOW_KINDS:  # the platform's stream
            self.stage.show(SHOW_KINDS[source.kind])
            return
        if source is not None and source.kind == "enter":  # not a turn; maybe a greeting
            self.stage.arrive(sourced_event(text, source, Lane.DANMAKU, self.client_uid))
            return
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


def chat_event(
    text: str, source: m.ChatSource | None, *, streamer: bool, origin: str
) -> ChatEvent | None:
    """The stage's event for one `text-input`; None for kinds the stage does not answer.

    Text from an admin connection without a `source` is the streamer's own; everything
    else is a viewer's, whatever it claims, and its names and text are cleaned here.
    """
    if source is None:
        if streamer:
            return ChatEvent(lane=Lane.STREAMER, text=text.strip(), origin=origin)
        return ChatEvent(lane=Lane.DANMAKU, text=clean(text), origin=origin)
    lane = KIND_LANES[source.kind]
    return None if lane is None else sourced_event(text, source, lane, origin)


def sourced_event(text: str, source: m.ChatSource, lane: Lane, origin: str) -> ChatEvent:
    """A viewer's event from a platform client, its names and text cleaned; the label of
    what they bought apart from their words (`label_and_text`: older clients send it as the
    text)."""
    user = source.user
    label, said = label_and_text(source.kind, text, source.label)
    return ChatEvent(
        lane=lane,
        text=clean(said),
        label=clean(label),
        kind=source.kind,
        user_name=clean_name(user.name) if user else "",
        user_id=str(user.id) if user and user.id is not None else "",
        platform=clean_name(source.platform),
        amount=source.amount,
        currency=clean_name(source.currency or ""),
        event_id=str(source.id) if source.id is not None else "",
        origin=origin,
        free=source.free and source.kind == "gift",
    )


@router.websocket("/proxy-ws")
async def proxy_ws(websocket: WebSocket) -> None:
    granted = await admit(websocket, Endpoint.STAGE)
    if granted is not None:
        audience: Audience = websocket.app.state.audience
        await StageClient(audience, websocket, granted).serve()
