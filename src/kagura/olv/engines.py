"""Open-LLM-VTuber's engine settings as Kagura's: LLM, TTS, ASR and VAD.

Kagura reaches every outside engine through OpenAI-compatible APIs, so each of that
project's OpenAI-compatible LLM entries (Ollama, LM Studio, OpenAI, DeepSeek, Groq, ...)
becomes Kagura's `openai` provider. An engine Kagura has no counterpart for is never dropped
in silence: it gets a line saying what Kagura uses instead and what the user can do.
Each function returns the Kagura section (only what differs from the defaults) and its lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .layout import OlvLayout, mapping, text
from .report import Line
from .tts_cloud import CLOUD_TTS, import_cloud_tts
from .voice_servers import VOICE_SERVERS, import_voice_server

Section = dict[str, Any]

# LLM entries spoken to with the OpenAI API, with the base URL that project uses when the
# entry gives none (None: the entry must give one).
OPENAI_COMPATIBLE_LLMS: dict[str, str | None] = {
    "openai_compatible_llm": None,
    "stateless_llm_with_template": None,
    "ollama_llm": "http://localhost:11434/v1",
    "lmstudio_llm": "http://localhost:1234/v1",
    "openai_llm": "https://api.openai.com/v1",
    "gemini_llm": "https://generativelanguage.googleapis.com/v1beta/openai/",
    "zhipu_llm": "https://open.bigmodel.cn/api/paas/v4/",
    "deepseek_llm": "https://api.deepseek.com/v1",
    "mistral_llm": "https://api.mistral.ai/v1",
    "groq_llm": "https://api.groq.com/openai/v1",
    "claude_llm": "https://api.anthropic.com",
}
BASIC_AGENT = "basic_memory_agent"
# A remote model is no 135M model on two cores: room for a real conversation and reply.
REMOTE_MEMORY_TOKENS = 4000
REMOTE_REPLY_TOKENS = 400
NO_KEY = "not-needed"
PLACEHOLDER_KEY = re.compile(r"your|api[ _-]?key here|somethingelse|default_api_key", re.I)

# Online voices Kagura has no engine for (Edge, Azure and ElevenLabs are `tts_cloud`'s).
ONLINE_TTS = {
    "minimax_tts": "MiniMax",
    "cartesia_tts": "Cartesia",
}
LOCAL_TTS = {
    "bark_tts",
    "coqui_tts",
    "melo_tts",
    "pyttsx3_tts",
    "sherpa_onnx_tts",
    "spark_tts",
    "x_tts",
}
OPENAI_TTS_URL = "http://localhost:8880/v1"  # that project's default: a local Kokoro server
OTHER_ASR = {"whisper_cpp", "whisper", "fun_asr", "azure_asr", "sherpa_onnx_asr"}
GROQ_URL = "https://api.groq.com/openai/v1"
SILERO_FRAME_MS = 32  # that project's silero counts 512-sample windows at 16 kHz
MAX_MODEL_SEARCH = 200  # model.bin files looked at under a download folder
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def api_key(entry: dict[str, Any], key: str) -> tuple[str, str]:
    """The key to write and a note when it still is the template's placeholder."""
    value = text(entry, key)
    if not value or value in ("default_api_key", "somethingelse"):
        return NO_KEY, ""
    if PLACEHOLDER_KEY.search(value):
        return value, f"the API key is still the template's placeholder: set {key} for Kagura"
    return value, ""


# --- LLM --------------------------------------------------------------------------------


