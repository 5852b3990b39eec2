"""Stage settings: how the shared stage queues, filters and answers live chat."""

from __future__ import annotations

from typing import Any, Literal

from .fields import F, Section
from .shared import ClientQueue


class LaneConfig(Section):
    capacity: int = F(
        50,
        en="Most events waiting in this lane; at the limit the oldest is dropped.",
        zh="此通道最多排队的事件数；满了就丢弃最旧的一条。",
        ge=1,
        le=10_000,
    )
    ttl_s: float = F(
        30,
        en="Seconds an event may wait; older ones are dropped instead of answered late.",
        zh="事件最多等待的秒数；超时的事件被丢弃，而不是迟到地回答。",
        gt=0,
        le=86_400,
    )


def _lane(capacity: int, ttl_s: float) -> Any:
    return lambda: LaneConfig(capacity=capacity, ttl_s=ttl_s)


class LanesConfig(Section):
    """The stage's queues, highest priority first: a lane is served only when every lane
    above it is empty."""

    streamer: LaneConfig = F(
        default_factory=_lane(20, 300),
        en="Text from the streamer (admin clients).",
        zh="主播（管理员客户端）发送的文字。",
    )
    superchat: LaneConfig = F(
        default_factory=_lane(100, 900),
        en="Super chats: always answered by the LLM.",
        zh="醒目留言（SC）：总是由 LLM 回答。",
    )
    membership: LaneConfig = F(
        default_factory=_lane(50, 300),
        en="Memberships and guards (舰长).",
        zh="会员与大航海（舰长等）。",
    )
    gift: LaneConfig = F(
        default_factory=_lane(100, 120), en="Gifts and follows.", zh="礼物与关注。"
    )
    danmaku: LaneConfig = F(
        default_factory=_lane(50, 30), en="Plain chat (danmaku).", zh="普通弹幕。"
    )
    idle: LaneConfig = F(
        default_factory=_lane(1, 10),
        en="Idle talk: a topic the character starts itself.",
        zh="闲聊：角色自己开启的话题。",
    )


