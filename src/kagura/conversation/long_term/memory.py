"""A conversation's long-term memory: recall before a turn, writing after it.

Recall is one indexed query (milliseconds) before the prompt is built. Writing never holds up
a turn: profile counters are batched and written by a background worker, and the jobs that
need the LLM (facts from a turn, a summary of trimmed memory) wait in a bounded queue until
no turn is running on the server. With the embedded model, a turn that starts meanwhile
cancels the job at once (it is retried once later): the reply gets the CPU.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kagura.config import KaguraConfig
from kagura.engines.llm import ChatMessage
from kagura.memory import SHARED, Kind, Meaning, Sighting, Speaker, ViewerKey
from kagura.memory.vectors import Vector

from ..memory import Memory, without
from .extraction import Facts, Summary, facts_request, parse, summary_request
from .recall import recall_text

if TYPE_CHECKING:
    from kagura.runtime import Runtime

log = logging.getLogger(__name__)

RECALL_TIMEOUT_S = 0.25  # a slow disk must not hold up a turn: recall is then skipped
# The embedded model takes about a millisecond a message; this much means a busy machine.
LOCAL_EMBED_TIMEOUT_S = 0.1
MAX_PREPARED = 64  # messages waiting with their embedding made ahead (the oldest go first)
MAX_PENDING_SIGHTINGS = 2_000  # counters waiting for the worker; a flood beyond is not counted
MAX_ANSWER_CHARS = 8_000  # an extraction answer longer than this is cut (and will not parse)
CLOSE_TIMEOUT_S = 5.0
# Turns that may interrupt one memory job before it is given up (each retry starts it over).
MAX_PREEMPTIONS = 8
# The stream's summary, asked for as the server stops: longer waits hold up the exit.
CLOSE_SUMMARY_TIMEOUT_S = 30.0


def _by_meaning(config: KaguraConfig) -> bool:
    memory = config.memory
    return memory.enabled and memory.embeddings.provider != "none" and memory.recall_facts > 0


def _embed_timeout_s(config: KaguraConfig) -> float:
    settings = config.memory.embeddings
    if settings.provider == "openai":
        return settings.openai.timeout_ms / 1000
    return LOCAL_EMBED_TIMEOUT_S


def scope_of(config: KaguraConfig) -> str:
    """Whose memory: the character's own, unless the streamer shares one among all."""
    return SHARED if config.memory.shared_across_characters else config.character.conf_uid


@dataclass(eq=False)  # a job is itself: `withdraw` removes this one, not its twin
class _Job:
    config: KaguraConfig
    speakers: tuple[Speaker, ...] = ()
    said: str = ""
    reply: str = ""
    dropped: tuple[Memory, ...] = ()  # set: a summary of trimmed memory
    tries: int = field(default=0)
    # Not run before this (`time.monotonic()`): a reply still inside the stream delay may
    # yet be cut, and then must leave nothing behind.
    not_before: float = 0.0