def import_llm(character: dict[str, Any]) -> tuple[Section, list[Line]]:
    agent = mapping(character, "agent_config")
    choice = text(agent, "conversation_agent_choice", BASIC_AGENT)
    settings = mapping(agent, "agent_settings", BASIC_AGENT)
    lines: list[Line] = []
    if choice != BASIC_AGENT:
        lines.append(
            Line(
                "agent",
                choice,
                "Kagura's own conversation (memory and history included)",
                f"{choice} is not supported; the LLM of {BASIC_AGENT} is imported instead",
                carried=False,
            )
        )
    if settings.get("use_mcpp") is True:
        lines.append(Line("MCP tools", "use_mcpp: true", "none", "Kagura has no tool calls", False))
    provider = text(settings, "llm_provider")
    entry = mapping(agent, "llm_configs", provider)
    embedded = "llm.provider smollm2 (embedded)"
    if not provider:
        lines.append(Line("LLM", "no llm_provider", embedded, "set llm by hand", False))
        return {}, lines
    if provider == "llama_cpp_llm":
        gguf = text(entry, "model_path", "<model.gguf>")
        note = (
            f"serve the model with llama.cpp's server (llama-server -m {gguf} --port 8080), "
            "then set llm.provider: openai and llm.openai.base_url: http://127.0.0.1:8080/v1"
        )
        lines.append(Line("LLM", f"{provider}: {gguf}", embedded, note, False))
        return {}, lines
    if provider not in OPENAI_COMPATIBLE_LLMS:
        note = (
            f"unknown LLM provider {provider!r}: not imported; if it speaks the OpenAI API, "
            "set llm.provider: openai and llm.openai (base_url, model, api_key) by hand"
        )
        lines.append(Line("LLM", provider, embedded, note, False))
        return {}, lines
    base_url = text(entry, "base_url") or OPENAI_COMPATIBLE_LLMS[provider]
    model = text(entry, "model")
    if not base_url or not model:
        missing = "base_url" if not base_url else "model"
        note = f"llm_configs.{provider} has no {missing}: set llm.openai by hand"
        lines.append(Line("LLM", provider, embedded, note, False))
        return {}, lines
    notes = []
    if provider == "claude_llm":
        # Anthropic answers OpenAI clients on its /v1/ endpoint.
        if not base_url.rstrip("/").endswith("/v1"):
            base_url = base_url.rstrip("/") + "/v1/"
        notes.append("through Anthropic's OpenAI-compatible endpoint")
    if provider == "stateless_llm_with_template":
        notes.append("its prompt template is not used: the server applies the model's own")
    key, key_note = api_key(entry, "llm_api_key")
    if key_note:
        notes.append(key_note)
    openai: Section = {"base_url": base_url, "model": model, "api_key": key}
    section: Section = {
        "provider": "openai",
        "openai": openai,
        "memory_budget_tokens": REMOTE_MEMORY_TOKENS,
        "max_reply_tokens": REMOTE_REPLY_TOKENS,
    }
    temperature = entry.get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        section["temperature"] = min(2.0, max(0.0, float(temperature)))
    notes.append(f"memory {REMOTE_MEMORY_TOKENS} tokens, replies up to {REMOTE_REPLY_TOKENS}")
    result = f"llm.provider openai: {model} at {base_url}"
    lines.append(Line("LLM", f"{provider}: {model}", result, "; ".join(notes)))
    return section, lines


# --- TTS --------------------------------------------------------------------------------


def reply_language(character: dict[str, Any]) -> str:
    """The language the character speaks: from its TTS voice name ("zh-CN-XiaoxiaoNeural"),
    else Chinese when the persona is written in CJK, else English."""
    tts = mapping(character, "tts_config")
    voice = text(mapping(tts, text(tts, "tts_model")), "voice")
    match = re.match(r"([a-z]{2,3})-[A-Za-z]{2,4}\b", voice)
    if match:
        return match.group(1).lower()
    return "zh" if CJK.search(text(character, "persona_prompt")) else "en"


def fallback_tts(language: str) -> tuple[Section, str]:
    """The embedded voice for `language`: Piper for English, eSpeak NG otherwise."""
    if language == "en":
        return {}, "tts.provider piper (embedded English voice)"
    voice = "cmn" if language == "zh" else language
    return {"provider": "espeak", "espeak": {"voice": voice}}, f"tts.provider espeak ({voice})"


