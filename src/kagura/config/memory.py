"""The `memory` section: what the character keeps about its viewers and streams."""

from __future__ import annotations

from typing import Literal

from .fields import F, Section

Extract = Literal["auto", "off", "counters", "llm"]
EmbeddingsProvider = Literal["none", "local", "openai"]


class OpenAIEmbeddingsConfig(Section):
    base_url: str = F(
        "http://127.0.0.1:11434/v1",
        en="Base URL of an OpenAI-compatible API with /embeddings (Ollama, vLLM, LM Studio, "
        "OpenAI...).",
        zh="提供 /embeddings 的 OpenAI 兼容 API 的基础地址（Ollama、vLLM、LM Studio、OpenAI 等）。",
        max_length=2000,
    )
    model: str = F(
        "bge-m3",
        en="Embedding model to request; a multilingual one if viewers write Chinese.",
        zh="请求的向量模型；观众用中文时请选多语言模型。",
        max_length=200,
    )
    api_key: str = F(
        "",
        en="API key sent as a bearer token, if the server wants one. Secret: write "
        "${EMBEDDINGS_API_KEY} and set it in the environment; it is never logged.",
        zh="服务器需要时作为 Bearer 令牌发送的 API 密钥。这是机密：请写成 ${EMBEDDINGS_API_KEY} "
        "并在环境变量中设置；它不会写入日志。",
        max_length=2000,
    )
    timeout_ms: int = F(
        300,
        en="How long a turn waits for its message's embedding; beyond it the turn recalls by "
        "words only.",
        zh="每轮等待消息向量的最长毫秒数；超时则这一轮只按字词回忆。",
        ge=10,
        le=30000,
    )


class EmbeddingsConfig(Section):
    """Recall by meaning: every note gets a vector, and each message is compared to them."""

    provider: EmbeddingsProvider = F(
        "local",
        en="none: recall by words only (full-text search). local: also by meaning, with a "
        "small multilingual model run here (Universal Sentence Encoder, about 1 ms a message, "
        "about 100 MB of memory). openai: by meaning with any OpenAI-compatible /embeddings.",
        zh="none：只按字词回忆（全文检索）。local：同时按语义回忆，使用本机运行的小型多语言模型"
        "（Universal Sentence Encoder，每条消息约 1 毫秒，约占 100 MB 内存）。"
        "openai：使用任意 OpenAI 兼容的 /embeddings 按语义回忆。",
    )
    min_similarity: float = F(
        0.2,
        en="Least cosine similarity for a speaker's own fact to be recalled by meaning; a "
        "note about nobody in particular (a stream's summary) needs 0.15 more, as there are "
        "many more of them. The default suits the local model; other models score on other "
        "scales (raise it if recall brings up unrelated notes, lower it if it misses "
        "paraphrases).",
        zh="按语义回忆发言观众自己的一条事实所需的最低余弦相似度；不针对特定观众的记忆"
        "（如直播摘要）数量多得多，需再高 0.15。默认值适合本地模型；其他模型的分数尺度不同"
        "（回忆出无关内容就调高，漏掉换个说法的内容就调低）。",
        ge=-1,
        le=1,
    )
    openai: OpenAIEmbeddingsConfig = F(
        default_factory=OpenAIEmbeddingsConfig,
        en="Settings of the OpenAI-compatible provider.",
        zh="OpenAI 兼容提供方的设置。",
    )


