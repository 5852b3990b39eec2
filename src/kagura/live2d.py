"""The model registry (Live2D and VRM): the protocol's `model_info` entries, by name.

Kagura ships entries for its default models (installed from npm at set-up); a user adds
their own by dropping a `model_dict.json` (the Open-LLM-VTuber format: a list of entries)
into the models folder. Open-LLM-VTuber keeps that file beside its `live2d-models` folder
instead, so a models folder without one uses the file beside it: pointing
`system.models_dir` at that project's folder is enough.

An entry whose `url` is a `.vrm` file is a VRM (3D) model, drawn by the pages with three.js;
its `emotionMap` maps Kagura's tags to VRM expression names, and when the entry has none
the VRM emotion presets are used (docs/vrm.md).
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

log = logging.getLogger(__name__)


class MotionRef(BaseModel):
    group: str
    index: int = 0


# Kagura's emotion tags → VRM 1.0's emotion presets (every VRM model has these names; a
# VRM 0.0 model's joy, sorrow and fun are read as happy, sad and relaxed by the pages).
VRM_EMOTION_MAP: dict[str, int | str] = {
    "neutral": "neutral",
    "joy": "happy",
    "anger": "angry",
    "sadness": "sad",
    "relaxed": "relaxed",
    "surprise": "surprised",
}


def is_vrm(url: str) -> bool:
    """The model file is VRM (glTF binary): known by its name, as the pages know it."""
    return urlsplit(url).path.lower().endswith(".vrm")


class ModelInfo(BaseModel):
    """One Live2D or VRM model, with the field names the frontend expects (camelCase)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    description: str = ""
    url: str
    kScale: float = 0.5
    initialXshift: float = 0
    initialYshift: float = 0
    idleMotionGroupName: str = "Idle"
    emotionMap: dict[str, int | str] = Field(default_factory=dict)
    tapMotions: dict[str, dict[str, float]] = Field(default_factory=dict)
    # Kagura's extension: emotions performed as motions, for models without expressions.
    emotionMotions: dict[str, MotionRef] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _vrm_emotions(self) -> ModelInfo:
        """A VRM entry without an emotionMap gets the VRM presets: the LLM learns its tags
        from the map, so without one the character could show no feeling. An explicit empty
        map stays empty."""
        if "emotionMap" not in self.model_fields_set and is_vrm(self.url):
            self.emotionMap = dict(VRM_EMOTION_MAP)
        return self

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def motions_for(self, text_tags: list[str]) -> list[dict[str, Any]]:
        lowered = {k.lower(): v for k, v in self.emotionMotions.items()}
        return [lowered[t.lower()].model_dump() for t in text_tags if t.lower() in lowered]


MODEL_DICT = "model_dict.json"


def model_dict_path(models_dir: Path) -> Path | None:
    """The user's registry: in the models folder, else beside it (Open-LLM-VTuber's place)."""
    for candidate in (models_dir / MODEL_DICT, models_dir.parent / MODEL_DICT):
        if candidate.is_file():
            return candidate
    return None


def load_registry(models_dir: Path) -> dict[str, ModelInfo]:
    """Shipped entries, overridden or extended by the user's `model_dict.json` when present."""
    shipped = resources.files("kagura.resources").joinpath(MODEL_DICT).read_text("utf-8")
    registry = {m.name: m for m in _parse(json.loads(shipped), "the shipped model_dict.json")}
    user_file = model_dict_path(models_dir)
    if user_file is not None:
        try:
            entries = json.loads(user_file.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("ignoring %s: %s", user_file, exc)
        else:
            registry.update({m.name: m for m in _parse(entries, str(user_file))})
    return registry


def _parse(entries: Any, origin: str) -> list[ModelInfo]:
    if not isinstance(entries, list):
        log.warning("ignoring %s: expected a list of model entries", origin)
        return []
    models = []
    for i, entry in enumerate(entries):
        try:
            models.append(ModelInfo.model_validate(entry))
        except ValidationError as exc:
            log.warning("ignoring model entry %d in %s: %s", i, origin, exc.errors()[0]["msg"])
    return models
