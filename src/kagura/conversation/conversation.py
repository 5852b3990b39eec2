"""One conversation's state: character, memory, history and the running turn.

A private `/client-ws` session owns one; the stage shares one among all its clients. The
caller decides how turns are scheduled (a private session interrupts, the stage queues);
this class makes sure only one runs at a time and that what was said is remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kagura.config import KaguraConfig
from kagura.conversation.history import StoredMessage
from kagura.engines.asr import FloatAudio
from kagura.engines.llm import ChatMessage
from kagura.runtime import Runtime

from .memory import ConversationMemory
from .prompt import build_messages
from .turn import Emit, PlaybackAck, Turn, TurnReport

log = logging.getLogger(__name__)

PROACTIVE_PROMPT = (
    "(No one has said anything for a while. Say something to your audience on your own: "
    "a short remark, question or story.)"
)


@dataclass(frozen=True)
class TurnInput:
    """What starts a turn. `speaker`/`platform` name a viewer on the stage."""

    text: str = ""
    speaker: str | None = None
    platform: str | None = None
    proactive: bool = False
    audio: FloatAudio | None = None  # transcribed at the start of the turn
    images: tuple[str, ...] = ()  # data URLs shown to a vision model with this input only

    def prompt_text(self) -> str:
        if self.proactive:
            return PROACTIVE_PROMPT
        if self.speaker:
            where = f" on {self.platform}" if self.platform else ""
            return f"{self.speaker}{where} says: {self.text}"
        return self.text


class Conversation:
    def __init__(self, runtime: Runtime, emit: Emit, config: KaguraConfig | None = None) -> None:
        self.runtime = runtime
        self.config = config or runtime.config
        self.emit = emit
        self.memory = ConversationMemory(self.config.llm.memory_budget_tokens)
        self.playback = PlaybackAck()
        self.history_uid: str | None = None
        self._lock = asyncio.Lock()
        self._turn: Turn | None = None
        self._task: asyncio.Task[Any] | None = None
        self._heard: str | None = None

    @property
    def active(self) -> bool:
        """True from a turn's chain start to its chain end (`conversation_active`)."""
        return self._turn is not None

    # -- turns -------------------------------------------------------------------------

    async def run_turn(self, request: TurnInput) -> TurnReport:
        """Answer one input; cancellable through `interrupt()` at any point."""
        async with self._lock:
            self._task = asyncio.current_task()
            self._heard = None
            # A turn records into the memory, character and history it started with.
            memory, config = self.memory, self.config
            history_uid = await self.ensure_history()
            model = self.runtime.model_for(config)
            turn = Turn(
                config=config,
                model=model,
                llm=self.runtime.llm,
                tts=self.runtime.tts,
                emit=self.emit,
                playback=self.playback,
            )
            human_write: asyncio.Task[None] | None = None

            async def prepare() -> list[ChatMessage] | None:
                nonlocal request, human_write
                if request.audio is not None:
                    text = await self.transcribe(request.audio)
                    self.emit({"type": "user-input-transcription", "text": text})
                    if not text.strip():
                        return None
                    request = replace(request, text=text, audio=None)
                if not request.proactive:
                    # Written while the LLM starts: the disk is not on the path to first audio.
                    human_write = asyncio.create_task(self._remember_human(history_uid, request))
                memory.add("user", request.prompt_text())
                return build_messages(config.character, model.emotionMap, memory, request.images)

            async def finish(report: TurnReport, interrupted: bool) -> None:
                if human_write is not None:
                    await human_write  # the human message goes first in history
                # Interrupted: only what the user heard; without their word, what was sent.
                text = report.reply
                if interrupted:
                    text = self._heard if self._heard is not None else " ".join(report.delivered)
                if text.strip():
                    # Memory marks an interrupted reply so the model knows it was cut off.
                    memory.add("assistant", f"{text.strip()}..." if interrupted else text)
                    await self._remember_ai(history_uid, config, text.strip(), interrupted)

            if request.proactive:
                self.emit({"type": "full-text", "text": "AI wants to speak something..."})
            self._turn = turn
            try:
                return await turn.run(prepare, finish)
            finally:
                self._turn = None
                self._task = None

    def interrupt(self, heard: str | None) -> bool:
        """Stop the running turn at once; remember only `heard` (what the user heard)."""
        if self._task is None or self._task.done():
            return False
        self._heard = heard
        self._task.cancel()
        return True

    async def settle(self, timeout_s: float = 10.0) -> None:
        """Stop any running turn and wait (bounded) until it has been recorded.

        Requests that switch history or character go through here first, so a reply is never
        recorded into a history it did not belong to.
        """
        self.interrupt(None)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s), self._lock:
                pass

    async def transcribe(self, audio: FloatAudio) -> str:
        max_samples = int(self.config.asr.max_seconds * 16000)
        clipped = np.asarray(audio[-max_samples:], dtype=np.float32)
        async with asyncio.timeout(self.config.asr.timeout_s):
            return await self.runtime.asr.transcribe(clipped)

    # -- memory and history ------------------------------------------------------------

    async def _remember_human(self, history_uid: str, request: TurnInput) -> None:
        name = request.speaker or self.config.character.human_name
        try:
            await self.runtime.history.append(history_uid, "human", request.text, name=name)
        except Exception:
            log.exception("could not store the human message in history %s", history_uid)

    async def _remember_ai(
        self, history_uid: str, config: KaguraConfig, text: str, interrupted: bool
    ) -> None:
        character = config.character
        await self.runtime.history.append(
            history_uid,
            "ai",
            text,
            name=character.name,
            avatar=character.avatar or None,
            interrupted=interrupted,
        )

    async def ensure_history(self) -> str:
        if self.history_uid is None:
            self.history_uid = await self.runtime.history.create(self.config.character.conf_uid)
        return self.history_uid

    async def new_history(self) -> str:
        self.memory.clear()
        self.history_uid = await self.runtime.history.create(self.config.character.conf_uid)
        return self.history_uid

    async def load_history(self, history_uid: str) -> list[StoredMessage] | None:
        """Switch to a stored history and rebuild memory from its most recent messages."""
        conf_uid = self.config.character.conf_uid
        if not await self.runtime.history.exists(conf_uid, history_uid):
            return None
        limit = self.config.system.history_max_messages
        messages = await self.runtime.history.messages(history_uid, limit)
        self.history_uid = history_uid
        self.memory.clear()
        for message in messages:
            text = f"{message.content}..." if message.interrupted else message.content
            self.memory.add("user" if message.role == "human" else "assistant", text)
        return messages

    def switch_config(self, config: KaguraConfig) -> None:
        """A new character: new memory and a fresh history on the next turn."""
        self.config = config
        self.memory = ConversationMemory(config.llm.memory_budget_tokens)
        self.history_uid = None
