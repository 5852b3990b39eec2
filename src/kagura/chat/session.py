"""The chat's connection to the stage: the streamer's words in, every turn's reply out.

The chat connects to `/proxy-ws` as the admin, so what it says is the streamer's: binary
PCM frames are the streamer's voice (the server's VAD ends each turn and transcribes it),
`text-input` lines the streamer's typing; both go to the stage's top lane. The stage then
answers as it answers everything, broadcasting the reply to every page and overlay and
relaying it to the widget channel: publishing the reply is the stage's job, not the chat's.

What the stage sends back is read here: its transcript of the streamer's words, each turn's
segments (shown, played, written to a file), and the end of each turn. The turn that
answers the streamer is the first to start after the words were taken (their lane comes
first); announcements of other people's inputs come right after their turn starts and name
their author. Playback is acknowledged only after the reply has been played here; without
a player the pages (or the server's playback timeout) end the turn.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import wave
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from kagura.audio import Speech, decode_wav
from kagura.conversation.text import strip_tags
from kagura.link import Refusal, refusal_of, why_it_ended

from .screen import Screen
from .sound import Player, ReplyFiles, join_reply

log = logging.getLogger(__name__)

MAX_SEGMENTS = 200  # segments of one reply kept for playing and writing; more are shown only
OUTCOME_QUEUE = 32  # outcomes nobody waits for (microphone mode) keep only the newest
YOU = "you"
CLOSE_TIMEOUT_S = 5.0


class ChatError(Exception):
    """The conversation cannot go on; the text names the URL and what to do."""


def refused(shown_url: str, refusal: Refusal) -> str:
    """The server refused the chat: why, and which token it wants."""
    return (
        f"{shown_url} refused the chat: {refusal.explained()}; pass the admin token with "
        "--token (`kagura tokens` prints it) or set KAGURA_AUTH_TOKEN"
    )


@dataclass(frozen=True)
class Heard:
    """The stage's transcript of the streamer's words; `unanswered`: why no reply will
    come (they did not name the character), "" when one will."""

    text: str
    unanswered: str = ""


@dataclass(frozen=True)
class Refused:
    """The server answered the streamer's input with an `error`."""

    message: str


@dataclass(frozen=True)
class Answered:
    """The turn that answered the streamer has ended."""

    text: str
    interrupted: bool


Outcome = Heard | Refused | Answered


@dataclass
class _Turn:
    mine: bool
    speaker: str = ""
    texts: list[str] = field(default_factory=list)
    speech: list[Speech] = field(default_factory=list)
    announcing: bool = True  # until its first segment: announcements of its inputs come now
    interrupted: bool = False
    playback: asyncio.Task[None] | None = None
    finished: asyncio.Task[None] | None = None

    @property
    def text(self) -> str:
        return strip_tags("".join(self.texts))


