"""Everything loaded once per server: config, engines, history store, model registry.

Sessions and the stage share one Runtime; models load at start-up with a log line, never per
request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from kagura.config import KaguraConfig
from kagura.engines import asr, llm, tts
from kagura.engines.errors import EngineError
from kagura.history import HistoryStore
from kagura.live2d import ModelInfo, load_registry

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: KaguraConfig
    llm: llm.LLMEngine
    tts: tts.TTSEngine
    asr: asr.ASREngine
    history: HistoryStore
    models: dict[str, ModelInfo]

    @classmethod
    def from_config(cls, config: KaguraConfig) -> Runtime:
        """Build without loading anything, so construction never blocks or fails slowly."""
        data_dir = config.resolve_path(config.system.data_dir)
        return cls(
            config=config,
            llm=llm.create(config.llm),
            tts=tts.create(config.tts),
            asr=asr.create(config.asr),
            history=HistoryStore(data_dir / "history.sqlite3"),
            models=load_registry(config.resolve_path(config.system.models_dir)),
        )

    async def start(self) -> None:
        """Open the history and load the engines concurrently.

        A failing engine is logged with its actionable message, not fatal: the server still
        serves pages and history, and each turn reports the engine's error to the client.
        """
        await self.history.open()
        names = ("LLM", "TTS", "ASR")
        results = await asyncio.gather(
            self.llm.load(), self.tts.load(), self.asr.load(), return_exceptions=True
        )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, EngineError):
                log.error("%s engine not ready: %s", name, result)
            elif isinstance(result, BaseException):
                log.error("%s engine failed to load: %r", name, result)

    async def close(self) -> None:
        for engine in (self.llm, self.tts, self.asr):
            try:
                await engine.aclose()
            except Exception:  # closing must go on for the others
                log.exception("closing an engine failed")
        await self.history.close()

    def model_for(self, config: KaguraConfig) -> ModelInfo:
        """The character's model; an unknown name falls back to the first registered one."""
        name = config.character.live2d_model
        model = self.models.get(name)
        if model is None:
            fallback = next(iter(self.models.values()))
            log.warning("unknown live2d_model %r; using %r", name, fallback.name)
            return fallback
        return model
