"""The `perform` section: the character performed outside Kagura's own pages
(`kagura perform vts`: the streamer's VTube Studio model, the reply's voice on a sound device).

The performer is a page of the stage: it joins `/proxy-ws` with the page token, plays every
reply and acknowledges it as the stage page does. `perform.vts` says how it drives VTube
Studio through its public plugin API: where VTube Studio listens, where the plugin's token
is kept, which hotkey or expression each emotion tag fires, and the mouth.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import field_validator, model_validator

from .fields import F, Section

DEFAULT_VTS_URL = "ws://127.0.0.1:8001"
PLUGIN_NAME_CHARS = (3, 32)  # VTube Studio refuses a plugin or developer name outside these


class VTSConfig(Section):
    url: str = F(
        DEFAULT_VTS_URL,
        en="VTube Studio's plugin API (Settings → 'Start API'; its port is shown there). "
        "`--vts-url` overrides it.",
        zh="VTube Studio 的插件 API 地址（设置 → “启动 API”，端口在那里显示）。"
        "`--vts-url` 会覆盖此项。",
    )
    token_file: str = F(
        "",
        en="Where the plugin's VTube Studio token is kept (readable by this user only), so "
        "the streamer approves the plugin once. Empty: system.data_dir/vts-token. Delete "
        "the file to be asked again.",
        zh="保存 VTube Studio 插件令牌的文件（仅当前用户可读），主播只需批准一次插件。"
        "留空：system.data_dir/vts-token。删除该文件即会重新请求批准。",
    )
    plugin_name: str = F(
        "Kagura",
        en="The plugin's name in VTube Studio's approval pop-up (3 to 32 characters).",
        zh="在 VTube Studio 批准弹窗中显示的插件名称（3 到 32 个字符）。",
        min_length=PLUGIN_NAME_CHARS[0],
        max_length=PLUGIN_NAME_CHARS[1],
    )
    plugin_developer: str = F(
        "Kagura project",
        en="The plugin's developer in that pop-up (3 to 32 characters).",
        zh="该弹窗中显示的插件开发者（3 到 32 个字符）。",
        min_length=PLUGIN_NAME_CHARS[0],
        max_length=PLUGIN_NAME_CHARS[1],
    )
    hotkeys: dict[str, str] = F(
        default_factory=dict,
        en="What each emotion tag of the character fires on the model: a hotkey (its name "
        "or ID) or an expression file (name.exp3.json), e.g. {joy: Smile, anger: Angry}. "
        "An emotion not listed gets the model's hotkey or expression whose name contains it "
        '(joy: smile or happy, sadness: sad, anger: angry, surprise: surprised, ...); "" '
        "fires nothing. The mapping is logged at start.",
        zh="角色的每个情绪标签在模型上触发什么：热键（名称或 ID）或表情文件（name.exp3.json），"
        "例如 {joy: Smile, anger: Angry}。未列出的情绪使用名称中含有它的热键或表情"
        "（joy：smile 或 happy，sadness：sad，anger：angry，surprise：surprised……）；"
        '"" 表示不触发。启动时会记录映射。',
    )
    reset_after_turn: bool = F(
        True,
        en="Turn the expression an emotion switched on off again once the reply has been "
        "played (else it stays until the next emotion).",
        zh="回复播放完后关闭由情绪打开的表情（否则保持到下一个情绪）。",
    )
    mouth_parameter: str = F(
        "MouthOpen",
        en="The tracking parameter the voice's loudness drives (VTube Studio's MouthOpen, or "
        "a custom one the model maps).",
        zh="由语音响度驱动的追踪参数（VTube Studio 的 MouthOpen，或模型映射的自定义参数）。",
        min_length=1,
    )
    mouth_rate_hz: float = F(
        30,
        en="How often the mouth is sent while the character speaks. VTube Studio gives a "
        "parameter back to face tracking when it is not sent for a second.",
        zh="角色说话时发送嘴部参数的频率。某参数一秒未发送，VTube Studio 会把它交还给面部追踪。",
        ge=2,
        le=120,
    )
    smile: dict[str, float] = F(
        default_factory=dict,
        en="MouthSmile (0 to 1) while a segment of an emotion plays, e.g. {joy: 1, sadness: "
        "0}; empty: MouthSmile is left to face tracking.",
        zh="某情绪的片段播放时的 MouthSmile（0 到 1），例如 {joy: 1, sadness: 0}；"
        "留空：MouthSmile 交给面部追踪。",
    )
    request_timeout_s: float = F(
        5,
        en="Seconds VTube Studio may take to answer a request.",
        zh="VTube Studio 回应一个请求的最长时间（秒）。",
        gt=0,
        le=60,
    )
    approval_timeout_s: float = F(
        120,
        en="Seconds the streamer has to approve the plugin in VTube Studio's pop-up.",
        zh="主播在 VTube Studio 弹窗中批准插件的最长时间（秒）。",
        gt=0,
        le=3600,
    )

    @field_validator("url")
    @classmethod
    def _ws_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"{url!r} is not a WebSocket URL: write ws://host:port")
        return url

    @field_validator("smile")
    @classmethod
    def _smile_range(cls, smile: dict[str, float]) -> dict[str, float]:
        for emotion, value in smile.items():
            if not 0 <= value <= 1:
                raise ValueError(f"smile.{emotion}: {value:g} is not between 0 and 1")
        return smile


class PerformConfig(Section):
    stage_url: str = F(
        "",
        en="The stage of `kagura serve` the performer joins as a page. Empty: where the "
        "server with this config listens (system.host, system.port). `--url` overrides it.",
        zh="表演端以页面身份加入的 `kagura serve` 舞台。留空：使用本配置的服务器地址"
        "（system.host、system.port）。`--url` 会覆盖此项。",
    )
    token: str = F(
        "",
        en="The page token (`kagura tokens` prints it). Empty: the KAGURA_PAGE_TOKEN "
        "environment variable, else the one derived from this file's admin token, else none "
        "(a loopback server that requires no token). `--token` overrides it.",
        zh="页面令牌（由 `kagura tokens` 打印）。留空：使用环境变量 KAGURA_PAGE_TOKEN，"
        "否则由本文件的管理员令牌推导，否则不使用令牌（不要求令牌的本机服务器）。"
        "`--token` 会覆盖此项。",
    )
    device: str = F(
        "",
        en="Sound output the voice plays on: a device's name (or part of it) or number, e.g. "
        "a virtual cable that VTube Studio and OBS listen to. Empty: the default output. "
        "`--device` overrides it; `kagura perform vts --list-devices` lists them.",
        zh="播放语音的声音输出设备：设备名称（或其一部分）或编号，例如 VTube Studio 与 OBS "
        "监听的虚拟声卡。留空：默认输出。`--device` 会覆盖此项；"
        "`kagura perform vts --list-devices` 可列出设备。",
    )
    backoff_initial_s: float = F(
        1,
        en="First wait before reconnecting to the stage or VTube Studio; it doubles on each "
        "failure, with random jitter.",
        zh="重新连接舞台或 VTube Studio 前的首次等待；每次失败加倍，并带随机抖动。",
        gt=0,
        le=600,
    )
    backoff_max_s: float = F(
        30,
        en="Longest wait between reconnection attempts.",
        zh="两次重连尝试之间的最长等待。",
        gt=0,
        le=3600,
    )
    vts: VTSConfig = F(
        default_factory=VTSConfig,
        en="VTube Studio through its public plugin API (`kagura perform vts`).",
        zh="通过公开插件 API 驱动 VTube Studio（`kagura perform vts`）。",
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> PerformConfig:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError(
                f"backoff_max_s ({self.backoff_max_s:g}) must be at least backoff_initial_s "
                f"({self.backoff_initial_s:g})"
            )
        return self
