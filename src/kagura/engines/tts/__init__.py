"""TTS engines, chosen by `tts.provider`."""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import TTSConfig
from kagura.engines.registry import Registry

from .base import StreamingTTS, TTSEngine, speak

__all__ = ["PROVIDERS", "StreamingTTS", "TTSEngine", "create", "speak"]

PROVIDERS: Registry[Callable[[TTSConfig], TTSEngine]] = Registry(
    "tts",
    {
        "azure": "kagura.engines.tts.azure:AzureTTS",
        "cosyvoice": "kagura.engines.tts.cosyvoice:CosyVoiceTTS",
        "edge": "kagura.engines.tts.edge:EdgeTTS",
        "elevenlabs": "kagura.engines.tts.elevenlabs:ElevenLabsTTS",
        "espeak": "kagura.engines.tts.espeak:EspeakTTS",
        "fish_speech": "kagura.engines.tts.fish_speech:FishSpeechTTS",
        "gpt_sovits": "kagura.engines.tts.gpt_sovits:GptSovitsTTS",
        "openai": "kagura.engines.tts.openai_compat:OpenAICompatibleTTS",
        "piper": "kagura.engines.tts.piper:PiperTTS",
    },
)


def create(config: TTSConfig) -> TTSEngine:
    """Build the engine named by `tts.provider` (only that engine's module is imported), or,
    with `tts.voices`, one voice per language behind one engine."""
    main = PROVIDERS.resolve(config.provider)(config)
    voices = config.voice_configs()
    if not voices:
        return main
    from .by_language import VoicesByLanguage

    by_language = {
        language: PROVIDERS.resolve(voice.provider)(voice) for language, voice in voices.items()
    }
    return VoicesByLanguage(main, config.language, by_language)
