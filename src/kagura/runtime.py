"""Everything loaded once per server: config, engines, history store, model registry.

Sessions and the stage share one Runtime. The port opens as soon as the history is open: the
LLM and TTS load at start-up in the background, with a progress line, and a turn that comes
before they are ready waits for them. Speech recognition and the end-of-turn model load on
first use, since many sessions only type. The embedding model loads after the LLM and TTS,
and memory's vectors are made between turns (`Indexer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ipaddress
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from threadpoolctl import threadpool_limits

from kagura.config import KaguraConfig
from kagura.engines import asr, embed, endpointing, llm, tts
from kagura.engines.errors import EngineError
from kagura.history import HistoryStore
from kagura.live2d import ModelInfo, load_registry
from kagura.memory import Indexer, MemoryStore
from kagura.safety import GuardModel, ListGuard, guard_model
from kagura.safety.audit import AuditLog

log = logging.getLogger(__name__)


def return_freed_memory() -> None:
    """Hand memory that loading freed back to the system (glibc keeps it otherwise).

    Loading a model allocates large temporary buffers in worker threads; glibc keeps the
    freed space in per-thread heaps, where it counts against the server's resident memory
    for good (measured: about 25 MB after loading piper). Elsewhere this does nothing.
    Not repeated after turns: memory given back then is faulted in again by the next
    synthesis, which would slow the first audio down.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def single_threaded_blas() -> None:
    """numpy's BLAS keeps to one thread in this process. Its work here is small (the
    embedding model, memory's index): a second thread gains nothing, and its spinning
    workers, called from several threads at once, cost a recall tens of milliseconds and
    take the core the LLM and TTS need."""
    threadpool_limits(1, user_api="blas")


class Activity:
    """How many turns are running on this server: background work that needs the LLM waits
    until there are none, so it never competes with a reply."""

    def __init__(self) -> None:
        self._turns = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Told when a turn starts (background LLM work on the embedded model stops for it).
        self.on_turn: list[Callable[[], None]] = []

    @property
    def busy(self) -> bool:
        return self._turns > 0

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        self._turns += 1
        self._idle.clear()
        for listener in list(self.on_turn):
            try:
                listener()
            except Exception:  # a listener's bug must not stop the turn
                log.exception("turn listener failed")
        try:
            yield
        finally:
            self._turns -= 1
            if self._turns == 0:
                self._idle.set()

    async def idle(self) -> None:
        """Return once no turn is running."""
        while self._turns:
            await self._idle.wait()


def spoken_names(config: KaguraConfig) -> tuple[str, ...]:
    """What the character is called aloud, for the recogniser to expect: its name and
    `stage.character_aliases` (not conf_name, which labels a preset in a list)."""
    return (config.character.name, *config.stage.character_aliases)


