"""Reading ``conf.yaml`` and character presets into a validated ``KaguraConfig``.

Loading is strict on purpose: every problem becomes a ``ConfigError`` whose lines name
the file, the dotted field path and what is wrong, so a typo is fixed in seconds instead
of surfacing later as a puzzling default.
"""

from __future__ import annotations

import copy
import difflib
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from kagura.clipping import clip

from .fields import section_model
from .schema import CharacterConfig, KaguraConfig

logger = logging.getLogger(__name__)

__all__ = [
    "ConfigError",
    "apply_character_preset",
    "deep_merge",
    "list_character_presets",
    "load_config",
]


class ConfigError(Exception):
    """A configuration file could not be loaded; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --- generic helpers --------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in; neither input is modified.

    Mappings are merged key by key, recursively; anything else (scalars, lists) in
    ``override`` replaces the value in ``base``.
    """
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _short_repr(value: Any, limit: int = 60) -> str:
    return clip(repr(value), limit)  # a value quoted in an error: enough to recognise it


# --- ${VAR} substitution ----------------------------------------------------------------

# ${NAME} or ${NAME:-default}; a leading extra "$" ("$${NAME}") escapes it.
_ENV_PATTERN = re.compile(r"(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _substitute_env(value: Any, path: str, source: str, problems: list[str]) -> Any:
    """Replace ``${VAR}`` references in every string of ``value`` (keys are left alone)."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            escaped, name, default = match.groups()
            if escaped:
                return match.group(0)[1:]
            found = os.environ.get(name)
            if found is not None:
                return found
            if default is not None:
                return default
            problems.append(
                f"{source}: {path or '<top level>'}: environment variable {name} is not set "
                f"(write ${{{name}:-default}} to give a default)"
            )
            return match.group(0)

        return _ENV_PATTERN.sub(replace, value)
    if isinstance(value, dict):
        return {
            k: _substitute_env(v, _join(path, str(k)), source, problems) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute_env(v, _join(path, i), source, problems) for i, v in enumerate(value)]
    return value


# --- reading YAML -----------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    """Parse ``path`` into a mapping, with env substitution; an empty file gives ``{}``."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{source}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{source}: is a directory, not a YAML file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{source}: not valid UTF-8 text ({exc.reason})"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read file ({exc.strerror or exc})"]) from None

    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([f"{source}: {_yaml_problem(exc, text)}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: YAML syntax error: {exc}"]) from None

    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{source}: the top level must be a mapping of sections (got {type(data).__name__})"]
        )
    problems: list[str] = []
    substituted: dict[str, Any] = _substitute_env(data, "", source, problems)
    if problems:
        raise ConfigError(problems)
    return substituted


def _fill_empty_sections(data: dict[str, Any], model: type[BaseModel]) -> None:
    """Treat a section left empty (``llm:`` with every key commented out) as ``{}``."""
    for key, value in data.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        sub = section_model(field) if field is not None else None
        if sub is None:
            continue
        if value is None:
            data[key] = {}
        elif isinstance(value, dict):
            _fill_empty_sections(value, sub)


# --- validation errors ------------------------------------------------------------------


def _model_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class found by following ``loc`` from ``root``, if it leads to one."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = section_model(model.model_fields[part])
    return model


# Fields that existed once, and what became of them: an old config gets told, not puzzled.
RETIRED: dict[tuple[str, ...], str] = {
    ("conversation", "first_segment_min_words"): (
        "this setting was removed: the first segment is now cut at the first clause "
        "boundary whatever its length (see conversation.short_sentence_words); delete the line"
    ),
    ("vad", "speech_pad_ms"): (
        "this setting was replaced by voice.pre_roll_ms (the audio kept from before speech "
        "was detected); move the value there"
    ),
}