class StageChat:
    def __init__(
        self,
        ws: ClientConnection,
        screen: Screen,
        *,
        shown_url: str,
        player: Player | None,
        files: ReplyFiles | None,
    ) -> None:
        self.ws = ws
        self.screen = screen
        self.shown_url = shown_url
        self.player = player
        self.files = files
        self.character = "AI"
        self.awaiting = 0  # the streamer's inputs taken and not yet answered
        self._turn: _Turn | None = None
        self._outcomes: asyncio.Queue[Outcome] = asyncio.Queue(OUTCOME_QUEUE)
        self._closed = asyncio.Event()
        self._greeted = asyncio.Event()  # the stage's connect sequence came: it accepted us
        self._close_problem = ""
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what the streamer says ----------------------------------------------------------

    async def say(self, text: str) -> None:
        """A typed line: the streamer's text, answered in the stage's top lane."""
        await self._send(json.dumps({"type": "text-input", "text": text}))
        self.awaiting += 1

    async def speak(self, frame: bytes) -> None:
        """A frame of the streamer's voice (16-bit mono PCM at 16 kHz)."""
        await self._send(frame)

    async def _send(self, frame: str | bytes) -> None:
        try:
            async with self._send_lock:
                await self.ws.send(frame)
        except ConnectionClosed:
            raise self.lost() from None

    # -- what comes back ------------------------------------------------------------------

    async def accepted(self, timeout_s: float) -> None:
        """Wait for the stage's greeting; `ChatError` (the reason named) if it refuses us."""
        waits = [asyncio.ensure_future(e.wait()) for e in (self._greeted, self._closed)]
        try:
            await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        if self._closed.is_set():
            raise self.lost()
        if not self._greeted.is_set():
            raise ChatError(f"{self.shown_url} did not greet the chat within {timeout_s:g} s")

    async def next_outcome(self, timeout_s: float, waiting_for: str) -> Outcome:
        """The next outcome, or `ChatError` if the connection ends or `timeout_s` passes."""
        getting = asyncio.ensure_future(self._outcomes.get())
        closing = asyncio.ensure_future(self._closed.wait())
        try:
            done, _ = await asyncio.wait(
                [getting, closing], timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closing.cancel()
            if not getting.done():
                getting.cancel()
        if getting in done:
            return getting.result()
        if closing in done:
            raise self.lost()
        raise ChatError(f"no {waiting_for} from {self.shown_url} within {timeout_s:g} s")

    async def run(self) -> None:
        """Read the stage until the connection ends (then `closed` is set)."""
        try:
            async for frame in self.ws:
                if isinstance(frame, bytes):
                    continue  # the stage sends JSON only
                try:
                    message = json.loads(frame)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    self._handle(message)
        except ConnectionClosed:
            pass
        finally:
            refusal = refusal_of(self.ws)
            if refusal is not None:
                self._close_problem = refused(self.shown_url, refusal)
            else:
                self._close_problem = (
                    f"the connection to {self.shown_url} ended: {why_it_ended(self.ws)}; "
                    "is the server still running?"
                )
            self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def forget(self) -> None:
        """The stage refused the last input: no turn will answer it."""
        self.awaiting = max(0, self.awaiting - 1)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        """Stop playing and whatever is still pending."""
        if self.player is not None:
            self.player.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_TIMEOUT_S)

    def lost(self) -> ChatError:
        """Why the conversation cannot go on, once the connection has ended."""
        return ChatError(self._close_problem or f"the connection to {self.shown_url} ended")

    def _outcome(self, outcome: Outcome) -> None:
        if self._outcomes.full():
            self._outcomes.get_nowait()
        self._outcomes.put_nowait(outcome)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        turn = self._turn
        match kind:
            case "set-model-and-conf":
                self.character = str(message.get("conf_name") or self.character)
                self._greeted.set()
            case "user-input-transcription":
                self._transcription(message)
            case "control" if message.get("text") == "conversation-chain-start":
                mine = self.awaiting > 0
                self.awaiting -= mine
                self._turn = _Turn(mine=mine, speaker=self.character)
                self.screen.progress(f"{self.character} is thinking…")
            case "audio" if turn is not None:
                self._segment(turn, message)
            case "backend-synth-complete" if turn is not None:
                turn.announcing = False
                turn.finished = self._spawn(self._finish(turn))
            case "interrupt-signal" | "control" if turn is not None and (
                kind == "interrupt-signal" or message.get("text") == "interrupt"
            ):
                turn.interrupted = True
                if self.player is not None:
                    self.player.stop()
            case "control" if message.get("text") == "conversation-chain-end":
                self._turn = None
                if turn is not None:
                    self._spawn(self._ended(turn))
            case "error":
                text = str(message.get("message", ""))
                self.screen.problem(f"the server says: {text}")
                self._outcome(Refused(text))

    def _transcription(self, message: dict[str, Any]) -> None:
        text = str(message.get("text", ""))
        turn = self._turn
        others = message.get("name") or message.get("platform")
        if others or (turn is not None and turn.announcing and not turn.mine):
            self.screen.line(str(message.get("name") or "chat"), text)  # someone else's input
            return
        self.screen.line(YOU, text)
        unanswered = str(message.get("unanswered") or "")
        if unanswered:
            self.screen.note(f"not answered: {unanswered}")
        else:
            self.awaiting += 1
        self._outcome(Heard(text, unanswered))

    def _segment(self, turn: _Turn, message: dict[str, Any]) -> None:
        turn.announcing = False
        shown = message.get("display_text")
        if isinstance(shown, dict):
            turn.texts.append(str(shown.get("text", "")))
            turn.speaker = str(shown.get("name") or turn.speaker)
        payload = message.get("audio")
        if not isinstance(payload, str) or len(turn.speech) >= MAX_SEGMENTS:
            return
        try:
            speech = decode_wav(base64.b64decode(payload, validate=True))
        except (binascii.Error, ValueError, EOFError, wave.Error) as exc:
            log.warning("a reply segment's audio is unreadable: %s", exc)
            return
        turn.speech.append(speech)
        if self.player is not None and not turn.interrupted:
            turn.playback = self._spawn(self._play_after(turn.playback, speech, turn))

    async def _play_after(
        self, before: asyncio.Task[None] | None, speech: Speech, turn: _Turn
    ) -> None:
        """Segments play in order, each after the one before it."""
        if before is not None:
            await before
        if self.player is not None and not turn.interrupted:
            self.screen.progress(f"{turn.speaker} is speaking…")
            try:
                await self.player.play(speech)
            except Exception as exc:  # PortAudio's errors: the device went away, or is busy
                turn.interrupted = True  # the rest of this reply is not played either
                self.screen.problem(f"cannot play the reply: {exc}")

    async def _finish(self, turn: _Turn) -> None:
        """The reply is complete: show it, write it, play it out, then tell the stage."""
        self.screen.idle()
        text = turn.text
        if text:
            self.screen.line(turn.speaker, text)
        if self.files is not None and turn.speech:
            try:
                path = self.files.write(join_reply(turn.speech))
            except OSError as exc:
                self.screen.problem(f"cannot write the reply to {self.files.folder}: {exc}")
            else:
                self.screen.note(f"(reply written to {path})")
        if self.player is not None:
            if turn.playback is not None:
                with contextlib.suppress(Exception):
                    await turn.playback
            self.screen.idle()
            with contextlib.suppress(ChatError):
                await self._send(json.dumps({"type": "frontend-playback-complete"}))

    async def _ended(self, turn: _Turn) -> None:
        if turn.finished is not None:
            with contextlib.suppress(Exception):
                await turn.finished
        self.screen.idle()
        if turn.mine:
            self._outcome(Answered(turn.text, turn.interrupted))