def import_tts(layout: OlvLayout, character: dict[str, Any]) -> tuple[Section, list[Line]]:
    tts = mapping(character, "tts_config")
    engine = text(tts, "tts_model")
    entry = mapping(tts, engine)
    fallback, fallback_text = fallback_tts(reply_language(character))
    if engine == "piper_tts":
        voice = layout.resolve(text(entry, "model_path", "models/piper/voice.onnx"))
        if not voice.is_file() or not Path(f"{voice}.json").is_file():
            note = f"the voice {voice} (or its .json) was not found: set tts.piper.model_path"
            return fallback, [Line("TTS", engine, fallback_text, note, False)]
        piper: Section = {"model_path": str(voice)}
        speaker = entry.get("speaker_id")
        if isinstance(speaker, int) and speaker > 0:
            piper["speaker_id"] = speaker
        scale = entry.get("length_scale")
        if isinstance(scale, int | float) and not isinstance(scale, bool):
            piper["length_scale"] = min(5.0, max(0.1, float(scale)))
        line = Line("TTS", f"{engine}: {voice.name}", f"tts.provider piper: {voice}")
        return {"provider": "piper", "piper": piper}, [line]
    if engine in ("openai_tts", "siliconflow_tts"):
        return _openai_tts(engine, entry)
    if engine in VOICE_SERVERS:
        _, key_note = api_key(entry, "api_key")
        return import_voice_server(layout, engine, entry, (fallback, fallback_text), key_note)
    if engine in CLOUD_TTS:
        return import_cloud_tts(engine, entry, fallback, fallback_text)
    if engine in ONLINE_TTS:
        instead = "use a service with an OpenAI-compatible /audio/speech endpoint"
        note = (
            f"{engine} is an online service ({ONLINE_TTS[engine]}) that Kagura has no engine "
            f"for; to keep a cloud voice, {instead} and set tts.provider: openai"
        )
        source = f"{engine}: {text(entry, 'voice')}".rstrip(": ")
        return fallback, [Line("TTS", source, fallback_text, note, False)]
    if engine in LOCAL_TTS:
        note = (
            f"Kagura has no {engine} engine; if your server offers an OpenAI-compatible "
            "/audio/speech endpoint, set tts.provider: openai and tts.openai.base_url"
        )
        return fallback, [Line("TTS", engine, fallback_text, note, False)]
    note = f"unknown TTS model {engine!r}: not imported" if engine else "no tts_model set"
    return fallback, [Line("TTS", engine or "-", fallback_text, note, False)]


def _openai_tts(engine: str, entry: dict[str, Any]) -> tuple[Section, list[Line]]:
    if engine == "siliconflow_tts":
        # Its speech endpoint is OpenAI's: the base URL is the part before /audio/speech.
        url = text(entry, "api_url", "https://api.siliconflow.cn/v1/audio/speech")
        base_url = url.removesuffix("/").removesuffix("/audio/speech")
        model, voice = text(entry, "default_model"), text(entry, "default_voice")
    else:
        base_url = text(entry, "base_url", OPENAI_TTS_URL)
        model, voice = text(entry, "model"), text(entry, "voice")
    openai: Section = {"base_url": base_url}
    if model:
        openai["model"] = model
    if voice:
        openai["voice"] = voice
    key, note = api_key(entry, "api_key")
    openai["api_key"] = key
    source = f"{engine}: {model or '-'} / {voice or '-'}"
    line = Line("TTS", source, f"tts.provider openai at {base_url}", note)
    return {"provider": "openai", "openai": openai}, [line]


# --- ASR --------------------------------------------------------------------------------


