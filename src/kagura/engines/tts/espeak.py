"""espeak-ng: robotic, but speaks almost every language (`cmn` for Chinese) in milliseconds.

espeak-ng 1.51 (Debian's) has a trap for Chinese: its `cmn` voice turns Han characters into
pinyin with tone digits and reads that as English ("ni three hao three"); `cmn-latn-pinyin`
reads the same pinyin as Mandarin. The names a user writes for Mandarin are sent as the
voice that speaks it.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import wave

from kagura.audio import Speech, decode_wav
from kagura.config import TTSConfig
from kagura.engines.errors import EngineError

# What users (and Open-LLM-VTuber configs) call Mandarin → the voice that speaks it.
MANDARIN = "cmn-latn-pinyin"
VOICE_ALIASES = {"cmn": MANDARIN, "zh": MANDARIN, "zh-cmn": MANDARIN, "zh-cn": MANDARIN}


def voice_name(voice: str) -> str:
    return VOICE_ALIASES.get(voice.lower(), voice)


class EspeakTTS:
    """Runs the `espeak-ng` program; text goes through stdin so it can never become an option.

    The program is started from a worker thread with `subprocess`, which uses vfork: starting
    it from the event loop (uvicorn's uvloop forks the whole server) took about 10 ms longer,
    a third of a short clause's synthesis.
    """

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
        return await asyncio.to_thread(self._run, self._binary, text)

    def _run(self, binary: str, text: str) -> Speech:
        settings = self._config.espeak
        voice = voice_name(settings.voice)
        command = [binary, "--stdout", "--stdin", "-v", voice, "-s", str(settings.speed)]
        try:
            done = subprocess.run(
                command,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self._config.segment_timeout_s,  # the thread never outlives the turn
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise EngineError(f"espeak-ng took over {self._config.segment_timeout_s:g} s") from None
        if done.returncode != 0 or not done.stdout:
            detail = done.stderr.decode("utf-8", "replace").strip()
            detail = detail or f"exit code {done.returncode}"
            raise EngineError(f"espeak-ng failed with voice {settings.voice!r}: {detail}")
        try:
            return decode_wav(done.stdout)
        except (wave.Error, ValueError, EOFError) as exc:
            raise EngineError(f"espeak-ng produced unreadable audio: {exc}") from exc

    async def aclose(self) -> None:
        """Nothing held between calls."""
