"""The two kinds of turn: an answer from the LLM, and a canned line.

Each is a `TurnScript`: the turn runs the sequence of a turn and asks the script only what
differs — what was heard, what to ask, where the reply comes from, what to remember.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kagura.config import KaguraConfig
from kagura.engines.asr import SAMPLE_RATE, FloatAudio
from kagura.engines.llm import ChatMessage
from kagura.history import StoredMessage
from kagura.memory import Speaker

from . import embedded
from .framing import strip_template_tokens
from .long_term import LongTermMemory
from .memory import ConversationMemory, LineOwners, Memory
from .prompt import build_messages
from .report import TurnReport
from .turn import Heard

if TYPE_CHECKING:
    from kagura.runtime import Runtime

log = logging.getLogger(__name__)

PROACTIVE_PROMPT = (
    "(No one has said anything for a while. Say something to your audience on your own: "
    "a short remark, question or story.)"
)


@dataclass(frozen=True)
class TurnInput:
    """What starts a turn. On the stage, a viewer's `text` is already framed as quoted data
    (`framing.viewer_line`) and `speaker` names them in the history. A `proactive` turn's
    `text`, if any, is the stage's own prompt for it (`PROACTIVE_PROMPT` otherwise)."""

    text: str = ""
    speaker: str | None = None
    proactive: bool = False
    audio: FloatAudio | None = None  # transcribed at the start of the turn
    transcribed: bool = False  # `text` was spoken (transcribed already): shown as such
    images: tuple[str, ...] = ()  # data URLs shown to a vision model with this input only
    speakers: tuple[Speaker, ...] = ()  # the viewers who wrote it (long-term memory)
    # Who wrote each line of `text` (`ConversationMemory`): a viewer's `!forget me` takes
    # out exactly their lines, whatever name they or a namesake go by.
    owners: LineOwners = ()
    # Said before the reply, while the LLM starts (`stage.read_question_aloud`: the viewer's
    # question read out); spoken and shown like the reply, never remembered as its words.
    preface: str = ""
    # What long-term memory searches on, when `text` frames it: the viewers' own words
    # ("Alice on bilibili says: …" would find every note that names Alice).
    search: str = ""

    def prompt_text(self, text: str | None = None) -> str:
        """The input as the LLM reads it (`text`: the transcript of spoken input), without
        chat-template control tokens, whoever wrote it."""
        if self.proactive:  # Kagura's own words: a topic, a greeting, the show's start
            return strip_template_tokens(self.text) if self.text else PROACTIVE_PROMPT
        return strip_template_tokens(self.text if text is None else text)


@dataclass(frozen=True)
class Scene:
    """Where a turn is answered, fixed when it starts: it records into the memory, character
    and history it started with, whatever the conversation switches to meanwhile."""

    runtime: Runtime
    config: KaguraConfig
    memory: ConversationMemory
    history_uid: str
    long_term: LongTermMemory | None = None
    max_sentences: int = 0  # replies end after this many sentences (0: no limit)
    viewers: bool = False  # the prompt tells the model how viewers' chat is framed


