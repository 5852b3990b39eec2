"""Open-LLM-VTuber's characters as Kagura's: the main one, the presets, their models.

A `character_config` names the character, its persona, the human, the avatar and the Live2D
model; the model's emotion map lives in `model_dict.json`, which Kagura reads from beside the
models folder, so pointing `system.models_dir` at that project's `live2d-models` keeps every
model and emotion map as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kagura.clipping import one_line
from kagura.config import CharacterConfig, deep_merge
from kagura.live2d import ModelInfo, load_registry

from .layout import OlvImportError, OlvLayout, mapping, read_yaml, text
from .report import Line

# Open-LLM-VTuber's character keys → Kagura's character fields.
CHARACTER_FIELDS = {
    "conf_name": "conf_name",
    "conf_uid": "conf_uid",
    "character_name": "name",
    "avatar": "avatar",
    "human_name": "human_name",
    "persona_prompt": "persona",
    "live2d_model_name": "live2d_model",
}
# Parts of a character file that a Kagura preset (a character only) cannot carry.
ENGINE_KEYS = ("agent_config", "asr_config", "tts_config", "vad_config", "tts_preprocessor_config")
MODELS_URL = "/live2d-models/"
SHOWN_CHARS = 60  # of a setting quoted in the summary table


def character_section(character: dict[str, Any], *, complete: bool) -> dict[str, str]:
    """Kagura's character fields from a `character_config`. `complete` (the main character):
    the display name falls back to the configuration's name."""
    section: dict[str, str] = {}
    for olv_key, field in CHARACTER_FIELDS.items():
        value = text(character, olv_key)
        if value or (field == "avatar" and olv_key in character):  # "": no avatar
            section[field] = value
    if complete and not section.get("name"):
        section["name"] = section.get("conf_name", "AI")
    return section


def main_character_lines(section: dict[str, str]) -> list[Line]:
    lines = [Line("character", section.get("conf_name", "-"), f"character: {section.get('name')}")]
    if "persona" in section:
        persona = one_line(section["persona"], SHOWN_CHARS)
        lines.append(Line("persona", persona, "character.persona"))
    for field, label in (("human_name", "human name"), ("avatar", "avatar")):
        if section.get(field):
            lines.append(Line(label, section[field], f"character.{field}"))
    return lines


def import_presets(
    layout: OlvLayout, main: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], list[Line]]:
    """One Kagura preset per character file (same file name), checked over the main
    character; a broken file is reported and skipped, never half-imported."""
    presets: dict[str, dict[str, Any]] = {}
    lines: list[Line] = []
    for path in layout.character_files():
        part = f"preset {path.name}"
        try:
            data = read_yaml(path)
        except OlvImportError as exc:
            lines.append(Line(part, path.name, "skipped", str(exc), False))
            continue
        character = mapping(data, "character_config")
        section = character_section(character, complete=False)
        if not section:
            lines.append(Line(part, path.name, "skipped", "no character_config in it", False))
            continue
        try:
            CharacterConfig.model_validate(deep_merge(main, section))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            note = f"{where}: {problem['msg']}"
            lines.append(Line(part, path.name, "skipped", note, False))
            continue
        presets[path.name] = {"character": section}
        extra = [key for key in ENGINE_KEYS if key in character]
        note = f"its own {', '.join(extra)} not imported: a Kagura preset sets the character only"
        name = section.get("conf_name") or section.get("name") or path.stem
        lines.append(Line(part, name, f"characters/{path.name}", note if extra else ""))
    return presets, lines


def model_lines(layout: OlvLayout, models_dir: Path, wanted: set[str]) -> list[Line]:
    """Check that every model a character uses is registered (as Kagura will read the
    registry from `models_dir`) and that its file is there."""
    dict_path, entries = layout.model_entries()
    registry = load_registry(models_dir)
    theirs = {entry.get("name") for entry in entries if isinstance(entry, dict)}
    lines: list[Line] = []
    for i, entry in enumerate(entries):
        try:
            ModelInfo.model_validate(entry)
        except ValidationError as exc:
            note = f"entry {i} is not valid ({exc.errors()[0]['msg']}): Kagura skips it"
            lines.append(Line("model_dict.json", str(dict_path), "skipped", note, False))
    for name in sorted(wanted):
        model = registry.get(name)
        if model is None:
            fallback = next(iter(registry), "haru")
            note = f"no model named {name!r} in {dict_path or 'model_dict.json'}"
            lines.append(Line("Live2D model", name, f"{fallback} (fallback)", note, False))
            continue
        emotions = ", ".join(model.emotionMap) or "none"
        result = f"{model.url} (emotions: {one_line(emotions, SHOWN_CHARS * 2 // 3)})"
        missing = ""
        if model.url.startswith(MODELS_URL):
            file = models_dir / model.url.removeprefix(MODELS_URL)
            if name in theirs and not file.is_file():
                missing = f"{file} is missing"
        lines.append(Line("Live2D model", name, result, missing, not missing))
    return lines
