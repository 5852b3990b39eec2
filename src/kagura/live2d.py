"""The Live2D model registry: the protocol's `model_info` entries, by name.

Kagura ships entries for its default models (installed from npm at set-up); a user adds
their own by dropping a `model_dict.json` (the Open-LLM-VTuber format: a list of entries)
into the models folder. Open-LLM-VTuber keeps that file beside its `live2d-models` folder
instead, so a models folder without one uses the file beside it: pointing
`system.models_dir` at that project's folder is enough.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)


class MotionRef(BaseModel):
    group: str
    index: int = 0


class ModelInfo(BaseModel):
    """One Live2D model, with the field names the frontend expects (camelCase)."""

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
