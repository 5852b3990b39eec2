"""A voice per language: each part of a reply is spoken by the voice set for its language.

A Chinese streamer's character may speak Chinese with a cloned GPT-SoVITS voice and the
English it slips in with piper: `tts.voices` names a voice per language, laid over the main
`tts` settings. A segment is split where its language changes (`languages`), each run goes to
its voice, and the pieces come out in order as one stream, so the turn plays them back to
back like any voice that streams. Expressions and lip sync see one segment, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

from kagura.audio import Speech, concatenate

from .base import TTSEngine, speak
from .languages import LanguageSplitter


class VoicesByLanguage:
    def __init__(self, main: TTSEngine, language: str, voices: Mapping[str, TTSEngine]) -> None:
        self._main = main
        self._voices = dict(voices)
        self._engines = [main, *self._voices.values()]
        # The cores are shared with the LLM if any of the voices runs here.
        self.runs_locally = any(engine.runs_locally for engine in self._engines)
        self._splitter = LanguageSplitter(language, set(self._voices))

    def voice_for(self, language: str) -> TTSEngine:
        return self._voices.get(language, self._main)

    async def load(self) -> None:
        for engine in self._engines:
            await engine.load()
        await asyncio.to_thread(self._splitter.load)

    async def stream(self, text: str) -> AsyncIterator[Speech]:
        for run in self._splitter.runs(text):
            words = run.text.strip()
            if not words:
                continue
            async with contextlib.aclosing(speak(self.voice_for(run.language), words)) as pieces:
                async for piece in pieces:
                    yield piece

    async def synthesize(self, text: str) -> Speech:
        return concatenate([piece async for piece in self.stream(text)])

    async def aclose(self) -> None:
        for engine in self._engines:
            await engine.aclose()
