"""Settings of the self-hosted voice servers: GPT-SoVITS, CosyVoice and Fish Speech.

The names follow each server's own API (`text_lang`, `spk_id`, `reference_id`...), so a
setting can be looked up in that project's documentation. Each server speaks for one
character: the reference clip or speaker is set here, not per character.
"""

from __future__ import annotations

from typing import Literal

from .fields import F, Section

MAX_URL = 2000
MAX_TEXT = 2000


class GptSovitsConfig(Section):
    """GPT-SoVITS's `api_v2.py` (`POST /tts`): a voice cloned from a short reference clip."""

    base_url: str = F(
        "http://127.0.0.1:9880",
        en="Address of GPT-SoVITS's api_v2.py server (python api_v2.py -a 127.0.0.1 -p 9880).",
        zh="GPT-SoVITS 的 api_v2.py 服务地址（python api_v2.py -a 127.0.0.1 -p 9880）。",
        max_length=MAX_URL,
    )
    text_lang: str = F(
        "zh",
        en="Language of the replies: zh, en, ja, ko, yue, auto...",
        zh="回复文本的语言：zh、en、ja、ko、yue、auto 等。",
        min_length=1,
        max_length=20,
    )
    ref_audio_path: str = F(
        "",
        en="Reference clip of the voice (3 to 10 s), as a path on the GPT-SoVITS server. Required.",
        zh="参考音频（3 到 10 秒），填写 GPT-SoVITS 服务器上的路径。必填。",
        max_length=MAX_URL,
    )
    prompt_text: str = F(
        "",
        en="What is said in the reference clip.",
        zh="参考音频中所说的内容。",
        max_length=MAX_TEXT,
    )
    prompt_lang: str = F(
        "zh",
        en="Language of the reference clip.",
        zh="参考音频的语言。",
        min_length=1,
        max_length=20,
    )
    top_k: int = F(15, en="Top-k sampling.", zh="Top-k 采样。", ge=1, le=100)
    top_p: float = F(1.0, en="Top-p sampling.", zh="Top-p 采样。", gt=0, le=1)
    temperature: float = F(1.0, en="Sampling temperature.", zh="采样温度。", gt=0, le=2)
    speed_factor: float = F(
        1.0, en="Speaking speed; above 1 is faster.", zh="语速；大于 1 更快。", ge=0.25, le=4
    )
    text_split_method: str = F(
        "cut5",
        en="How the server cuts a segment before synthesis (cut0: not at all ... cut5: at "
        "every punctuation mark).",
        zh="服务器合成前切分文本的方式（cut0：不切 …… cut5：按标点切）。",
        min_length=1,
        max_length=20,
    )
    streaming_mode: bool = F(
        True,
        en="Ask the server to stream: the first words play before the sentence is done.",
        zh="让服务器流式返回：整句合成完之前就能先播放开头。",
    )


class CosyVoiceConfig(Section):
    """CosyVoice's FastAPI server (`runtime/python/fastapi/server.py`)."""

    base_url: str = F(
        "http://127.0.0.1:50000",
        en="Address of CosyVoice's FastAPI server (runtime/python/fastapi/server.py "
        "--port 50000); not its gradio web UI.",
        zh="CosyVoice 的 FastAPI 服务地址（runtime/python/fastapi/server.py --port 50000）；"
        "不是它的 gradio 网页界面。",
        max_length=MAX_URL,
    )
    mode: Literal["sft", "zero_shot"] = F(
        "zero_shot",
        en="zero_shot: the voice of the reference clip (prompt_wav_path, prompt_text). sft: "
        "a speaker built into the model (spk_id; CosyVoice-300M-SFT has them).",
        zh="zero_shot：克隆参考音频的声音（prompt_wav_path、prompt_text）。sft：模型自带的"
        "说话人（spk_id；CosyVoice-300M-SFT 带有）。",
    )
    spk_id: str = F(
        "中文女",
        en="Speaker for sft: 中文女, 中文男, 日语男, 粤语女, 英文女, 英文男 or 韩语女.",
        zh="sft 模式的说话人：中文女、中文男、日语男、粤语女、英文女、英文男或韩语女。",
        max_length=200,
    )
    prompt_wav_path: str = F(
        "",
        en="Reference clip for zero_shot (a WAV file here, 3 to 10 s); sent with each request.",
        zh="zero_shot 模式的参考音频（本机上的 WAV 文件，3 到 10 秒）；随每个请求发送。",
        max_length=MAX_URL,
    )
    prompt_text: str = F(
        "",
        en="What is said in the reference clip (zero_shot).",
        zh="参考音频中所说的内容（zero_shot）。",
        max_length=MAX_TEXT,
    )
    sample_rate: int = F(
        24000,
        en="Sample rate of the model's audio: 24000 for CosyVoice2 and 3, 22050 for "
        "CosyVoice 1 (300M). The server sends raw samples and does not say.",
        zh="模型输出的采样率：CosyVoice2 和 3 为 24000，CosyVoice 1（300M）为 22050。"
        "服务器只发送原始采样，不告知采样率。",
        ge=8000,
        le=48000,
    )


class FishSpeechConfig(Section):
    """Fish Speech's `tools/api_server.py`, or Fish Audio's hosted API (`POST /v1/tts`)."""

    base_url: str = F(
        "http://127.0.0.1:8080",
        en="Address of a Fish Speech server (tools/api_server.py), or https://api.fish.audio "
        "for Fish Audio's hosted voices.",
        zh="Fish Speech 服务地址（tools/api_server.py），或填 https://api.fish.audio 使用 "
        "Fish Audio 的在线语音。",
        max_length=MAX_URL,
    )
    api_key: str = F(
        "",
        en="API key sent as a bearer token: needed by Fish Audio, and by a server started "
        "with --api-key. Empty reads FISH_API_KEY from the environment. Secret: never logged.",
        zh="作为 Bearer 令牌发送的 API 密钥：Fish Audio 需要，使用 --api-key 启动的服务器也需要。"
        "留空则读取环境变量 FISH_API_KEY。这是机密：不会写入日志。",
        max_length=MAX_URL,
    )
    reference_id: str = F(
        "",
        en="Voice to speak with: a Fish Audio model id (from https://fish.audio/m/<id>), or "
        "a reference saved on your server. Empty uses the server's default voice.",
        zh="使用的声音：Fish Audio 的模型 id（https://fish.audio/m/<id>），或保存在你的服务器上"
        "的参考音色。留空使用服务器的默认声音。",
        max_length=255,
    )
    model: str = F(
        "s2-pro",
        en="Fish Audio model (the `model` header): s2-pro, s1...",
        zh="Fish Audio 的模型（`model` 请求头）：s2-pro、s1 等。",
        min_length=1,
        max_length=100,
    )
    latency: Literal["normal", "balanced"] = F(
        "balanced",
        en="balanced answers sooner, normal sounds a little better.",
        zh="balanced 响应更快，normal 音质略好。",
    )
    format: Literal["wav", "pcm"] = F(
        "wav",
        en="Audio format asked for. A self-hosted server only makes wav.",
        zh="请求的音频格式。自建服务器只支持 wav。",
    )
    sample_rate: int = F(
        44100,
        en="Sample rate asked of Fish Audio, and that of a server streaming bare samples "
        "(Fish Speech's own decoder: 44100).",
        zh="向 Fish Audio 请求的采样率；也是只发送原始采样的服务器的采样率（Fish Speech 自带的"
        "解码器为 44100）。",
        ge=8000,
        le=48000,
    )
