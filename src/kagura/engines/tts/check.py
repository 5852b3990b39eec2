"""Is a voice ready? One short sentence through the real engine, as `kagura config init
--tts` checks the voice a user points it at before they go live."""

from __future__ import annotations

import asyncio

from kagura.config import TTSConfig
from kagura.engines.errors import EngineError

from . import create

# Which setting of each provider says where its service is.
URL_SETTING = {
    "openai": "base_url",
    "gpt_sovits": "base_url",
    "cosyvoice": "base_url",
    "fish_speech": "base_url",
    "elevenlabs": "base_url",
    "azure": "endpoint",
    "edge": "wss_url",
}
CHECK_TEXT = {"zh": "你好。", "ja": "こんにちは。"}
CHECK_TIMEOUT_S = 30.0


async def try_voice(config: TTSConfig) -> tuple[float, str]:
    """Seconds of speech a short sentence came out as, and what is wrong ("" when nothing)."""
    try:
        engine = create(config)
    except (EngineError, ValueError) as exc:
        return 0.0, str(exc)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await engine.load()
            speech = await engine.synthesize(CHECK_TEXT.get(config.language, "Hello."))
    except EngineError as exc:
        return 0.0, str(exc)
    except TimeoutError:
        return 0.0, f"no speech within {CHECK_TIMEOUT_S:g} s (tts.segment_timeout_s)"
    finally:
        await engine.aclose()
    if not len(speech.samples):
        return 0.0, "the voice answered with no audio"
    return speech.duration_s, ""
