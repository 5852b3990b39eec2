"""Settings of the hosted voices: Microsoft Edge's online voices, ElevenLabs and Azure Speech.

Each service's address is a setting, so a relay, a regional endpoint or a test's fake can
stand in for it; an empty key is read from the environment variable the service's own tools
use, so the key need not be written in the config file at all.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from .fields import F, Section

# The address edge-tts connects to; the token it adds to the query is edge-tts's own.
EDGE_WSS_URL = "wss://speech.platform.bing.com/consumer/speech/synthesize/readaloud/edge/v1"
ELEVENLABS_URL = "https://api.elevenlabs.io"
ELEVENLABS_KEY_ENV = "ELEVENLABS_API_KEY"
AZURE_KEY_ENV = "AZURE_SPEECH_KEY"

CloudCaFile = Annotated[
    str,
    F(
        en="Extra CA certificate (PEM) to trust for TLS, besides the usual ones: a company "
        "proxy's, or a test certificate.",
        zh="除常规证书外额外信任的 CA 证书（PEM）：例如公司代理的证书或测试证书。",
    ),
]
ConnectTimeout = Annotated[
    float,
    F(en="Seconds allowed to connect.", zh="建立连接的超时秒数。", gt=0, le=120),
]


class EdgeConfig(Section):
    DEFAULT_WSS_URL: ClassVar[str] = EDGE_WSS_URL

    voice: str = F(
        "en-US-AvaMultilingualNeural",
        en="Voice name, e.g. en-US-AvaMultilingualNeural or zh-CN-XiaoxiaoNeural "
        "(`edge-tts --list-voices` lists them).",
        zh="语音名称，例如 en-US-AvaMultilingualNeural 或 zh-CN-XiaoxiaoNeural"
        "（`edge-tts --list-voices` 可列出全部）。",
        pattern=r"^[a-z]{2,}-[A-Z]{2,}-.+Neural$",
    )
    rate: str = F(
        "+0%",
        en='Speaking rate relative to normal, e.g. "+10%" or "-20%".',
        zh='相对正常语速的变化，例如 "+10%" 或 "-20%"。',
        pattern=r"^[+-]\d+%$",
    )
    volume: str = F(
        "+0%",
        en='Volume relative to normal, e.g. "-10%".',
        zh='相对正常音量的变化，例如 "-10%"。',
        pattern=r"^[+-]\d+%$",
    )
    pitch: str = F(
        "+0Hz",
        en='Pitch relative to normal, e.g. "+5Hz".',
        zh='相对正常音高的变化，例如 "+5Hz"。',
        pattern=r"^[+-]\d+Hz$",
    )
    wss_url: str = F(
        EDGE_WSS_URL,
        en="WebSocket address of the service (wss://). Change it only for a relay or a test "
        "fake; edge-tts adds its token and signature to the query.",
        zh="服务的 WebSocket 地址（wss://）。仅在使用中转或测试替身时修改；"
        "edge-tts 会在查询串中加上它的令牌与签名。",
        pattern=r"^wss?://",
    )
    ca_file: CloudCaFile = ""
    connect_timeout_s: ConnectTimeout = 10


class ElevenLabsConfig(Section):
    KEY_ENV: ClassVar[str] = ELEVENLABS_KEY_ENV

    api_key: str = F(
        "",
        en=f"ElevenLabs API key. Empty reads the {ELEVENLABS_KEY_ENV} environment variable.",
        zh=f"ElevenLabs 的 API 密钥。留空则读取环境变量 {ELEVENLABS_KEY_ENV}。",
    )
    voice_id: str = F(
        "JBFqnCBsd6RMkjVDRZzb",
        en="ID of the voice (from the voice library or GET /v1/voices).",
        zh="语音 ID（见语音库或 GET /v1/voices）。",
        pattern=r"^[A-Za-z0-9_-]+$",
    )
    model_id: str = F(
        "eleven_flash_v2_5",
        en="Model: eleven_flash_v2_5 answers fastest; eleven_multilingual_v2 sounds best.",
        zh="模型：eleven_flash_v2_5 响应最快；eleven_multilingual_v2 音质最好。",
    )
    sample_rate: Literal[16000, 22050, 24000, 44100] = F(
        24000,
        en="Sample rate of the audio asked for, in Hz (raw 16-bit PCM, streamed as "
        "output_format pcm_<rate>; 44100 needs a Pro plan).",
        zh="请求的音频采样率（Hz，以 output_format pcm_<采样率> 流式传输的 16 位原始 PCM；"
        "44100 需要 Pro 套餐）。",
    )
    stability: float = F(
        0.5,
        en="Voice stability: lower is more expressive, higher more even.",
        zh="语音稳定性：越低越富表现力，越高越平稳。",
        ge=0,
        le=1,
    )
    similarity_boost: float = F(
        0.75,
        en="How closely the voice keeps to the original speaker.",
        zh="语音与原说话人的贴合程度。",
        ge=0,
        le=1,
    )
    style: float = F(
        0.0,
        en="Style exaggeration; above 0 costs latency.",
        zh="风格夸张程度；大于 0 会增加延迟。",
        ge=0,
        le=1,
    )
    use_speaker_boost: bool = F(
        True, en="Boost similarity to the speaker.", zh="增强与说话人的相似度。"
    )
    speed: float = F(
        1.0,
        en="Speaking speed; 1 is normal.",
        zh="语速；1 为正常。",
        ge=0.7,
        le=1.2,
    )
    base_url: str = F(
        ELEVENLABS_URL,
        en="Base URL of the API (change it for a proxy or a test fake).",
        zh="API 的基础地址（使用代理或测试替身时修改）。",
        pattern=r"^https?://",
    )
    ca_file: CloudCaFile = ""
    connect_timeout_s: ConnectTimeout = 5


class AzureConfig(Section):
    KEY_ENV: ClassVar[str] = AZURE_KEY_ENV

    api_key: str = F(
        "",
        en=f"Speech resource key. Empty reads the {AZURE_KEY_ENV} environment variable.",
        zh=f"语音资源密钥。留空则读取环境变量 {AZURE_KEY_ENV}。",
    )
    region: str = F(
        "eastus",
        en="Region of the Speech resource, e.g. eastus or southeastasia.",
        zh="语音资源所在区域，例如 eastus 或 southeastasia。",
        pattern=r"^[a-z0-9-]+$",
    )
    endpoint: str = F(
        "",
        en="Full synthesis URL, instead of the region's "
        "https://<region>.tts.speech.microsoft.com/cognitiveservices/v1 (a custom domain, "
        "a proxy or a test fake).",
        zh="完整的合成地址，用于替代区域地址 "
        "https://<region>.tts.speech.microsoft.com/cognitiveservices/v1（自定义域名、代理或测试替身）。",
        pattern=r"^(https?://.*)?$",
    )
    voice: str = F(
        "en-US-AvaMultilingualNeural",
        en="Voice name, e.g. en-US-AvaMultilingualNeural or zh-CN-XiaoxiaoNeural.",
        zh="语音名称，例如 en-US-AvaMultilingualNeural 或 zh-CN-XiaoxiaoNeural。",
        pattern=r"^[a-z]{2,3}-[A-Za-z]{2,4}(-[A-Za-z]+)?-\w+$",
    )
    style: str = F(
        "",
        en="Speaking style of voices that have them (cheerful, sad, chat, ...). Empty: none.",
        zh="支持风格的语音的说话风格（cheerful、sad、chat 等）。留空表示不用。",
        pattern=r"^[A-Za-z-]*$",
    )
    rate: float = F(
        1.0,
        en="Speaking rate as a multiple of normal.",
        zh="语速，为正常语速的倍数。",
        ge=0.5,
        le=2,
    )
    pitch: int = F(
        0,
        en="Pitch change in percent.",
        zh="音高变化（百分比）。",
        ge=-50,
        le=50,
    )
    sample_rate: Literal[16000, 22050, 24000, 44100, 48000] = F(
        24000,
        en="Sample rate of the audio asked for, in Hz (raw 16-bit PCM, streamed).",
        zh="请求的音频采样率（Hz，流式传输的 16 位原始 PCM）。",
    )
    ca_file: CloudCaFile = ""
    connect_timeout_s: ConnectTimeout = 5
