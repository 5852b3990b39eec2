"""Plan an import (what would be written, and a line for every part), then write it.

Nothing is written until everything has been read and checked: the config is validated by
Kagura's own loader before it replaces anything, an existing file is only overwritten with
`force`, and Open-LLM-VTuber's own files are never written to. The folders (models,
backgrounds, avatars, the built frontend) are used where they are, not copied.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kagura.auth import is_loopback
from kagura.config import ConfigError, load_config

from .character import character_section, import_presets, main_character_lines, model_lines
from .engines import import_asr, import_llm, import_tts, import_vad
from .layout import OlvImportError, OlvLayout, text
from .report import Line

PRESETS_DIR = "characters"
FOLDERS = {  # Kagura setting → Open-LLM-VTuber folder
    "models_dir": "live2d-models",
    "backgrounds_dir": "backgrounds",
    "avatars_dir": "avatars",
}
FRONTEND_DIR = "frontend"
FRONTEND_INDEX = "index.html"
LOOPBACK = "127.0.0.1"


@dataclass
class ImportPlan:
    source: Path  # the conf.yaml read
    output: Path  # the Kagura config to write
    config: dict[str, Any]
    presets: dict[str, dict[str, Any]]  # file name → preset
    presets_source: Path  # their characters folder
    lines: list[Line] = field(default_factory=list)

    @property
    def presets_dir(self) -> Path:
        return self.output.parent / PRESETS_DIR

    def targets(self) -> list[Path]:
        return [self.output, *(self.presets_dir / name for name in self.presets)]


def plan_import(source: Path, output: Path) -> ImportPlan:
    """Read an Open-LLM-VTuber folder (or its conf.yaml) and plan the Kagura files."""
    layout = OlvLayout.open(source)
    output = output.expanduser().resolve()
    character = layout.character
    main = character_section(character, complete=True)
    lines = main_character_lines(main)
    config: dict[str, Any] = {"system": _system(layout, lines), "character": main}
    for name, (section, more) in {
        "llm": import_llm(character),
        "tts": import_tts(layout, character),
        "asr": import_asr(layout, character),
        "vad": import_vad(character),
    }.items():
        lines.extend(more)
        if section:
            config[name] = section
    presets, preset_lines = import_presets(layout, main)
    if presets:
        config["system"]["characters_dir"] = PRESETS_DIR
    wanted = {main.get("live2d_model", "")} | {
        p["character"]["live2d_model"] for p in presets.values() if "live2d_model" in p["character"]
    }
    models_dir = Path(config["system"]["models_dir"])
    lines.extend(model_lines(layout, models_dir, wanted - {""}))
    lines.extend(preset_lines)
    if layout.conf.get("live_config"):
        note = "Kagura's live-platform clients connect to /proxy-ws: see the README"
        lines.append(Line("live", "live_config", "not imported", note, False))
    plan = ImportPlan(layout.conf_path, output, config, presets, layout.characters_dir, lines)
    _refuse_their_files(plan, layout)
    return plan


def _system(layout: OlvLayout, lines: list[Line]) -> dict[str, Any]:
    """Server address and the folders, used where they are."""
    system: dict[str, Any] = {}
    host, port = text(layout.system, "host"), layout.system.get("port")
    if host:
        system["host"] = host
    if isinstance(port, int) and not isinstance(port, bool):
        system["port"] = port
    if system:
        # Beyond this machine Kagura asks every client for a token (Open-LLM-VTuber did not).
        note = "" if is_loopback(host or LOOPBACK) else "clients need a token: `kagura tokens`"
        lines.append(Line("server", f"{host}:{port}", f"system.host/port {host}:{port}", note))
    for setting, name in FOLDERS.items():
        folder = (layout.root / name).resolve()
        system[setting] = str(folder)  # even when missing: Kagura then serves nothing there
        found = folder.is_dir()
        lines.append(
            Line(name, str(folder), f"system.{setting}", "" if found else "not found", found)
        )
    frontend = layout.folder(FRONTEND_DIR)
    if frontend is not None and (frontend / FRONTEND_INDEX).is_file():
        system["frontend_dir"] = str(frontend)
        lines.append(Line("frontend", str(frontend), "system.frontend_dir: served at /"))
    elif frontend is not None:
        note = "no index.html (run `git submodule update --init` there), not served"
        lines.append(Line("frontend", str(frontend), "Kagura's stage page at /", note, False))
    return system


def _refuse_their_files(plan: ImportPlan, layout: OlvLayout) -> None:
    """The import writes Kagura files; it never writes over Open-LLM-VTuber's."""
    theirs = {layout.conf_path.resolve(), layout.characters_dir.resolve()}
    if plan.output in theirs or plan.presets_dir.resolve() in theirs:
        raise OlvImportError(
            f"{plan.output} would write over Open-LLM-VTuber's own files: write the Kagura "
            "config in another folder (--output)"
        )


# --- writing ----------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """YAML with multi-line strings (personas) as readable blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _escape(value: Any) -> Any:
    """Kagura reads `${VAR}` in strings as environment variables; imported text is literal."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {key: _escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escape(item) for item in value]
    return value


def _yaml(data: dict[str, Any], header: list[str]) -> str:
    body = yaml.dump(_escape(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=88)
    comments = []
    for paragraph in header:
        wrapped = textwrap.wrap(
            paragraph, 86, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
        )
        comments += [f"# {line}" for line in wrapped] or ["#"]
    return "\n".join(comments) + "\n\n" + body


def config_text(plan: ImportPlan) -> str:
    header = [
        f"Imported from Open-LLM-VTuber ({plan.source}) by `kagura config import-olv`.",
        "Settings not listed here keep Kagura's defaults (`kagura config init` lists them all).",
    ]
    left = [line for line in plan.lines if not line.carried]
    if left:
        header += ["", "Not carried over as it was:"]
        header += [f"- {line.part} ({line.source}): {line.note}" for line in left if line.note]
    return _yaml(plan.config, header)


def write_import(plan: ImportPlan, *, force: bool = False) -> list[Path]:
    """Write the config and the presets; return what was written. Refuses (writing nothing)
    to overwrite a file without `force`, and to write a config Kagura cannot load."""
    existing = [path for path in plan.targets() if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise OlvImportError(f"{names} already exist; pass --force to overwrite")
    plan.output.parent.mkdir(parents=True, exist_ok=True)
    staged = plan.output.with_name(f".{plan.output.name}.importing")
    staged.write_text(config_text(plan), encoding="utf-8")
    try:
        load_config(staged)  # the same check as `kagura config check`
    except ConfigError as exc:
        staged.unlink()
        raise OlvImportError(f"the imported config does not load (a bug):\n{exc}") from None
    if plan.presets:
        plan.presets_dir.mkdir(exist_ok=True)
    header = [f"Imported from Open-LLM-VTuber ({plan.presets_source})."]
    for name, preset in plan.presets.items():
        (plan.presets_dir / name).write_text(_yaml(preset, header), encoding="utf-8")
    os.replace(staged, plan.output)
    return plan.targets()