def _unknown_field(root: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    retired = RETIRED.get(tuple(str(part) for part in loc))
    if retired is not None:
        return retired
    parent = _model_at(root, loc[:-1])
    if parent is None:
        return "unknown field"
    names = list(parent.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    if close:
        return f"unknown field (did you mean '{close[0]}'?)"
    return f"unknown field (expected one of: {', '.join(names)})"


def _describe_errors(
    exc: ValidationError, source: str, root: type[BaseModel], prefix: tuple[str, ...] = ()
) -> list[str]:
    """One ``file: dotted.path: problem`` line per pydantic error."""
    lines: list[str] = []
    for error in exc.errors():
        loc = prefix + tuple(error["loc"])
        path = ""
        for part in loc:
            path = _join(path, part)
        if error["type"] == "extra_forbidden":
            problem = _unknown_field(root, loc)
        elif error["type"] == "model_type":
            # pydantic's wording names the model class, which means nothing in YAML.
            problem = f"Input should be a mapping of settings (got {_short_repr(error['input'])})"
        else:
            problem = error["msg"].removeprefix("Value error, ")
            value = error["input"]
            # A model-level check sees the whole section as input: not worth echoing.
            if not (error["type"] == "value_error" and isinstance(value, dict)):
                problem += f" (got {_short_repr(value)})"
        lines.append(f"{source}: {path or '<top level>'}: {problem}")
    return lines


# --- public API -------------------------------------------------------------------------


DEFAULT_CONFIG = Path("conf.yaml")


def config_path(given: Path | None) -> Path | None:
    """The config file a command reads: the one given, else ./conf.yaml if it exists, else
    none (the built-in defaults)."""
    if given is None and DEFAULT_CONFIG.is_file():
        return DEFAULT_CONFIG
    return given


def load_config(path: Path | str | None) -> KaguraConfig:
    """Load and validate a config file; ``None`` gives the built-in defaults.

    Relative paths inside the config resolve against the file's directory.
    """
    if path is None:
        return KaguraConfig()
    path = Path(path)
    data = _read_yaml(path)
    _fill_empty_sections(data, KaguraConfig)
    try:
        config = KaguraConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_errors(exc, str(path), KaguraConfig)) from None
    config._base_dir = path.parent.resolve()
    return config


def _preset_dir(cfg: KaguraConfig) -> Path:
    return cfg.resolve_path(cfg.system.characters_dir)


def _preset_files(directory: Path) -> list[Path]:
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    files = [p for p in entries if p.suffix in (".yaml", ".yml") and p.is_file()]
    return sorted(files, key=lambda p: p.name)


def shown_path(cfg: KaguraConfig, path: Path) -> str:
    """``path`` as messages show it: relative to the config's folder when it is inside it.

    Errors about presets reach clients; they must not reveal where the server is installed.
    """
    try:
        return str(path.resolve().relative_to(cfg.base_dir.resolve()))
    except ValueError:
        return path.name


def _load_preset(cfg: KaguraConfig, path: Path) -> CharacterConfig:
    """The character section of ``cfg`` with the preset at ``path`` merged over it."""
    source = shown_path(cfg, path)
    data = _read_yaml(path)
    unknown = [key for key in data if key != "character"]
    if unknown:
        raise ConfigError(
            [f"{source}: {key}: unknown field (a preset holds only 'character')" for key in unknown]
        )
    section = data.get("character")
    if not isinstance(section, dict):
        got = "nothing" if section is None else type(section).__name__
        raise ConfigError([f"{source}: character: must be a mapping (got {got})"])
    merged = deep_merge(cfg.character.model_dump(), section)
    try:
        return CharacterConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(
            _describe_errors(exc, source, KaguraConfig, prefix=("character",))
        ) from None


def list_character_presets(cfg: KaguraConfig) -> list[tuple[str, str]]:
    """``(filename, conf_name)`` of every valid preset in ``system.characters_dir``.

    A broken preset must not take the preset list (or the server) down with it, so it
    is skipped with a warning.
    """
    directory = _preset_dir(cfg)
    presets: list[tuple[str, str]] = []
    for path in _preset_files(directory):
        try:
            character = _load_preset(cfg, path)
        except ConfigError as exc:
            logger.warning("Skipping character preset %s:\n%s", path, exc)
            continue
        presets.append((path.name, character.conf_name))
    return presets


def apply_character_preset(cfg: KaguraConfig, filename: str) -> KaguraConfig:
    """A new config whose character section is ``filename``'s merged over ``cfg``'s.

    ``filename`` usually comes from a client, so it must be the bare name of a file in
    the presets directory; anything that could point elsewhere is refused.
    """
    directory = _preset_dir(cfg)
    unsafe = (
        not filename
        or "/" in filename
        or "\\" in filename
        or ".." in filename
        or Path(filename).is_absolute()
    )
    if unsafe:
        raise ConfigError([f"{filename!r}: not a preset file name"])
    path = next((p for p in _preset_files(directory) if p.name == filename), None)
    if path is None:
        raise ConfigError([f"{filename}: no such preset in {shown_path(cfg, directory)}"])
    character = _load_preset(cfg, path)
    # model_copy keeps the private base dir; deep so the new config shares no state.
    return cfg.model_copy(update={"character": character}, deep=True)


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> str:
    """Where a YAML error starts, and that line. PyYAML marks where it gave up (for a quote
    left open: the end of the file) and, as the context, where the construct it was reading
    began: that is the line to fix."""
    start, found = exc.context_mark, exc.problem_mark
    mark = start or found
    problem = exc.problem or "invalid YAML"
    if start is not None and exc.context:
        problem = f"{exc.context} that starts here: {problem}"
        if found is not None and found.line != start.line:
            problem += f" (at line {found.line + 1})"
    if mark is None:
        return f"YAML syntax error: {problem}"
    lines = text.splitlines()
    shown = lines[mark.line].strip() if mark.line < len(lines) else ""
    line = f"\n    {shown[:120]}" if shown else ""
    return f"line {mark.line + 1}, column {mark.column + 1}: YAML syntax error: {problem}{line}"
