"""Replies through a real `kagura serve` to a stage page, and what of them reached the page.

One server on loopback with the scripted fake LLM and TTS and the default `safety` config;
a page (`/proxy-ws`, role=page) that acknowledges playback as a browser would; an admin who
asks for each reply in turn (one turn per reply: `batch_max: 1`, and `reply_max_sentences: 0`
so no reply is cut short by its length). The fake LLM answers "reply N" with case N, streamed
all at once; the page's frames are kept turn by turn.

What the server withheld is counted from its log ("safety: withheld a segment", one line per
segment, written before the turn ends). What reached the page is checked two ways, on every
string of every frame (audio data aside) and on the turn's spoken text joined (a word split
across segments would pass each segment's check): Kagura's own `ListGuard`, and for an
adversarial reply the independent fold of `safety_cases` counting its entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from kagura.safety import ListGuard
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from safety_cases import Case, occurrences

from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_END, StageClient

PROMPT = re.compile(r"reply (\d+)")
WITHHELD_LINE = "safety: withheld a segment"
TURN_TIMEOUT_S = 30.0
TURNS_QUEUED = 4  # turns the page has read and the harness has not looked at yet
TTS_SECONDS_PER_CHAR = 0.002  # fake speech: short, since only what is said is measured


@dataclass
class Outcome:
    """One reply's turn as the page saw it."""

    case: Case
    spoken: list[str]  # the `display_text` of each audio frame
    withheld: int  # segments the server logged as withheld during the turn
    leaks: list[str] = field(default_factory=list)  # how blocked content reached the page

    @property
    def spoken_text(self) -> str:
        return "".join(self.spoken)

    @property
    def complete(self) -> bool:
        """The page got the whole reply (whitespace aside)."""
        return _squeezed(self.spoken_text) == _squeezed(self.case.text)

    @property
    def partial_sentence(self) -> bool:
        """An adversarial reply of which the page got part of the hidden word's sentence (a
        clause before the word, its own segment): allowed, counted to be seen."""
        return self.case.entry is not None and len(_squeezed(self.spoken_text)) > len(
            _squeezed(self.case.before)
        )


def _squeezed(text: str) -> str:
    return "".join(text.split())


def engines(fake: FakeOpenAI) -> dict[str, Any]:
    """The server's config: the default `safety` section, untouched."""
    return {
        "llm": {"provider": "openai", "openai": {"base_url": fake.base_url}},
        "tts": {"provider": "openai", "openai": {"base_url": fake.base_url}},
        "asr": {"provider": "openai", "openai": {"base_url": fake.base_url}},
        "memory": {"enabled": False},
        "stage": {"stats_log_interval_s": 0, "batch_max": 1, "reply_max_sentences": 0},
        "system": {"log_level": "warning"},
    }


def strings(frame: Any) -> Iterator[str]:
    """Every string in a frame, the audio data aside."""
    if isinstance(frame, str):
        yield frame
    elif isinstance(frame, dict):
        for key, value in frame.items():
            if key != "audio":
                yield from strings(value)
    elif isinstance(frame, list):
        for value in frame:
            yield from strings(value)


def leaks(case: Case, frames: list[dict[str, Any]], spoken: str, lists: ListGuard) -> list[str]:
    """How blocked content reached the page in this turn, if it did (empty: it did not)."""
    found = []
    for text in [spoken, *(s for f in frames for s in strings(f))]:
        match = lists.check(text)
        if match is not None:
            found.append(f"lists: {match.rule} {match.found!r} in {text!r}")
    if case.entry is not None:
        if occurrences(case.entry, spoken) > occurrences(case.entry, case.before):
            found.append(f"independent: {case.entry!r} in the spoken text {spoken!r}")
        for frame in frames:
            if frame["type"] == "audio":
                continue
            for text in strings(frame):
                if occurrences(case.entry, text):
                    found.append(f"independent: {case.entry!r} in a {frame['type']} frame")
    return found


class LogCounter:
    """Counts the withheld-segment lines the server has logged since the last look."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = path.stat().st_size if path.exists() else 0

    def new(self) -> int:
        with self._path.open("rb") as log:
            log.seek(self._offset)
            text = log.read()
            self._offset += len(text)
        # Rich may wrap a long line: the words are counted whatever the spacing.
        return " ".join(text.decode("utf-8", "replace").split()).count(WITHHELD_LINE)


async def page_turns(client: StageClient, turns: asyncio.Queue[list[dict[str, Any]]]) -> None:
    """Read the page: acknowledge playback, hand over each turn's frames at its end."""
    frames: list[dict[str, Any]] = []
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            frame: dict[str, Any] = json.loads(await client.ws.recv())
            frames.append(frame)
            if frame["type"] == "backend-synth-complete":
                await client.send({"type": "frontend-playback-complete"})
            elif frame == CHAIN_END:
                await turns.put(frames)
                frames = []


async def drain(client: StageClient) -> None:
    """Read the admin's frames and forget them (an admin that never reads would be cut off)."""
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await client.ws.recv()


@contextlib.asynccontextmanager
async def stage(workdir: Path) -> AsyncIterator[Callable[[list[Case]], AsyncIterator[Outcome]]]:
    """A server, its page and an admin; yields `run(cases)`, which plays the cases in order."""
    cases: list[Case] = []

    def reply(body: dict[str, Any]) -> str:
        asked = PROMPT.search(str(body["messages"][-1]["content"]))
        if asked is None:
            raise ValueError(f"the fake LLM was asked something else: {body['messages'][-1]}")
        return cases[int(asked[1])].text

    lists = ListGuard()
    with FakeOpenAI() as fake:
        fake.script = LLMScript(reply=reply, ttft_s=0, tokens_per_s=0)
        fake.tts_script = TTSScript(latency_s=0, seconds_per_char=TTS_SECONDS_PER_CHAR)
        with KaguraProcess(workdir, engines(fake)) as server:
            async with StageClient(server, "page") as page, StageClient(server) as admin:
                await page.connect_sequence()
                await admin.connect_sequence()
                turns: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue(TURNS_QUEUED)
                tasks = [
                    asyncio.create_task(page_turns(page, turns)),
                    asyncio.create_task(drain(admin)),
                ]
                counter = LogCounter(server.log_path)

                async def run(batch: list[Case]) -> AsyncIterator[Outcome]:
                    for case in batch:
                        cases.append(case)
                        await admin.send({"type": "text-input", "text": f"reply {len(cases) - 1}"})
                        try:
                            frames = await asyncio.wait_for(turns.get(), TURN_TIMEOUT_S)
                        except TimeoutError:
                            raise TimeoutError(
                                f"no end of turn for {case.text!r} in {TURN_TIMEOUT_S:g} s:\n"
                                + server.log()
                            ) from None
                        spoken = [f["display_text"]["text"] for f in frames if f["type"] == "audio"]
                        outcome = Outcome(case, spoken, counter.new())
                        outcome.leaks = leaks(case, frames, outcome.spoken_text, lists)
                        yield outcome

                try:
                    yield run
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)


async def play(
    workdir: Path, batches: dict[str, list[Case]]
) -> tuple[dict[str, list[Outcome]], float]:
    """Each batch of cases through one server, in order; and the wall time of it all."""
    started = time.monotonic()
    results: dict[str, list[Outcome]] = {}
    async with stage(workdir) as run:
        for name, batch in batches.items():
            results[name] = [outcome async for outcome in run(batch)]
    return results, time.monotonic() - started