@dataclass
class Runtime:
    config: KaguraConfig
    llm: llm.LLMEngine
    tts: tts.TTSEngine
    asr: asr.ASREngine
    end_of_turn: endpointing.EndOfTurnModel
    history: HistoryStore
    models: dict[str, ModelInfo]
    memory: MemoryStore
    lists: ListGuard  # what the character may never say (`safety`), screened on every segment
    # What the guards kept off the stream and what the streamer did (`data_dir/safety.jsonl`),
    # one log for the stage and every private session.
    audit: AuditLog
    guard_model: GuardModel | None = None  # `safety.guard`, when a provider is set
    # Recall by meaning (`memory.embeddings`): None with provider none or memory disabled.
    embedder: embed.EmbeddingEngine | None = None
    indexer: Indexer | None = field(default=None, init=False)
    activity: Activity = field(default_factory=Activity)
    _loading: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_config(cls, config: KaguraConfig) -> Runtime:
        """Build without loading anything, so construction never blocks or fails slowly."""
        data_dir = config.resolve_path(config.system.data_dir)
        return cls(
            config=config,
            llm=llm.create(config.llm),
            tts=tts.create(config.tts),
            asr=asr.create(config.asr, spoken_names(config)),
            end_of_turn=endpointing.create(config.voice.turn),
            history=HistoryStore(data_dir / "history.sqlite3"),
            models=load_registry(config.resolve_path(config.system.models_dir)),
            memory=MemoryStore(data_dir / "memory.sqlite3"),
            lists=ListGuard(
                config.safety.blocked_words,
                config.safety.blocked_patterns,
                default_lists=config.safety.default_lists,
            ),
            guard_model=guard_model.create(config.safety.guard),
            audit=AuditLog(data_dir / "safety.jsonl", config.safety.audit_log_max_kb * 1024),
            embedder=embed.create(config.memory.embeddings) if config.memory.enabled else None,
        )

    async def start(self) -> None:
        """Open history and memory, start loading the LLM and TTS; returns without waiting."""
        single_threaded_blas()
        await self.history.open()
        self.audit.load()  # the last entries again, for the admin page
        if self.config.memory.enabled:
            await self.memory.open()
            if self.embedder is not None:
                self.indexer = Indexer(self.memory, self.embedder, self.activity.idle)
                self.memory.on_change.append(self.indexer.wake)
        self._loading = asyncio.create_task(self._load_engines())

    async def ready(self) -> None:
        """Wait until start-up loading is over (whether or not every engine loaded)."""
        if self._loading is not None:
            await asyncio.shield(self._loading)

    async def _load_engines(self) -> None:
        """Load the LLM and TTS concurrently, each with its own progress line.

        A failing engine is logged with its actionable message, not fatal: the server still
        serves pages and history, and each turn reports the engine's error to the client.
        """
        settings = self.config
        log.info(
            "loading the LLM (%s) and TTS (%s); speech recognition (%s) loads on first use",
            settings.llm.provider,
            settings.tts.provider,
            settings.asr.provider,
        )
        started = time.perf_counter()
        await asyncio.gather(_load("LLM", self.llm), _load("TTS", self.tts))
        return_freed_memory()
        log.info("engines ready %.1f s after start-up", time.perf_counter() - started)
        if self.indexer is not None:  # after them: a turn needs the LLM and TTS first
            self.indexer.start()

    async def close(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loading
        if self.indexer is not None:
            await self.indexer.close()
        engines = (self.llm, self.tts, self.asr, self.end_of_turn, self.embedder)
        for engine in [engine for engine in engines if engine is not None]:
            try:
                await engine.aclose()
            except Exception:  # closing must go on for the others
                log.exception("closing an engine failed")
        if self.guard_model is not None:
            await self.guard_model.aclose()
        await self.history.close()
        await self.memory.close()
        self.audit.close()

    @property
    def guard_status(self) -> str:
        """The guard model's state for the admin page: "off", "ok", or what fails."""
        return "off" if self.guard_model is None else self.guard_model.status.text

    @property
    def llm_runs_locally(self) -> bool:
        """Whether the LLM shares this machine's CPU with the replies (the embedded model)."""
        return self.config.llm.provider == "smollm2"

    @property
    def llm_is_the_streamers(self) -> bool:
        """Whether the LLM is one the streamer runs: embedded, or a server on this machine or
        the home network (Ollama, LM Studio, llama.cpp on one GPU). Such a server answers one
        request at a time, so background work on it would hold up the next reply; a hosted
        API answers both at once."""
        if self.llm_runs_locally:
            return True
        host = (urlsplit(self.config.llm.openai.base_url).hostname or "").lower()
        if host == "localhost" or host.endswith((".localhost", ".local", ".lan", ".home.arpa")):
            return True
        try:
            return ipaddress.ip_address(host).is_private  # loopback and the home network
        except ValueError:
            return False

    def model_for(self, config: KaguraConfig) -> ModelInfo:
        """The character's model; an unknown name falls back to the first registered one."""
        name = config.character.live2d_model
        model = self.models.get(name)
        if model is None:
            fallback = next(iter(self.models.values()))
            log.warning("unknown live2d_model %r; using %r", name, fallback.name)
            return fallback
        return model


async def _load(name: str, engine: llm.LLMEngine | tts.TTSEngine) -> None:
    started = time.perf_counter()
    try:
        await engine.load()
    except EngineError as exc:
        log.error("%s engine not ready: %s", name, exc)
    except Exception as exc:
        log.error("%s engine failed to load: %r", name, exc)
    else:
        log.info("%s ready in %.1f s", name, time.perf_counter() - started)
