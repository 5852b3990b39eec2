"""Config fields that carry their own documentation, in English and Chinese.

Every field is declared with `F(default, en=..., zh=...)`; the commented default files and
`kagura config init` are rendered from these descriptions, so they are never out of date.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

Lang = Literal["en", "zh"]


def F(default: Any = PydanticUndefined, *, en: str, zh: str, **kw: Any) -> Any:
    """Declare a field with its English and Chinese description.

    Returns ``Any`` (like ``pydantic.Field``) so it can stand in for any annotation.
    """
    return Field(default, description=en, json_schema_extra={"description_zh": zh}, **kw)


def describe(field: FieldInfo, lang: Lang) -> str:
    """The description of ``field`` in ``lang`` ("" when it has none)."""
    if lang == "en":
        return field.description or ""
    extra = field.json_schema_extra
    if isinstance(extra, dict):
        text = extra.get("description_zh")
        if isinstance(text, str):
            return text
    return ""


def section_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model class of a field that holds a nested section, else ``None``."""
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


class Section(BaseModel):
    """Base of every config model: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
