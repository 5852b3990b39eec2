"""Where the streamer's words come from: WAV files, typed lines, or the microphone.

WAV files are one utterance each, said in turn: each is streamed as a microphone would
(20 ms frames, at `speed` times real time, after a moment of silence), then silence follows
until the stage has heard the words (its voice activity detector ends the turn on it), and
the next file waits for the reply. Typed lines go the same way as `text-input`. The
microphone simply streams: the stage decides where turns end, and replies come as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .screen import Screen
from .session import Answered, ChatError, Heard, Refused, StageChat
from .sound import FRAME_MS, SILENT_FRAME, Microphone

LEAD_SILENCE_FRAMES = 15  # 0.3 s before each file, as a microphone hears before one speaks
MAX_LINE_BYTES = 64 * 1024  # a longer typed line is an error, not a memory hog
MIC_SILENT_S = 5.0  # a microphone that delivers no frame for this long has stopped


@dataclass(frozen=True)
class Timing:
    speed: float  # times real time
    heard_timeout_s: float  # from the end of a file to the stage's transcript
    reply_timeout_s: float  # from the input to the end of the turn that answers it


async def paced(chat: StageChat, frames: Sequence[bytes], speed: float) -> None:
    """Send `frames` at `speed` times the pace a microphone would."""
    step = FRAME_MS / 1000 / speed
    started = time.monotonic()
    for index, frame in enumerate(frames):
        await chat.speak(frame)
        ahead = started + (index + 1) * step - time.monotonic()
        if ahead > 0:
            await asyncio.sleep(ahead)


async def _silence(chat: StageChat, speed: float) -> None:
    while True:
        await paced(chat, [SILENT_FRAME] * 50, speed)


async def say_files(
    chat: StageChat, screen: Screen, files: Sequence[tuple[Path, list[bytes]]], timing: Timing
) -> int:
    """Say each file and wait for its answer; returns how many went unanswered (words the
    stage says it will not answer, `stage.streamer_addressing: by_name`, owe no answer)."""
    failed = 0
    for path, frames in files:
        screen.progress(f"saying {path.name}…")
        await paced(chat, [SILENT_FRAME] * LEAD_SILENCE_FRAMES + frames, timing.speed)
        screen.progress(f"said {path.name}; listening for the stage's transcript…")
        silence = asyncio.create_task(_silence(chat, timing.speed))
        try:
            heard = await chat.next_outcome(timing.heard_timeout_s, f"transcript of {path}")
        except ChatError as exc:
            if chat.closed:
                raise
            screen.problem(f"{exc} (is it speech? the server's log may say more)")
            failed += 1
            continue
        finally:
            silence.cancel()
            with contextlib.suppress(BaseException):
                await silence
        if isinstance(heard, Refused):
            failed += 1
            continue
        if isinstance(heard, Heard) and heard.unanswered:
            continue  # the streamer talking to their audience: no reply is owed
        failed += not await answered(chat, screen, timing.reply_timeout_s, str(path))
    return failed


async def answered(chat: StageChat, screen: Screen, timeout_s: float, what: str) -> bool:
    """Wait for the end of the turn that answers the input just taken; True if it said
    something. An `error` before that turn began is the stage refusing the input: no turn
    will come. Errors said during the turn (the LLM or a segment's TTS failing) are shown
    but do not end the wait, as the turn still ends."""
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            outcome = await chat.next_outcome(remaining, f"reply to {what}")
            if isinstance(outcome, Answered):
                return bool(outcome.text)
            if isinstance(outcome, Refused) and chat.awaiting > 0:
                chat.forget()
                return False
    except ChatError as exc:
        if chat.closed:
            raise
        screen.problem(str(exc))
        chat.forget()
        return False


async def type_lines(chat: StageChat, screen: Screen, timing: Timing) -> int:
    """Each line of stdin becomes `text-input`; returns how many went unanswered."""
    failed = 0
    echo = not sys.stdin.isatty()  # in a terminal the typed line is already on screen
    if not echo:
        screen.note("Type a line and press Enter to say it (Ctrl-D or Ctrl-C to stop).")
    async for line in stdin_lines():
        text = line.strip()
        if not text:
            continue
        if echo:
            screen.line("you", text)
        await chat.say(text)
        screen.progress("waiting for the stage…")
        failed += not await answered(chat, screen, timing.reply_timeout_s, "the typed line")
    return failed


async def stdin_lines() -> AsyncIterator[str]:
    """Lines of stdin without blocking the loop (a pipe or a terminal); a regular file
    (`< lines.txt`) is read directly, as it never blocks."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except ValueError:  # not a pipe, socket or terminal
        for line in sys.stdin:
            yield line
        return
    while True:
        try:
            raw = await reader.readline()
        except ValueError:
            raise ChatError(f"a typed line longer than {MAX_LINE_BYTES} bytes") from None
        if not raw:
            return
        yield raw.decode("utf-8", "replace")


async def listen(chat: StageChat, screen: Screen, microphone: Microphone) -> int:
    """Stream the microphone to the stage until Ctrl-C or the connection ends."""
    microphone.start()
    screen.note("Listening: speak to the character (Ctrl-C to stop).")
    while not chat.closed:
        try:
            frame = await asyncio.wait_for(microphone.frame(), MIC_SILENT_S)
        except TimeoutError:
            raise ChatError(f"the microphone sent nothing for {MIC_SILENT_S:g} s") from None
        await chat.speak(frame)
    raise ChatError("the connection ended")