class StageConfig(Section):
    enabled: bool = F(True, en="Serve the stage page.", zh="提供舞台页面。")
    lanes: LanesConfig = F(
        default_factory=LanesConfig,
        en="Priority lanes of the chat queue: capacity and time-to-live of each.",
        zh="弹幕队列的优先级通道：每个通道的容量与存活时间。",
    )
    dedup_window_s: float = F(
        10,
        en="The same text from the same user within this many seconds is answered once.",
        zh="同一用户在这么多秒内发送的相同文字只回答一次。",
        ge=0,
        le=3600,
    )
    user_rate_per_min: float = F(
        6,
        en="Chat messages per minute one viewer may queue (gifts and super chats are "
        "not limited). 0 means no limit.",
        zh="每位观众每分钟最多可排队的弹幕数（礼物和醒目留言不受限制）。0 表示不限制。",
        ge=0,
        le=6000,
    )
    user_burst: int = F(
        3,
        en="Chat messages a viewer may send at once before the rate limit applies.",
        zh="速率限制生效前，观众可一次连续发送的弹幕数。",
        ge=1,
        le=1000,
    )
    blocked_users: list[str] = F(
        default_factory=list,
        en="Viewer names or ids whose events are ignored.",
        zh="忽略其事件的观众名称或 ID。",
    )
    blocked_words: list[str] = F(
        default_factory=list,
        en="Events whose text contains any of these words (any case) are ignored.",
        zh="文字中包含任一这些词（不区分大小写）的事件会被忽略。",
    )
    ignore_prefix: str = F(
        "#",
        en="Chat starting with this prefix is not answered. Empty disables it.",
        zh="以此前缀开头的弹幕不回答。留空表示不启用。",
        max_length=8,
    )
    max_text_chars: int = F(
        200,
        en="Longer viewer text is dropped (streamer text is not limited).",
        zh="超过此长度的观众文字会被丢弃（主播文字不受限制）。",
        ge=1,
        le=4000,
    )
    batch_max: int = F(
        4,
        en="Most waiting chat messages answered together in one turn, naming the viewers. "
        "1 answers one at a time.",
        zh="一轮中最多合并回答的排队弹幕数，回答时会提到观众的名字。1 表示逐条回答。",
        ge=1,
        le=20,
    )
    batch_min: int = F(
        3,
        en="Chat messages that must be waiting before they are answered together.",
        zh="至少有这么多条弹幕在排队时才合并回答。",
        ge=2,
        le=20,
    )
    character_aliases: list[str] = F(
        default_factory=list,
        en="Other names the character answers to in chat, besides its name and conf_name "
        '(e.g. "Kagura", "神乐"): a message naming it (or @name) is answered first.',
        zh="除角色名与 conf_name 外，角色在弹幕中的其他称呼（如“Kagura”“神乐”）："
        "提到它（或 @名字）的弹幕优先回答。",
        max_length=20,
    )
    pace: Literal["quiet", "normal", "lively"] = F(
        "normal",
        en="How much the character talks: quiet (a pause after each reply, answers part of "
        "the ordinary chat, no idle talk), normal (answers all chat at once, no idle talk) "
        "or lively (answers all chat, starts a topic after a short silence). Questions, "
        "messages naming the character and paid events are always answered. The three "
        "numbers below override the pace one by one; the stage page can change it live.",
        zh="角色说话的多少：quiet（安静：每次回复后停顿，只回答部分普通弹幕，不主动闲聊）、"
        "normal（正常：回答全部弹幕，不主动闲聊）或 lively（活跃：回答全部弹幕，冷场片刻就"
        "开启话题）。提问、提到角色名的弹幕和付费事件总会回答。下面三个数值可逐项覆盖此设置；"
        "舞台页面可实时切换。",
    )
    min_gap_s: float | None = F(
        None,
        en="Least seconds between the end of one reply and the start of the next (the "
        "streamer's own words are not held back). null: from the pace.",
        zh="一次回复结束到下一次回复开始之间至少间隔的秒数（主播自己的话不受限制）。"
        "null：由 pace 决定。",
        ge=0,
        le=600,
    )
    chat_share: float | None = F(
        None,
        en="Share of ordinary chat answered, 0 to 1 (questions, greetings, messages naming "
        "the character and paid events always are); the rest is dropped as skipped by the "
        "pace. null: from the pace.",
        zh="回答普通弹幕的比例，0 到 1（提问、打招呼、提到角色名的弹幕和付费事件总会回答）；"
        "其余按“因节奏跳过”丢弃。null：由 pace 决定。",
        ge=0,
        le=1,
    )
    gift_llm_min_amount: float = F(
        10,
        en="Gifts worth less than this (in their currency) get a template thank-you "
        "without the LLM; 0 sends every gift to the LLM.",
        zh="价值低于此数（按其货币计）的礼物使用模板致谢，不调用 LLM；0 表示所有礼物都交给 LLM。",
        ge=0,
    )
    gift_thanks: str = F(
        "Thank you {names} for the {gifts}!",
        en="Template thank-you for small gifts and follows; {names} and {gifts} are filled in.",
        zh="小礼物与关注的模板致谢；会填入 {names} 和 {gifts}。",
        max_length=300,
    )
    # A platform client is not trusted with money: what one event, or one viewer in one
    # stream, may claim to be worth (`kagura.stage.amounts`).
    max_amount_per_event: float = F(
        50_000,
        en="Most one event (a super chat, a gift, a membership) counts as worth, in its own "
        "currency: a larger claimed amount is clipped to this (still answered as paid). The "
        "number applies to every currency alike. 0 means no cap.",
        zh="单个事件（醒目留言、礼物、会员）最多计为多少金额（按其自身货币计）：声称的更大金额会被"
        "截为此值（仍按付费事件回答）。此数值对所有货币一视同仁。0 表示不设上限。",
        ge=0,
    )
    max_amount_per_viewer_per_stream: float = F(
        500_000,
        en="Most one viewer's events count as worth in total during one stream (any "
        "currency, added as numbers); past it their events count nothing more toward "
        "thanks, memory or the top supporters. 0 means no cap.",
        zh="一场直播中单个观众的事件合计最多计为多少金额（不同货币按数值相加）；超过后其事件"
        "不再计入致谢、记忆或榜单。0 表示不设上限。",
        ge=0,
    )
    reply_max_sentences: int = F(
        3,
        en="The character answers the stage in one to this many sentences: the prompt asks "
        "for it, and speech stops after that many. A viewer will not sit through a long "
        "monologue. 0 leaves the length to the persona and llm.max_reply_tokens "
        "(private /client-ws sessions always do).",
        zh="角色在舞台上用一句到这么多句话回答：提示词会这样要求，说到这么多句后即停止。"
        "观众不会耐心听完长篇独白。0 表示由人设与 llm.max_reply_tokens 决定长度"
        "（私人 /client-ws 会话总是如此）。",
        ge=0,
        le=50,
    )
    yield_to_streamer: bool = F(
        True,
        en="While the streamer speaks on the stage (the admin's microphone, `kagura chat`) "
        "no new chat reply starts; the streamer is answered first when they finish, and chat "
        "that arrived meanwhile waits under its lane's time-to-live.",
        zh="主播在舞台上说话时（管理员的麦克风、`kagura chat`）不开始新的弹幕回复；主播说完后"
        "先回答主播，期间到达的弹幕按其通道的存活时间等待。",
    )
    streamer_addressing: Literal["always", "by_name"] = F(
        "always",
        en="Which of the streamer's spoken words the character answers: always, or by_name "
        "(only when they name it: character.name, character.conf_name or one of "
        "character_aliases; the streamer talking to their audience is shown as a "
        "transcription, not answered).",
        zh="角色回答主播的哪些语音：always（总是）或 by_name（只在主播叫到角色名字时："
        "character.name、character.conf_name 或 character_aliases 之一；主播对观众说的话只"
        "显示为转写，不回答）。",
    )
    idle_after_s: float | None = F(
        None,
        en="After this many seconds without chat the character starts a topic itself. "
        "0 disables idle talk. null: from the pace (only lively starts topics).",
        zh="这么多秒没有弹幕后，角色会自己开启话题。0 表示不启用。null：由 pace 决定"
        "（只有 lively 会主动开启话题）。",
        ge=0,
        le=86_400,
    )
    # The co-host greets who arrives (README, "The co-host"): the greeter reads these.
    greet_every_s: float = F(
        60,
        en="Viewers who arrive (an entry, a first message of the stream) are greeted in "
        "batches, at most one greeting every this many seconds, and nobody twice a stream. "
        "0 greets nobody.",
        zh="进入直播间（进场或本场第一条弹幕）的观众分批问候，最多每这么多秒问候一次，"
        "每位观众每场最多一次。0 表示不问候。",
        ge=0,
        le=86_400,
    )
    greet_regulars: bool = F(
        True,
        en="Greet returning viewers known to long-term memory by name, with one thing the "
        "character remembers about them (needs memory.enabled).",
        zh="按名字问候长期记忆中认识的老观众，并提一件角色记得的事（需要 memory.enabled）。",
    )
    welcome_new_viewers: bool = F(
        True,
        en="Welcome new viewers together in the greeting (a few by name, then a count).",
        zh="在问候中一起欢迎新观众（点几位的名字，其余报人数）。",
    )
    greet_max_names: int = F(
        5,
        en="Most viewers named in one greeting; the others are counted (\"and 12 others\").",
        zh="一次问候最多点名的观众数；其余只报人数（“还有 12 位”）。",
        ge=1,
        le=20,
    )
    turn_timeout_s: float = F(
        300,
        en="Longest one stage turn may take, playback wait included, before it is stopped.",
        zh="舞台上一轮对话（包括等待播放）的最长时间，超时即停止。",
        gt=0,
        le=3600,
    )
    stream_delay_s: float = F(
        0,
        en="Seconds between a reply being ready and the page-role pages (the OBS overlay, "
        "widgets) receiving it. The streamer's stage page (admin token) gets it at once, "
        "with a countdown and a Cut button: a reply cut within the delay never goes on air. "
        "0 sends everything at once.",
        zh="回复生成后延迟这么多秒再发给页面角色的页面（OBS 叠加层、小组件）。主播的舞台页面"
        "（管理员令牌）立即收到，并显示倒计时和“切掉”按钮：在延迟内被切掉的回复不会播出。"
        "0 表示立即发送。",
        ge=0,
        le=60,
    )
    show_question: bool = F(
        True,
        en="Pages caption each reply with the viewer's words it answers (name: text), above "
        "the subtitle, on the OBS overlay and the stage page.",
        zh="页面在每条回复的字幕上方显示它所回答的观众的话（昵称：内容），"
        "OBS 叠加层与舞台页面都会显示。",
    )
    read_question_aloud: bool = F(
        False,
        en="The character reads the viewer's question out before answering it "
        '("Bea asks: what\'s your favourite game?"), while the LLM starts.',
        zh="角色在回答前先读出观众的问题（“某某问：……”），同时 LLM 开始生成回答。",
    )
    client_queue_frames: ClientQueue = 128
    stats_log_interval_s: float = F(
        60,
        en="How often the stage's event counters are logged, in seconds. 0 disables it.",
        zh="记录舞台事件计数的间隔（秒）。0 表示不记录。",
        ge=0,
        le=86_400,
    )
