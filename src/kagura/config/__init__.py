"""Kagura's configuration: the schema, loading ``conf.yaml``, presets and default files.

Import from here rather than from the submodules; they are an implementation detail.
"""

from typing import TYPE_CHECKING, Any

from .engines import (
    ASRConfig,
    LLMConfig,
    OpenAIASRConfig,
    OpenAIEndpoint,
    OpenAILLMConfig,
    PocketsphinxConfig,
    SmolLM2Config,
    VADConfig,
    WhisperConfig,
)
from .languages import AUTO_LANGUAGE, CHINESE_LANGUAGES, WHISPER_LANGUAGES
from .live import BilibiliConfig, BilibiliOpenConfig, LiveConfig
from .live_twitch import TwitchConfig
from .live_youtube import YouTubeConfig
from .loader import (
    DEFAULT_CONFIG,
    ConfigError,
    apply_character_preset,
    config_path,
    deep_merge,
    list_character_presets,
    load_config,
)
from .memory import EmbeddingsConfig, MemoryConfig, OpenAIEmbeddingsConfig
from .perform import PerformConfig, VTSConfig
from .safety import GuardConfig, ReplacementLine, SafetyConfig
from .schema import (
    CharacterConfig,
    ConversationConfig,
    KaguraConfig,
    SystemConfig,
)
from .stage import LaneConfig, LanesConfig, StageConfig
from .tts import EspeakConfig, OpenAITTSConfig, PiperConfig, TTSConfig
from .tts_cloud import AzureConfig, EdgeConfig, ElevenLabsConfig
from .tts_servers import CosyVoiceConfig, FishSpeechConfig, GptSovitsConfig
from .voice import BargeInConfig, EndOfTurnConfig, SmartTurnConfig, VoiceConfig
from .widget import WidgetConfig

if TYPE_CHECKING:
    from .render import default_config_path, render_default_yaml

__all__ = [
    "AUTO_LANGUAGE",
    "CHINESE_LANGUAGES",
    "DEFAULT_CONFIG",
    "WHISPER_LANGUAGES",
    "ASRConfig",
    "AzureConfig",
    "BargeInConfig",
    "BilibiliConfig",
    "BilibiliOpenConfig",
    "CharacterConfig",
    "ConfigError",
    "ConversationConfig",
    "CosyVoiceConfig",
    "EdgeConfig",
    "ElevenLabsConfig",
    "EmbeddingsConfig",
    "EndOfTurnConfig",
    "EspeakConfig",
    "FishSpeechConfig",
    "GptSovitsConfig",
    "GuardConfig",
    "KaguraConfig",
    "LLMConfig",
    "LaneConfig",
    "LanesConfig",
    "LiveConfig",
    "MemoryConfig",
    "OpenAIASRConfig",
    "OpenAIEmbeddingsConfig",
    "OpenAIEndpoint",
    "OpenAILLMConfig",
    "OpenAITTSConfig",
    "PerformConfig",
    "PiperConfig",
    "PocketsphinxConfig",
    "ReplacementLine",
    "SafetyConfig",
    "SmartTurnConfig",
    "SmolLM2Config",
    "StageConfig",
    "SystemConfig",
    "TTSConfig",
    "TwitchConfig",
    "VADConfig",
    "VTSConfig",
    "VoiceConfig",
    "WhisperConfig",
    "WidgetConfig",
    "YouTubeConfig",
    "apply_character_preset",
    "config_path",
    "deep_merge",
    "default_config_path",
    "list_character_presets",
    "load_config",
    "render_default_yaml",
]


def __getattr__(name: str) -> Any:
    # ``render`` is imported on first use, not above: it also runs as a script
    # (``python -m kagura.config.render``), and importing it with the package would make
    # runpy warn that the module was already imported before it ran.
    if name in ("default_config_path", "render_default_yaml"):
        from . import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
