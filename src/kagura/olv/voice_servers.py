"""Open-LLM-VTuber's voice-server TTS entries as Kagura's engines for the same servers.

Field names are those of that project's `config_templates/conf.default.yaml` (v1.2):
`gpt_sovits_tts` (`api_url` ending in /tts, `text_lang`, `ref_audio_path`, `prompt_lang`,
`prompt_text`, `text_split_method`, `media_type`, `streaming_mode`), `cosyvoice_tts` and
`cosyvoice2_tts` (`client_url` of CosyVoice's gradio web UI, `mode_checkbox_group`,
`sft_dropdown`, `prompt_text`, `prompt_wav_upload_url`) and `fish_api_tts` (`api_key`,
`reference_id`, `latency`, `base_url`). That project talks to CosyVoice's gradio demo;
Kagura talks to its FastAPI server, which the line for it says.
"""

from __future__ import annotations

from typing import Any

from .layout import OlvLayout, text
from .report import Line

Section = dict[str, Any]

VOICE_SERVERS = frozenset({"gpt_sovits_tts", "cosyvoice_tts", "cosyvoice2_tts", "fish_api_tts"})
# The gradio demo's modes (webui.py's inference_mode_list) Kagura's engine has.
COSYVOICE_MODES = {"预训练音色": "sft", "3s极速复刻": "zero_shot"}
COSYVOICE_RATES = {"cosyvoice_tts": 22050, "cosyvoice2_tts": 24000}
GPT_SOVITS_URL = "http://127.0.0.1:9880/tts"
COSYVOICE_URL = "http://127.0.0.1:50000/"
FISH_URL = "https://api.fish.audio"
LATENCIES = ("normal", "balanced")
LANGUAGE_MAX = 20


def import_voice_server(
    layout: OlvLayout,
    engine: str,
    entry: dict[str, Any],
    fallback: tuple[Section, str],
    key_note: str,
) -> tuple[Section, list[Line]]:
    """The `tts` section for `engine`'s entry, or `fallback` (section, its description)
    with a line saying why."""
    if engine == "gpt_sovits_tts":
        return _gpt_sovits(entry)
    if engine == "fish_api_tts":
        return _fish(entry, key_note)
    return _cosyvoice(layout, engine, entry, fallback)


def _gpt_sovits(entry: dict[str, Any]) -> tuple[Section, list[Line]]:
    url = text(entry, "api_url", GPT_SOVITS_URL).rstrip("/")
    base_url = url.removesuffix("/tts")
    section: Section = {"base_url": base_url}
    for key in ("text_lang", "prompt_lang", "text_split_method"):
        value = text(entry, key)
        if value and len(value) <= LANGUAGE_MAX:
            section[key] = value
    for key in ("ref_audio_path", "prompt_text"):
        section[key] = text(entry, key)
    notes = ["streamed (streaming_mode on)"]
    if text(entry, "media_type", "wav") != "wav":
        notes.append("Kagura asks for wav")
    if not section["ref_audio_path"]:
        notes.append("ref_audio_path is empty: set tts.gpt_sovits.ref_audio_path")
    source = f"gpt_sovits_tts: {section['ref_audio_path'] or '-'}"
    line = Line("TTS", source, f"tts.provider gpt_sovits at {base_url}", "; ".join(notes))
    return {"provider": "gpt_sovits", "gpt_sovits": section}, [line]


def _cosyvoice(
    layout: OlvLayout, engine: str, entry: dict[str, Any], fallback: tuple[Section, str]
) -> tuple[Section, list[Line]]:
    base_url = text(entry, "client_url", COSYVOICE_URL).rstrip("/")
    gradio_mode = text(entry, "mode_checkbox_group")
    mode = COSYVOICE_MODES.get(gradio_mode)
    server = (
        "Kagura uses CosyVoice's FastAPI server (runtime/python/fastapi/server.py), not the "
        f"gradio web UI: start it at {base_url}"
    )
    if mode is None:
        note = (
            f"the {gradio_mode or 'unset'} mode has no counterpart; Kagura speaks with a "
            "built-in speaker (sft) or a reference clip (zero_shot): set tts.provider: "
            f"cosyvoice and tts.cosyvoice by hand. {server}"
        )
        return fallback[0], [Line("TTS", f"{engine}: {gradio_mode}", fallback[1], note, False)]
    section: Section = {"base_url": base_url, "mode": mode}
    section["sample_rate"] = COSYVOICE_RATES[engine]
    notes = [server]
    if mode == "sft":
        section["spk_id"] = text(entry, "sft_dropdown")
        described = section["spk_id"] or "-"
    else:
        section["prompt_text"] = text(entry, "prompt_text")
        clip = text(entry, "prompt_wav_upload_url")
        local = layout.resolve(clip) if clip and "://" not in clip else None
        if local is not None and local.is_file():
            section["prompt_wav_path"] = str(local)
        else:
            notes.append(
                f"the reference clip {clip or '(none)'} is not a file here: save it and set "
                "tts.cosyvoice.prompt_wav_path"
            )
        described = "zero_shot"
    result = f"tts.provider cosyvoice ({mode}) at {base_url}"
    line = Line("TTS", f"{engine}: {described}", result, "; ".join(notes))
    return {"provider": "cosyvoice", "cosyvoice": section}, [line]


def _fish(entry: dict[str, Any], key_note: str) -> tuple[Section, list[Line]]:
    base_url = text(entry, "base_url", FISH_URL).rstrip("/")
    section: Section = {"base_url": base_url, "reference_id": text(entry, "reference_id")}
    key = text(entry, "api_key")
    notes = []
    if key:
        section["api_key"] = key
    else:
        notes.append("no api_key: Kagura reads FISH_API_KEY from the environment")
    if key_note:
        notes.append(key_note)
    latency = text(entry, "latency")
    if latency in LATENCIES:
        section["latency"] = latency
    source = f"fish_api_tts: {section['reference_id'] or '-'}"
    line = Line("TTS", source, f"tts.provider fish_speech at {base_url}", "; ".join(notes))
    return {"provider": "fish_speech", "fish_speech": section}, [line]
