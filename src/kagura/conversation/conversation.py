"""One conversation's state: character, memory, history and the running turn.

A private `/client-ws` session owns one; the stage shares one among all its clients. The
caller decides how turns are scheduled (a private session interrupts, the stage queues);
this class makes sure only one runs at a time and that what was said is remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from kagura.config import KaguraConfig
from kagura.history import StoredMessage
from kagura.memory import ViewerKey
from kagura.runtime import Runtime

from . import embedded
from .events import CharacterChanged, Publish
from .guard import SegmentGuard
from .long_term import LongTermMemory
from .memory import FORGOTTEN_LINE, ConversationMemory, Memory
from .report import TurnReport
from .scripts import PROACTIVE_PROMPT, Answer, CannedLine, Scene, TurnInput, background
from .text import join_pieces
from .turn import Performer, PlaybackAck, Turn, TurnScript

__all__ = ["PROACTIVE_PROMPT", "Conversation", "TurnInput"]

log = logging.getLogger(__name__)

# Turns a cut can still take back: a minute of stream delay holds fewer replies than this.
MAX_RETRACTABLE = 32


class Conversation:
    def __init__(
        self,
        runtime: Runtime,
        publish: Publish,
        *,
        max_sentences: int = 0,
        viewers: bool = False,
    ) -> None:
        self.runtime = runtime
        # Replies end after this many sentences, and the prompt asks for it (0: no limit).
        self.max_sentences = max_sentences
        # A conversation with viewers (the stage) tells the model how their chat is framed.
        self.viewers = viewers
        self.config = runtime.config
        # Where the conversation's events go: the session's or the stage's edge.
        self.publish = publish
        self.long_term = LongTermMemory(runtime)
        self.memory = self._new_memory()
        # How many of memory's first messages were loaded from a history, and so were
        # summarised when that history was left: not summarised again.
        self._summarised = 0
        self.playback = PlaybackAck()
        self._history_uid: str | None = None
        self._lock = asyncio.Lock()
        self._turn: Turn | None = None
        self._task: asyncio.Task[Any] | None = None
        # The latest turns, newest last: a cut may take back replies still being delayed.
        self._recent: deque[TurnReport] = deque(maxlen=MAX_RETRACTABLE)

    @property
    def active(self) -> bool:
        """True from a turn's chain start to its chain end (`conversation_active`)."""
        return self._turn is not None

    # -- turns -------------------------------------------------------------------------

    async def run_turn(self, request: TurnInput) -> TurnReport:
        """Answer one input; cancellable through `interrupt()` at any point."""
        async with self._lock:
            self._task = asyncio.current_task()
            # A turn records into the memory, character and history it started with.
            scene = Scene(
                self.runtime,
                self.config,
                self.memory,
                await self.ensure_history(),
                self.long_term,
                embedded.max_sentences(self.config, self.max_sentences),
                self.viewers,
            )
            return await self._run(Answer(scene, request))

    async def say(self, text: str) -> TurnReport:
        """Speak a canned line (a gift thank-you) through the normal turn: no LLM, nothing
        remembered, and like every turn it waits for the one before it."""
        async with self._lock:
            self._task = asyncio.current_task()
            return await self._run(CannedLine(text))

    async def _run(self, script: TurnScript) -> TurnReport:
        turn = Turn(
            config=self.config,
            performer=Performer(
                self.runtime.model_for(self.config),
                self.runtime.tts,
                SegmentGuard(self.runtime.lists, self.config.safety, self.runtime.guard_model),
            ),
            publish=self.publish,
            playback=self.playback,
            max_sentences=embedded.max_sentences(self.config, self.max_sentences),
        )
        self._turn = turn
        try:
            with self.runtime.activity.turn():
                return await turn.run(script)
        finally:
            self._turn = None
            self._task = None
            self._recent.append(turn.report)
            if turn.report.cut and turn.report.retract is not None:
                # Cut while it was being recorded: recorded as said, so taken back now.
                background(turn.report.retract(), "taking back a cut reply")

    def interrupt(self, heard: str | None) -> bool:
        """Stop the running turn at once; remember only `heard` (what the user heard)."""
        if self._task is None or self._task.done():
            return False
        if self._turn is not None:
            self._turn.report.heard = heard
        self._task.cancel()
        return True

    def cut(self, recent: int = 0) -> list[str]:
        """The streamer's cut: stop the running turn, and take back the `recent` latest
        replies before it (still inside the stream delay, so never on air): none of them is
        remembered as said. Returns what each cut reply had said so far (for the audit);
        empty when there was nothing to cut."""
        cut: list[str] = []
        if self._turn is not None and self._task is not None and not self._task.done():
            self._turn.report.cut = True
            self._task.cancel()
            cut.append(join_pieces(self._turn.report.delivered))
        for report in list(self._recent)[-recent:] if recent > 0 else []:
            if not report.cut:
                report.cut = True
                cut.insert(0, join_pieces(report.delivered))
                if report.retract is not None:
                    background(report.retract(), "taking back a cut reply")
        return cut

    async def settle(self, timeout_s: float = 10.0) -> None:
        """Stop any running turn and wait (bounded) until it has been recorded.

        Requests that switch history or character go through here first, so a reply is never
        recorded into a history it did not belong to.
        """
        self.interrupt(None)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s), self._lock:
                pass

    # -- memory and history ------------------------------------------------------------

    @property
    def history_uid(self) -> str | None:
        """The history this conversation records into (held, so nobody else deletes it)."""
        return self._history_uid

    @history_uid.setter
    def history_uid(self, history_uid: str | None) -> None:
        store = self.runtime.history
        if self._history_uid is not None:
            store.release(self._history_uid)
        if history_uid is not None:
            store.hold(history_uid)
        self._history_uid = history_uid

    def close(self) -> None:
        """The conversation is over: its history is free to be deleted."""
        self.interrupt(None)
        self.history_uid = None
        self.long_term.detach()

    async def ensure_history(self) -> str:
        if self._history_uid is None:
            self.history_uid = await self.runtime.history.create(self.config.character.conf_uid)
        assert self._history_uid is not None
        return self._history_uid

    def _summarise_rest(self) -> None:
        """The conversation is left (a new history, another character): what memory still
        holds is summarised like a trimmed part, so each history ends with a summary."""
        self.long_term.trimmed(self.config, self._unsummarised())
        self._summarised = 0

    def end_show(self) -> bool:
        """The show ended (the streamer said so; the server goes on): what memory holds of
        it, not summarised yet, is summarised into long-term memory, as at a server's stop.
        The conversation keeps it in mind. Returns whether there was anything to summarise."""
        rest = self._unsummarised()
        self.long_term.trimmed(self.config, rest)
        self._summarised = len(self.memory.messages())
        return bool(rest)

    def _unsummarised(self) -> list[Memory]:
        return self.memory.messages()[self._summarised :]

    def forget_lines(self, key: ViewerKey) -> int:
        """Take the lines `key` wrote out of the conversation's memory (by identity: a
        namesake's lines stay): neither the next replies nor a summary of this stream see
        them. Returns how many lines went."""
        return self.memory.redact(key, FORGOTTEN_LINE)

    async def end_stream(self) -> None:
        """The server stops: the stream ends with a summary of what memory still holds
        (bounded), and long-term memory's writer stops."""
        await self.long_term.close(self.config, self._unsummarised())

    async def new_history(self) -> str:
        self._summarise_rest()
        self.memory.clear()
        uid = await self.runtime.history.create(self.config.character.conf_uid)
        self.history_uid = uid
        return uid

    async def load_history(self, history_uid: str) -> list[StoredMessage] | None:
        """Switch to a stored history and rebuild memory from its most recent messages."""
        conf_uid = self.config.character.conf_uid
        if not await self.runtime.history.exists(conf_uid, history_uid):
            return None
        limit = self.config.system.history_max_messages
        messages = await self.runtime.history.messages(history_uid, limit)
        self.history_uid = history_uid
        self._summarise_rest()
        self.memory.clear()
        self.memory.on_trim = None  # what loading leaves out was summarised when it was said
        for message in messages:
            text = f"{message.content}..." if message.interrupted else message.content
            self.memory.add("user" if message.role == "human" else "assistant", text)
        self.memory.on_trim = self._trimmed
        self._summarised = len(self.memory.messages())
        return messages

    def switch_config(self, config: KaguraConfig) -> None:
        """A new character: new memory and a fresh history on the next turn; every client
        is told, so each shows the new model."""
        self._summarise_rest()
        self.config = config
        self.memory = self._new_memory()
        self.history_uid = None
        self.publish(CharacterChanged(config.character, self.runtime.model_for(config)))

    def _new_memory(self) -> ConversationMemory:
        memory = ConversationMemory(self.config.llm.memory_budget_tokens)
        memory.on_trim = self._trimmed
        return memory

    def _trimmed(self, dropped: list[Memory]) -> None:
        # Trims drop the oldest first: loaded (already summarised) messages go first.
        known = min(self._summarised, len(dropped))
        self._summarised -= known
        self.long_term.trimmed(self.config, dropped[known:])