class LongTermMemory:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._sightings: list[tuple[KaguraConfig, Sighting]] = []
        self._jobs: deque[_Job] = deque()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._job: asyncio.Task[None] | None = None
        self.dropped_jobs = 0
        self.dropped_sightings = 0
        self.evicted_viewers = 0  # by the retention limits, since the start
        self.evicted_strangers = 0  # of which seen once, with no facts or payments
        # Viewers with facts or payments seen since then are not evicted for newcomers.
        self.started = time.time()
        runtime.activity.on_turn.append(self._turn_started)
        # Embeddings of messages waiting in the queue, made while they wait (`prepare`).
        self._prepared: dict[str, asyncio.Task[Vector | None]] = {}

    # -- recall -------------------------------------------------------------------------

    async def recall(self, config: KaguraConfig, speakers: Sequence[Speaker], text: str) -> str:
        """The recall block for a turn's prompt ("" when there is nothing, or no time)."""
        settings = config.memory
        if not settings.enabled or settings.recall_budget_tokens == 0:
            return ""
        keys = [speaker.key for speaker in speakers]
        meaning = await self._meaning(config, text)
        try:
            async with asyncio.timeout(RECALL_TIMEOUT_S):
                found = await self._runtime.memory.recall(
                    scope_of(config), keys, text, settings.recall_facts, meaning
                )
        except Exception as exc:
            log.warning("memory: recall skipped for this turn (%s)", exc or type(exc).__name__)
            return ""
        return recall_text(found, settings.recall_budget_tokens)

    def prepare(self, config: KaguraConfig, text: str) -> None:
        """A message is waiting to be answered: its embedding is made meanwhile, so the turn
        that answers it does not wait for it (on a busy stream, most turns)."""
        indexer = self._runtime.indexer
        if indexer is None or not _by_meaning(config) or not text.strip():
            return
        if text in self._prepared:
            return
        if len(self._prepared) >= MAX_PREPARED:
            self._prepared.pop(next(iter(self._prepared))).cancel()
        self._prepared[text] = asyncio.create_task(
            indexer.meaning_of(text, _embed_timeout_s(config))
        )

    async def _meaning(self, config: KaguraConfig, text: str) -> Meaning | None:
        """The message's embedding, when recall by meaning is on and answers in time."""
        indexer = self._runtime.indexer
        prepared = self._prepared.pop(text, None)
        if indexer is None or not _by_meaning(config):
            return None
        if prepared is None:
            vector = await indexer.meaning_of(text, _embed_timeout_s(config))
        else:
            try:
                vector = await prepared
            except asyncio.CancelledError:
                if _cancelling():
                    raise
                vector = None
        settings = config.memory.embeddings
        return None if vector is None else Meaning(vector, settings.min_similarity)

    def stats(self) -> dict[str, int | str]:
        """What memory's writer dropped or evicted since the start (the stage's stats), and
        the state of recall by meaning."""
        indexer = self._runtime.indexer
        return {
            "dropped_sightings": self.dropped_sightings,
            "dropped_jobs": self.dropped_jobs,
            "evicted_viewers": self.evicted_viewers,
            "evicted_strangers": self.evicted_strangers,
            "embeddings": indexer.status if indexer is not None else "off",
            "vectors": int(self._runtime.memory.index_stats()["vectors"]),
        }

    # -- writing ------------------------------------------------------------------------

    def sighted(self, config: KaguraConfig, sighting: Sighting) -> None:
        """Count a chat event into its sender's profile (soon, in the background)."""
        if self._writes(config) == "off":
            return
        if len(self._sightings) >= MAX_PENDING_SIGHTINGS:
            self.dropped_sightings += 1
            return
        self._sightings.append((config, sighting))
        self._start()

    def answered(
        self,
        config: KaguraConfig,
        speakers: Sequence[Speaker],
        said: str,
        reply: str,
        hold_s: float = 0.0,
    ) -> Callable[[], bool] | None:
        """A turn is over: ask the LLM, when idle and not before `hold_s` from now, what is
        worth remembering of it. Returns what withdraws the job while it waits (True if it
        was still waiting), or None when there is no job."""
        if self._writes(config) != "llm" or not speakers or not reply.strip():
            return None
        job = _Job(config, tuple(speakers), said, reply, not_before=time.monotonic() + hold_s)
        self._queue(job)

        def withdraw() -> bool:
            if job in self._jobs:
                self._jobs.remove(job)
                return True
            return False

        return withdraw

    def trimmed(self, config: KaguraConfig, dropped: Sequence[Memory]) -> None:
        """Conversation memory dropped its oldest part: summarise it instead of forgetting."""
        if self._writes(config) == "llm" and dropped:
            self._queue(_Job(config, dropped=tuple(dropped)))

    async def forget(self, config: KaguraConfig, key: ViewerKey) -> int:
        """Delete everything about a viewer, including what is still waiting to be written."""
        self._sightings = [(c, sight) for c, sight in self._sightings if sight.key != key]
        self._jobs = deque(
            _without(job, key)
            for job in self._jobs
            if all(speaker.key != key for speaker in job.speakers)
        )
        if not config.memory.enabled:
            return 0
        return await self._runtime.memory.forget(scope_of(config), key)

    def detach(self) -> asyncio.Task[None] | None:
        """Stop the worker (queued LLM jobs are dropped); returns it, to await if wanted."""
        if self._turn_started in self._runtime.activity.on_turn:
            self._runtime.activity.on_turn.remove(self._turn_started)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
        return worker

    async def close(self, config: KaguraConfig | None = None, rest: Sequence[Memory] = ()) -> None:
        """Stop, and write the counters still waiting; with `rest` (what the conversation
        still holds, not yet summarised, as the server stops) the stream ends with a summary
        like every trimmed part does. Bounded: the exit waits at most
        `CLOSE_SUMMARY_TIMEOUT_S` for it."""
        worker = self.detach()
        if worker is not None:
            await asyncio.wait([worker], timeout=CLOSE_TIMEOUT_S)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._flush()
        except Exception as exc:
            log.warning("memory: profile counters not written at close (%r)", exc)
        if config is not None and rest and self._writes(config) == "llm":
            await self._summarise_at_close(config, rest)

    async def _summarise_at_close(self, config: KaguraConfig, rest: Sequence[Memory]) -> None:
        seconds = min(config.memory.extract_timeout_s, CLOSE_SUMMARY_TIMEOUT_S)
        log.info("memory: summarising this stream before exit (up to %.0f s)", seconds)
        try:
            async with asyncio.timeout(seconds):
                await self._run(_Job(config, dropped=tuple(rest)))
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("memory: this stream's summary was not written (%s)", reason)

    def _writes(self, config: KaguraConfig) -> str:
        return config.memory.writes(config.llm.provider)

    def _queue(self, job: _Job) -> None:
        if len(self._jobs) >= job.config.memory.extract_queue:
            self._jobs.popleft()
            self.dropped_jobs += 1
            log.info("memory: the job queue is full; dropped the oldest job")
        self._jobs.append(job)
        self._start()

    def _start(self) -> None:
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()
            while self._jobs:
                await self._runtime.activity.idle()
                await self._flush()  # the profiles the job's facts attach to
                if not self._jobs:
                    break
                wait_s = self._jobs[0].not_before - time.monotonic()
                if wait_s > 0:  # bounded by the stream delay (at most a minute)
                    await asyncio.sleep(wait_s)
                    continue
                job = self._jobs.popleft()
                self._job = asyncio.create_task(self._run(job))
                try:
                    await self._job
                except asyncio.CancelledError:
                    if self._job.cancelled() and not _cancelling():
                        self._retry(job)  # a turn took the LLM back
                        continue
                    raise
                except Exception:
                    log.exception("memory: a background job failed")
                finally:
                    self._job = None

    def _retry(self, job: _Job) -> None:
        """A job a turn interrupted goes first again, when the stage is next idle; one that
        never gets to finish (a chat too busy to ever pause) is given up after a while."""
        job.tries += 1
        if job.tries <= MAX_PREEMPTIONS:
            self._jobs.appendleft(job)
        else:
            self.dropped_jobs += 1
            log.info("memory: a job was interrupted by %d turns; dropped it", MAX_PREEMPTIONS)

    def _turn_started(self) -> None:
        job = self._job
        # A server the streamer runs answers one request at a time: the reply goes first.
        if job is not None and not job.done() and self._runtime.llm_is_the_streamers:
            job.cancel()

    async def _flush(self) -> None:
        pending, self._sightings = self._sightings, []
        by_scope: dict[str, tuple[KaguraConfig, list[Sighting]]] = {}
        for config, sighting in pending:
            by_scope.setdefault(scope_of(config), (config, []))[1].append(sighting)
        for scope, (config, sightings) in by_scope.items():
            try:
                await self._runtime.memory.seen(scope, sightings)
                await self._prune(config)
            except Exception:
                log.exception("memory: could not write %d profile counters", len(sightings))

    async def _prune(self, config: KaguraConfig) -> None:
        settings = config.memory
        pruned = await self._runtime.memory.prune(
            scope_of(config),
            max_notes=settings.max_facts,
            max_viewers=settings.max_viewers,
            max_age_days=settings.max_age_days,
            protect_since=self.started,
        )
        self.evicted_viewers += pruned.viewers
        self.evicted_strangers += pruned.strangers
        if pruned.removed:
            log.info(
                "memory: retention limits removed %d note(s), %d viewer(s) (%d stranger(s))",
                pruned.notes,
                pruned.viewers,
                pruned.strangers,
            )
        if pruned.over_cap:
            log.warning(
                "memory: %d viewer(s) with facts or payments over memory.max_viewers kept;"
                " raise the limit",
                pruned.over_cap,
            )

    async def _run(self, job: _Job) -> None:
        settings = job.config.memory
        name = job.config.character.name
        notes: list[tuple[Kind, str, ViewerKey | None, str]] = []
        async with asyncio.timeout(settings.extract_timeout_s):
            if job.dropped:
                request = summary_request(name, job.dropped)
                summary = parse(await self._ask(request), Summary, "summary")
                if summary is not None:
                    notes.append(("summary", summary.summary, None, ""))
            else:
                names = [speaker.name for speaker in job.speakers]
                request = facts_request(name, names, job.said, job.reply)
                facts = parse(await self._ask(request), Facts, "facts")
                for fact in facts.facts if facts is not None else []:
                    number = fact.viewer
                    if number is not None and not 1 <= number <= len(job.speakers):
                        continue  # about nobody in the turn: not kept
                    about = job.speakers[number - 1].key if number is not None else None
                    notes.append(("fact", fact.text, about, job.said[:500]))
        if not notes:
            return
        added = await self._runtime.memory.add(scope_of(job.config), notes)
        await self._prune(job.config)
        log.info("memory: kept %d new note(s)", added)

    async def _ask(self, request: list[ChatMessage]) -> str:
        chunks: list[str] = []
        size = 0
        stream = self._runtime.llm.stream(request)
        try:
            async for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_ANSWER_CHARS:
                    break
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        return "".join(chunks)


def _without(job: _Job, key: ViewerKey) -> _Job:
    """A waiting summary job without the lines `key` wrote (by identity)."""
    if job.dropped:
        job.dropped = tuple(without(item, key) for item in job.dropped)
    return job


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
