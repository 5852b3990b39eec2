"""An Open-LLM-VTuber folder as that project lays it out, read without changing anything.

Its root holds `conf.yaml` (written from `config_templates/conf.default.yaml` or the Chinese
`conf.ZH.default.yaml`: the same keys, other comments and defaults), `characters/` (more
characters, each a partial `character_config`), `model_dict.json` (the Live2D models),
`live2d-models/`, `backgrounds/`, `avatars/` and `frontend/` (the built web frontend).
Everything in `conf.yaml` except `system_config` and `live_config` lives under
`character_config`, the engines included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONF_FILE = "conf.yaml"
MODEL_DICT = "model_dict.json"
DEFAULT_CHARACTERS_DIR = "characters"
# Top-level keys of the configs from before v1.0, which had no `character_config`.
PRE_V1_KEYS = {"LLM_PROVIDER", "PERSONA_CHOICE", "TTS_MODEL", "ASR_MODEL", "LIVE2D"}


class OlvImportError(Exception):
    """The Open-LLM-VTuber files cannot be imported; the message says which and why."""


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (an empty file gives `{}`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OlvImportError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise OlvImportError(f"{path}: not valid UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise OlvImportError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise OlvImportError(f"{path}: {where}YAML syntax error: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise OlvImportError(f"{path}: YAML syntax error: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OlvImportError(f"{path}: the top level must be a mapping of sections")
    return data


def mapping(data: Any, *keys: str) -> dict[str, Any]:
    """`data[k1][k2]...` when every step is a mapping, else `{}` (sections may be missing)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def text(data: dict[str, Any], key: str, default: str = "") -> str:
    """A string setting; numbers are accepted as their text, anything else is `default`."""
    value = data.get(key)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return default


@dataclass(frozen=True)
class OlvLayout:
    root: Path
    conf_path: Path
    conf: dict[str, Any]

    @classmethod
    def open(cls, path: Path) -> OlvLayout:
        """The folder at `path`, or the folder of the `conf.yaml` at `path`."""
        path = path.expanduser().resolve()
        conf_path = path / CONF_FILE if path.is_dir() else path
        if path.is_dir() and not conf_path.is_file():
            raise OlvImportError(
                f"{path}: no {CONF_FILE} here; give the Open-LLM-VTuber folder that holds "
                f"its {CONF_FILE} (or the file itself)"
            )
        conf = read_yaml(conf_path)
        if not isinstance(conf.get("character_config"), dict):
            if PRE_V1_KEYS & set(conf):
                raise OlvImportError(
                    f"{conf_path}: an Open-LLM-VTuber config from before v1.0; upgrade it "
                    "with that project's upgrade.py first"
                )
            raise OlvImportError(
                f"{conf_path}: not an Open-LLM-VTuber conf.yaml (it has no character_config "
                "section)"
            )
        return cls(conf_path.parent, conf_path, conf)

    @property
    def character(self) -> dict[str, Any]:
        return mapping(self.conf, "character_config")

    @property
    def system(self) -> dict[str, Any]:
        return mapping(self.conf, "system_config")

    def folder(self, name: str) -> Path | None:
        """`root/name` when it is a folder."""
        folder = (self.root / name).resolve()
        return folder if folder.is_dir() else None

    def resolve(self, setting: str) -> Path:
        """A path from the config: Open-LLM-VTuber runs from its root, so relative paths
        are relative to it."""
        path = Path(setting).expanduser()
        return path if path.is_absolute() else (self.root / path).resolve()

    @property
    def characters_dir(self) -> Path:
        return self.resolve(text(self.system, "config_alts_dir", DEFAULT_CHARACTERS_DIR))

    def character_files(self) -> list[Path]:
        folder = self.characters_dir
        if not folder.is_dir():
            return []
        found = [p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
        return sorted(found, key=lambda p: p.name)

    def model_entries(self) -> tuple[Path | None, list[Any]]:
        """`model_dict.json` and its entries (none when there is no such file)."""
        path = self.root / MODEL_DICT
        if not path.is_file():
            return None, []
        try:
            entries = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OlvImportError(f"{path}: not a readable JSON file ({exc})") from None
        if not isinstance(entries, list):
            raise OlvImportError(f"{path}: expected a list of model entries")
        return path, entries
