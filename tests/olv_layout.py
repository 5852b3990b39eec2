"""An Open-LLM-VTuber folder as a user of that project has it, written by the tests.

`conf.yaml` follows the shape of that project's two templates (v1.2): the English
`conf.default.yaml` and the Chinese `conf.ZH.default.yaml`, which hold the same keys in a
different order, with other comments and Chinese defaults. Beside it: `characters/` (an
alternative character), `model_dict.json` (the user's models), `live2d-models/`,
`backgrounds/`, `avatars/` and the built `frontend/`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from .olv_templates import CHINESE, ENGLISH

PNG = bytes.fromhex(  # a 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d3a1c6"
    "0000000049454e44ae426082"
)

# Engine settings as both templates ship them (the tests change what they need).
ENGINES = {
    "llm_provider": "ollama_llm",
    "llm_base_url": "http://localhost:11434/v1",
    "llm_api_key": "somethingelse",
    "llm_model": "qwen2.5:latest",
    "extra_llm": "",
    "asr_model": "sherpa_onnx_asr",
    "tts_model": "edge_tts",
    "tts_base_url": "http://localhost:8880/v1",
    "vad_model": "null",
}
CHARACTERS: dict[str, dict[str, str]] = {
    "en": {
        "conf_name": "mira_conf",
        "conf_uid": "mira_001",
        "model": "mira",
        "name": "Mira",
        "avatar": "mira.png",
        "human": "Sam",
        "persona": "You are Mira, a cheerful fox spirit who streams from a mountain shrine.\n"
        "You love puns and tea.",
    },
    "zh": {
        "conf_name": "米粒",
        "conf_uid": "zh_mili_01",
        "model": "mira",
        "name": "米粒",
        "avatar": "mira.png",
        "human": "主播",
        "persona": "你是米粒，一个开朗的狐仙主播。\n你喜欢喝茶和讲笑话。",
    },
}

ALT_CHARACTER = """\
character_config:
  conf_name: "aiko_conf"
  conf_uid: "aiko_001"
  live2d_model_name: "kei"
  character_name: "Aiko"
  avatar: "aiko.png"
  persona_prompt: |
    You are Aiko, a calm librarian who answers in rhyme.

  tts_config:
    tts_model: 'edge_tts'
    edge_tts:
      voice: 'en-US-AnaNeural'

# you may add more custom settings
# Options unset will remain unchanged when switching character
"""


def model_entry(name: str, emotions: dict[str, int]) -> dict[str, Any]:
    return {
        "name": name,
        "description": "",
        "url": f"/live2d-models/{name}/runtime/{name}.model3.json",
        "kScale": 0.5,
        "initialXshift": 0,
        "initialYshift": 0,
        "kXOffset": 1150,  # that project's own key: kept as is
        "idleMotionGroupName": "Idle",
        "emotionMap": emotions,
        "tapMotions": {"HitAreaHead": {"": 1}, "HitAreaBody": {"": 1}},
    }


MODELS = [
    model_entry("mira", {"neutral": 0, "joy": 3, "sadness": 1}),
    model_entry("kei", {"neutral": 0, "anger": 2}),
]


def write_olv(root: Path, shape: Literal["en", "zh"] = "en", **values: str) -> Path:
    """The whole folder; `values` fill the template (see `ENGINES`, `CHARACTERS`).
    Returns conf.yaml."""
    settings = {**ENGINES, **CHARACTERS[shape], **values}
    settings["persona"] = "\n".join(f"    {line}" for line in settings["persona"].split("\n"))
    template = ENGLISH if shape == "en" else CHINESE
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "conf.yaml"
    conf.write_text(template.substitute(settings), "utf-8")
    (root / "characters").mkdir()
    (root / "characters" / "alt_aiko.yaml").write_text(ALT_CHARACTER, "utf-8")
    (root / "characters" / "README.md").write_text("Put characters here.", "utf-8")
    (root / "model_dict.json").write_text(json.dumps(MODELS, indent=4), "utf-8")
    for entry in MODELS:
        runtime = root / "live2d-models" / entry["name"] / "runtime"
        runtime.mkdir(parents=True)
        model3 = {"Version": 3, "FileReferences": {"Moc": f"{entry['name']}.moc3"}}
        (runtime / f"{entry['name']}.model3.json").write_text(json.dumps(model3), "utf-8")
    # That project also ships a Cubism 4 "shizuku", named like Kagura's sample model.
    shizuku = root / "live2d-models" / "shizuku" / "runtime"
    shizuku.mkdir(parents=True)
    (shizuku / "shizuku.model3.json").write_text('{"Version": 3}', "utf-8")
    (root / "backgrounds").mkdir()
    (root / "backgrounds" / "room.png").write_bytes(PNG)
    (root / "avatars").mkdir()
    (root / "avatars" / "mira.png").write_bytes(PNG)
    (root / "frontend").mkdir()
    (root / "frontend" / "index.html").write_text("<title>Open-LLM-VTuber</title>", "utf-8")
    return conf
