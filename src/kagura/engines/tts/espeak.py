"""espeak-ng: robotic, but speaks almost every language (`cmn` for Chinese) in milliseconds."""

from __future__ import annotations

import asyncio
import shutil
import wave

from kagura.audio import Speech, decode_wav
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError


class EspeakTTS:
    """Runs the `espeak-ng` program; text goes through stdin so it can never become an option."""

    runs_locally = True

    def __init__(self, config: TTSConfig) -> None:
        self._config = config
        self._binary: str | None = None

    async def load(self) -> None:
        self._binary = shutil.which("espeak-ng")
        if self._binary is None:
            raise EngineError(
                "espeak-ng is not installed: run `make setup` (or `apt-get install espeak-ng`)"
            )

    async def synthesize(self, text: str) -> Speech:
        if self._binary is None:
            await self.load()
        assert self._binary is not None
        settings = self._config.espeak
        process = await asyncio.create_subprocess_exec(
            self._binary,
            "--stdout",
            "--stdin",
            "-v",
            settings.voice,
            "-s",
            str(settings.speed),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await process.communicate(text.encode("utf-8"))
        except asyncio.CancelledError:
            process.kill()
            raise
        if process.returncode != 0 or not out:
            detail = err.decode("utf-8", "replace").strip() or f"exit code {process.returncode}"
            raise EngineError(f"espeak-ng failed with voice {settings.voice!r}: {detail}")
        try:
            return decode_wav(out)
        except (wave.Error, ValueError, EOFError) as exc:
            raise EngineError(f"espeak-ng produced unreadable audio: {exc}") from exc

    async def aclose(self) -> None:
        """Nothing held between calls."""