class MemoryConfig(Section):
    enabled: bool = F(
        True,
        en="Keep long-term memory (viewer profiles, facts, stream summaries) in "
        "data_dir/memory.sqlite3 and recall it into the prompt.",
        zh="启用长期记忆（观众档案、事实、直播摘要），保存在 data_dir/memory.sqlite3，"
        "并在提示词中回忆。",
    )
    extract: Extract = F(
        "auto",
        en="How memories are written. off: nothing new is kept; counters: viewer profiles "
        "only (names, messages, paid support), no LLM; llm: also asks the LLM, while it is "
        "idle, for facts and for summaries of trimmed conversation; auto: llm with an "
        "OpenAI-compatible server, counters with the embedded model (it would compete with "
        "replies for the CPU).",
        zh="记忆的写入方式。off：不再记录；counters：只更新观众档案（昵称、消息数、付费支持），"
        "不调用 LLM；llm：另外在 LLM 空闲时请它提取事实并总结被裁剪的对话；auto：使用 "
        "OpenAI 兼容服务器时为 llm，使用内置模型时为 counters（否则会与回复争抢 CPU）。",
    )
    recall_budget_tokens: int = F(
        200,
        en="Most tokens of recalled memory added to a turn's prompt.",
        zh="每轮提示词中回忆内容的最大 token 数。",
        ge=0,
        le=4000,
    )
    recall_facts: int = F(
        6,
        en="Most facts and summaries found by search recalled in one turn.",
        zh="每轮通过搜索回忆的事实与摘要的最大条数。",
        ge=0,
        le=50,
    )
    max_facts: int = F(
        100_000,
        en="Most facts and summaries kept per character; the oldest go first.",
        zh="每个角色保存的事实与摘要的最大条数，超出时删除最旧的。",
        ge=1,
    )
    max_viewers: int = F(
        50_000,
        en="Most viewer profiles kept per character; those seen longest ago go first "
        "(with their facts).",
        zh="每个角色保存的观众档案的最大数量，超出时删除最久未出现的观众（及其事实）。",
        ge=1,
    )
    max_age_days: float = F(
        365.0,
        en="Memories older than this, and profiles of viewers not seen for this long, are "
        "deleted. 0: keep them for ever.",
        zh="早于此天数的记忆、以及这么久未出现的观众档案会被删除。0：永久保存。",
        ge=0,
    )
    shared_across_characters: bool = F(
        False,
        en="Share one memory among all characters. Off: each character (conf_uid) has its own "
        "and never sees another's.",
        zh="所有角色共用一份记忆。关闭时每个角色（conf_uid）各有各的记忆，互不可见。",
    )
    embeddings: EmbeddingsConfig = F(
        default_factory=EmbeddingsConfig,
        en="Recall by meaning as well as by words (an embedding index beside the full-text "
        "index, rebuilt from the database when missing).",
        zh="除按字词外也按语义回忆（全文索引旁的向量索引，缺失时从数据库重建）。",
    )
    forget_command: str = F(
        "!forget me",
        en="Chat command with which a viewer deletes everything kept about them (matched "
        "whole, ignoring case). Empty: no command.",
        zh="观众用来删除关于自己的所有记忆的弹幕命令（整句匹配，不区分大小写）。留空：不启用。",
        max_length=64,
    )
    forget_reply: str = F(
        "Done, {name}: I have forgotten everything I knew about you.",
        en="What the character says after `forget_command` ({name}: the viewer's name).",
        zh="执行 `forget_command` 后角色说的话（{name}：观众昵称）。",
        max_length=200,
    )
    extract_timeout_s: float = F(
        60.0,
        en="Longest one background memory request to the LLM may take.",
        zh="一次后台记忆请求（调用 LLM）的最长时间。",
        gt=0,
    )
    extract_queue: int = F(
        16,
        en="Most memory jobs waiting for an idle LLM; beyond it the oldest is dropped.",
        zh="等待 LLM 空闲的记忆任务上限，超出时丢弃最旧的。",
        ge=1,
        le=1000,
    )

    def writes(self, llm_provider: str) -> Literal["off", "counters", "llm"]:
        """What is written with this LLM provider (`auto` resolved; nothing when disabled)."""
        if not self.enabled or self.extract == "off":
            return "off"
        if self.extract == "auto":
            return "counters" if llm_provider == "smollm2" else "llm"
        return self.extract