class Answer:
    """The LLM answers an input; the input and the reply go into memory and history."""

    def __init__(self, scene: Scene, request: TurnInput) -> None:
        self._scene = scene
        self._runtime = scene.runtime
        self._config = scene.config
        self._memory = scene.memory
        self._request = request
        self.proactive = request.proactive
        self._text = request.text
        self._human_write: asyncio.Task[None] | None = None
        # Decided before the LLM (`embedded.canned_reply`): the demo model's English-only line.
        self._canned: str | None = None

    async def hear(self) -> Heard:
        request = self._request
        if request.audio is not None:
            self._text = await self._transcribe(request.audio)
        return Heard(self._text, spoken=request.audio is not None or request.transcribed)

    async def _recall(self, text: str) -> str:
        """What long-term memory holds about this input's viewers and words."""
        long_term = self._scene.long_term
        if long_term is None or self._request.proactive:
            return ""
        search = self._request.search or text
        return await long_term.recall(self._config, self._request.speakers, search)

    async def _transcribe(self, audio: FloatAudio) -> str:
        asr = self._config.asr
        clipped = np.asarray(audio[-int(asr.max_seconds * SAMPLE_RATE) :], dtype=np.float32)
        async with asyncio.timeout(asr.timeout_s):
            return await self._runtime.asr.transcribe(clipped)

    async def prompt(self, text: str) -> list[ChatMessage]:
        request = self._request
        recalled = await self._recall(text)
        if not request.proactive:
            # Written while the LLM starts: the disk is not on the path to first audio.
            self._human_write = asyncio.create_task(self._remember_human(text))
        self._memory.add("user", request.prompt_text(text), request.owners)
        if not request.proactive:
            self._canned = embedded.canned_reply(self._config, request.prompt_text(text))
        messages = self._messages(self._memory.messages(), request.images)
        if recalled:
            # The input only: memory (and the next prompt's prefix) keeps the input as is.
            last = messages[-1]
            if isinstance(last["content"], str):
                last["content"] = f"{recalled}\n{last['content']}"
        return messages

    def _messages(self, memory: list[Memory], images: tuple[str, ...] = ()) -> list[ChatMessage]:
        scene = self._scene
        emotions = self._runtime.model_for(self._config).emotionMap
        messages = build_messages(
            self._config.character,
            emotions,
            memory,
            images,
            scene.max_sentences,
            viewers=scene.viewers,
        )
        return embedded.tune(self._config, messages, emotions, viewers=scene.viewers)

    def reply(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        if self._canned is not None:
            stream = _line(self._canned)
        else:
            stream = self._runtime.llm.stream(messages)
        preface = self._request.preface
        return _prefaced(preface, stream) if preface else stream

    def _unprefaced(self, text: str) -> str:
        """What the character answered, without the question it read out first."""
        preface = self._request.preface
        return text[len(preface) :].strip() if preface and text.startswith(preface) else text

    def replied(self, report: TurnReport) -> None:
        """While the reply plays, the LLM reads the prompt the next turn will start with."""
        text = self._unprefaced(remembered(report))
        if text:
            future = self._messages(self._memory.after("assistant", text))
            background(self._runtime.llm.prepare(future), "reading the next prompt ahead")

    async def record(self, report: TurnReport) -> None:
        if self._human_write is not None:
            await self._human_write  # the human message goes first in history
        if report.cut:  # the streamer cut it: the model only learns that it was
            self._memory.add("assistant", CUT_NOTE)
            await self._append_reply(CUT_HISTORY, interrupted=True)
            return
        memo = self._unprefaced(remembered(report))
        item = self._memory.add("assistant", memo) if memo else None
        text = self._unprefaced(report.said().strip())
        if not text:
            return
        withdraw = None
        long_term = self._scene.long_term
        if long_term is not None and not report.interrupted:
            said = self._request.prompt_text(self._text)
            hold_s = self._config.stage.stream_delay_s if self._scene.viewers else 0.0
            withdraw = long_term.answered(self._config, self._request.speakers, said, text, hold_s)
        message = await self._append_reply(text, interrupted=report.interrupted)
        report.retract = self._retraction(item, message.id, withdraw)

    async def _append_reply(self, text: str, *, interrupted: bool) -> StoredMessage:
        character = self._config.character
        return await self._runtime.history.append(
            self._scene.history_uid,
            "ai",
            text,
            name=character.name,
            avatar=character.avatar or None,
            interrupted=interrupted,
        )

    def _retraction(
        self, item: Memory | None, message_id: int | None, withdraw: Callable[[], bool] | None
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """What takes this reply back if the streamer cuts it while it is still delayed:
        memory and history keep only that it was cut, and long-term memory never hears it."""
        memory, history, uid = self._memory, self._runtime.history, self._scene.history_uid

        async def retract() -> None:
            if item is not None:
                memory.replace(item, CUT_NOTE)
            if withdraw is not None:
                withdraw()
            if message_id is not None:
                await history.retract(uid, message_id, CUT_HISTORY)

        return retract

    async def _remember_human(self, text: str) -> None:
        name = self._request.speaker or self._config.character.human_name
        uid = self._scene.history_uid
        try:
            await self._runtime.history.append(uid, "human", text, name=name)
        except Exception:
            log.exception("could not store the human message in history %s", uid)


WITHHELD_NOTE = "(Part of this reply was withheld by the stream's safety filter: never say it.)"
# A reply the streamer cut, as the model remembers it and as the history shows it.
CUT_NOTE = "(The streamer cut this reply before it went on air: never say it again.)"
CUT_HISTORY = "(cut by the streamer)"


def remembered(report: TurnReport) -> str:
    """The reply as memory keeps it: an interrupted one is marked, so the model knows it was
    cut off, and one the guard withheld a segment of says so, so the model does not try to
    say it again (what was withheld is not in it)."""
    text = report.said().strip()
    if text and report.interrupted:
        text += "..."
    return f"{text} {WITHHELD_NOTE}".strip() if report.withheld else text


async def _line(text: str) -> AsyncIterator[str]:
    """A reply decided without the LLM, streamed like one."""
    yield text


async def _prefaced(preface: str, stream: AsyncIterator[str]) -> AsyncIterator[str]:
    """`preface`, then the stream (closed when this is)."""
    try:
        yield f"{preface} "
        async for chunk in stream:
            yield chunk
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


# Fire-and-forget work, referenced until done (the event loop keeps only weak references).
_background: set[asyncio.Task[None]] = set()


def background(work: Coroutine[Any, Any, None], what: str) -> None:
    """Run `work` without waiting for it; a failure is logged, never raised into a turn."""

    def done(task: asyncio.Task[None]) -> None:
        _background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s failed", what, exc_info=task.exception())

    task = asyncio.create_task(work)
    _background.add(task)
    task.add_done_callback(done)


class CannedLine:
    """A fixed line (a gift thank-you): segmented, voiced, broadcast and acknowledged like
    any reply, with no LLM and nothing remembered."""

    proactive = False

    def __init__(self, text: str) -> None:
        self._text = text

    async def hear(self) -> Heard:
        return Heard(self._text)

    async def prompt(self, text: str) -> list[ChatMessage]:
        return []

    async def reply(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        yield self._text

    def replied(self, report: TurnReport) -> None:
        return None

    async def record(self, report: TurnReport) -> None:
        return None