def _whisper_folder(layout: OlvLayout, entry: dict[str, Any]) -> Path | None:
    """A faster-whisper model folder (one with model.bin) for `model_path`: the folder
    itself, or a downloaded copy of the named model under `download_root`."""
    name = text(entry, "model_path")
    if not name:
        return None
    direct = layout.resolve(name)
    if (direct / "model.bin").is_file():
        return direct
    root = layout.resolve(text(entry, "download_root", "models/whisper"))
    if not root.is_dir():
        return None
    wanted = name.rsplit("/", 1)[-1].lower()
    for count, found in enumerate(root.rglob("model.bin")):
        if count >= MAX_MODEL_SEARCH:
            break
        if wanted in str(found.parent.relative_to(root)).lower():
            return found.parent
    return None


def import_asr(layout: OlvLayout, character: dict[str, Any]) -> tuple[Section, list[Line]]:
    asr = mapping(character, "asr_config")
    engine = text(asr, "asr_model")
    entry = mapping(asr, engine)
    embedded = "asr.provider whisper (embedded tiny.en, English only)"
    if engine == "faster_whisper":
        folder = _whisper_folder(layout, entry)
        language = text(entry, "language")
        source = f"{engine}: {text(entry, 'model_path')}"
        if folder is None:
            note = (
                "that model's folder was not found (Kagura does not download models): set "
                "asr.whisper.model_path to it"
            )
            if language and language not in ("en", "auto"):
                # Chinese and the rest: the embedded multilingual model hears them meanwhile.
                base: Section = {"model": "base", "language": language}
                result = f"asr.provider whisper (embedded multilingual base, {language})"
                return {"whisper": base}, [Line("ASR", source, result, note, False)]
            return {}, [Line("ASR", source, embedded, note, False)]
        whisper: Section = {"model_path": str(folder), "language": language}
        return {"whisper": whisper}, [Line("ASR", source, f"asr.provider whisper: {folder}")]
    if engine == "groq_whisper_asr":
        key, note = api_key(entry, "api_key")
        openai: Section = {
            "base_url": GROQ_URL,
            "model": text(entry, "model", "whisper-large-v3-turbo"),
            "api_key": key,
            "language": text(entry, "lang"),
        }
        line = Line("ASR", engine, f"asr.provider openai at {GROQ_URL}", note)
        return {"provider": "openai", "openai": openai}, [line]
    if engine in OTHER_ASR:
        note = (
            f"Kagura has no {engine} engine; for other languages, point asr.provider: openai "
            "at an OpenAI-compatible transcription server (speaches, faster-whisper-server, "
            "Groq), or use the embedded multilingual Whisper: asr.whisper.model: base"
        )
        return {}, [Line("ASR", engine, embedded, note, False)]
    note = f"unknown ASR model {engine!r}: not imported" if engine else "no asr_model set"
    return {}, [Line("ASR", engine or "-", embedded, note, False)]


# --- VAD --------------------------------------------------------------------------------


def import_vad(character: dict[str, Any]) -> tuple[Section, list[Line]]:
    vad = mapping(character, "vad_config")
    engine = vad.get("vad_model")
    if not engine:
        return {}, []  # the frontend detects speech itself, as it did there
    if engine != "silero_vad":
        note = f"unknown VAD model {engine!r}: Kagura uses silero with its defaults"
        return {}, [Line("VAD", str(engine), "vad.provider silero", note, False)]
    entry = mapping(vad, "silero_vad")
    section: Section = {}
    threshold = entry.get("prob_threshold")
    if isinstance(threshold, int | float) and 0 < threshold < 1:
        section["threshold"] = float(threshold)
    for key, field in (("required_misses", "min_silence_ms"), ("required_hits", "min_speech_ms")):
        frames = entry.get(key)
        if isinstance(frames, int) and frames >= 0:
            section[field] = min(10_000, frames * SILERO_FRAME_MS)
    settings = ", ".join(f"{k} {v}" for k, v in section.items())
    return section, [Line("VAD", "silero_vad", f"vad: {settings or 'defaults'}")]
