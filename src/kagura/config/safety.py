"""The `safety` section: what the character may say on a live stream.

Every segment of a reply passes the output guard before it is synthesised: a segment that
fails is never spoken, shown, sent to the widgets, or remembered as said.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator, model_validator

from .fields import F, Section

OnBlock = Literal["cut", "replace"]
GuardProvider = Literal["none", "openai_moderation", "chat_classifier"]
OnFailure = Literal["hold", "drop", "pass"]
BlockLevel = Literal["unsafe", "controversial"]
GuardFormat = Literal["qwen3guard", "llamaguard"]
MAX_LIST_ENTRIES = 10_000  # words or patterns: a list, not a dictionary
MAX_ENTRY_CHARS = 200


class ReplacementLine(Section):
    en: str = F(
        "Let's not go there.",
        en="Said instead of a withheld segment written in a language other than Chinese.",
        zh="被拦下的非中文片段由这句话代替。",
        max_length=MAX_ENTRY_CHARS,
    )
    zh: str = F(
        "这个就不说了。",
        en="Said instead of a withheld segment written in Chinese.",
        zh="被拦下的中文片段由这句话代替。",
        max_length=MAX_ENTRY_CHARS,
    )


class GuardConfig(Section):
    """A safety classifier asked about every segment while it is being synthesised."""

    provider: GuardProvider = F(
        "none",
        en="none: lists only. openai_moderation: POST {base_url}/moderations (OpenAI's "
        "moderation API or a server speaking it). chat_classifier: a safety model served "
        "behind an OpenAI-compatible chat API (Qwen3Guard-Gen, Llama Guard on Ollama or vLLM).",
        zh="none：只用词表。openai_moderation：POST {base_url}/moderations（OpenAI 的审核接口，"
        "或兼容它的服务）。chat_classifier：以 OpenAI 兼容聊天接口提供的安全分类模型"
        "（Ollama 或 vLLM 上的 Qwen3Guard-Gen、Llama Guard）。",
    )
    base_url: str = F(
        "",
        en="Base URL of the guard model's API, e.g. http://127.0.0.1:8000/v1 (vLLM) or "
        "http://127.0.0.1:11434/v1 (Ollama).",
        zh="安全模型 API 的基础地址，例如 http://127.0.0.1:8000/v1（vLLM）或 "
        "http://127.0.0.1:11434/v1（Ollama）。",
        max_length=2000,
    )
    model: str = F(
        "",
        en="Model name to request (required for chat_classifier; for openai_moderation empty "
        "means the server's default).",
        zh="请求的模型名称（chat_classifier 必填；openai_moderation 留空则用服务器默认模型）。",
        max_length=200,
    )
    api_key: str = F(
        "",
        en="API key sent as a bearer token, if the server wants one. Secret: write "
        "${GUARD_API_KEY} and set it in the environment; it is never logged.",
        zh="服务器需要时作为 Bearer 令牌发送的 API 密钥。这是机密：请写成 ${GUARD_API_KEY} "
        "并在环境变量中设置；它不会写入日志。",
        max_length=2000,
    )
    timeout_ms: int = F(
        1000,
        en="How long a segment may wait for its verdict. The verdict runs while the segment "
        "is synthesised, so only the part of this wait beyond the synthesis delays the audio.",
        zh="片段等待判定的最长毫秒数。判定与该片段的语音合成同时进行，"
        "只有超出合成时间的部分才会推迟音频。",
        ge=50,
        le=30000,
    )
    on_failure: OnFailure = F(
        "hold",
        en="When the guard model is slow, unreachable or answers nonsense. hold: the segment "
        "waits (asking again) up to timeout_ms, then is withheld; drop: it is withheld at once; "
        "pass: it is said unscreened by the model (the lists still apply).",
        zh="安全模型太慢、连不上或回答无法解析时怎么办。hold：片段在 timeout_ms 内等待"
        "（并重试），之后被拦下；drop：立即拦下；pass：不经模型审核直接说出（词表仍然生效）。",
    )
    block: BlockLevel = F(
        "unsafe",
        en="unsafe: block what the model calls unsafe; controversial: block controversial "
        "segments too (Qwen3Guard's middle tier; Llama Guard and moderation APIs have none).",
        zh="unsafe：拦下模型判为不安全的片段；controversial：有争议的片段也拦下"
        "（Qwen3Guard 的中间等级；Llama Guard 与审核接口没有这一级）。",
    )
    format: GuardFormat = F(
        "qwen3guard",
        en="How the chat_classifier answers: qwen3guard ('Safety: Safe|Unsafe|Controversial' "
        "and 'Categories: ...') or llamaguard ('safe', or 'unsafe' and a line like 'S1,S10').",
        zh="chat_classifier 的回答格式：qwen3guard（'Safety: Safe|Unsafe|Controversial' 与 "
        "'Categories: ...'）或 llamaguard（'safe'，或 'unsafe' 加一行如 'S1,S10'）。",
    )

    @model_validator(mode="after")
    def _endpoint(self) -> GuardConfig:
        if self.provider == "none":
            return self
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"provider {self.provider} needs base_url, the guard model's http:// or "
                f"https:// address (got {self.base_url!r})"
            )
        if self.provider == "chat_classifier" and not self.model.strip():
            raise ValueError("provider chat_classifier needs model, the guard model's name")
        return self


class SafetyConfig(Section):
    blocked_words: list[str] = F(
        default_factory=list,
        en="Words the character must never say on stream, matched anywhere in a segment, "
        "whatever the case, width, inserted spaces or punctuation, invisible characters or "
        "simple letter-for-digit swaps.",
        zh="角色在直播中绝不能说的词。无论大小写、全角半角、中间插入空格或标点、不可见字符，"
        "还是简单的数字代字母，只要出现在片段中就会被拦下。",
        max_length=MAX_LIST_ENTRIES,
    )
    blocked_patterns: list[str] = F(
        default_factory=list,
        en="Regular expressions (Python syntax, case-insensitive) a segment must not match, "
        "e.g. phone numbers or links.",
        zh="片段不能匹配的正则表达式（Python 语法，不区分大小写），例如电话号码或链接。",
        max_length=MAX_LIST_ENTRIES,
    )
    default_lists: bool = F(
        True,
        en="Also block the profanity of the built-in English and Chinese lists.",
        zh="同时拦下内置英文与中文词表中的脏话。",
    )
    on_block: OnBlock = F(
        "cut",
        en="What the viewers hear when a segment is withheld. cut: the reply ends there; "
        "replace: the segment becomes the replacement line and the reply goes on.",
        zh="片段被拦下时观众听到什么。cut：回复到此为止；replace：该片段换成替代语句，回复继续。",
    )
    replacement_line: ReplacementLine = F(
        default_factory=ReplacementLine,
        en="With on_block: replace, what is said instead, by the language of the segment.",
        zh="on_block 为 replace 时，按片段的语言说的替代语句。",
    )
    guard: GuardConfig = F(
        default_factory=GuardConfig,
        en="An optional guard model: a safety classifier that judges each segment while it is "
        "synthesised; a segment is said only once it passes.",
        zh="可选的安全模型：在每个片段合成语音的同时对其进行判定，通过后才会说出。",
    )
    audit_log_max_kb: int = F(
        1024,
        en="Size limit of the safety audit log (data_dir/safety.jsonl: withheld segments, "
        "dropped chat, replaced names, bans) in KB; past it the log moves to safety.jsonl.1, "
        "replacing the one before, so it never takes more than twice this.",
        zh="安全审计日志（data_dir/safety.jsonl：被拦下的片段、丢弃的弹幕、替换的昵称、封禁）"
        "的大小上限（KB）；超过后移到 safety.jsonl.1 并替换上一份，因此最多占用两倍于此的空间。",
        ge=16,
        le=1_048_576,
    )

    @field_validator("blocked_words")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        for word in words:
            if len(word) > MAX_ENTRY_CHARS:
                raise ValueError(f"a word longer than {MAX_ENTRY_CHARS} characters: {word!r}")
        return words

    @field_validator("blocked_patterns")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not pattern.strip():
                raise ValueError("an empty pattern would match every segment")
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {pattern!r} ({exc})") from None
            if compiled.search(""):
                raise ValueError(f"{pattern!r} matches empty text, so it would block everything")
        return patterns
