"""Tests for kagura.config: schema, loading, env substitution, errors, rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from kagura.config import (
    ConfigError,
    KaguraConfig,
    deep_merge,
    default_config_path,
    load_config,
    render_default_yaml,
)
from kagura.config.fields import section_model

REPO = Path(__file__).resolve().parents[1]
SHIPPED_PRESETS = REPO / "characters"


def field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted path of every field (sections and leaves) in the model tree."""
    paths: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(path)
        sub = section_model(field)
        if sub is not None:
            paths.extend(field_paths(sub, path + "."))
    return paths


def all_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for name, field in model.model_fields.items():
        out.append((f"{prefix}{name}", field))
        sub = section_model(field)
        if sub is not None:
            out.extend(all_fields(sub, f"{prefix}{name}."))
    return out


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_text(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


# --- schema -----------------------------------------------------------------------------


def test_field_walk_reaches_nested_sections() -> None:
    paths = field_paths(KaguraConfig)
    assert "llm.openai.extra_body" in paths
    assert "tts.piper.speaker_id" in paths
    assert len(paths) > 70


def test_every_field_has_english_and_chinese_description() -> None:
    missing = []
    for path, field in all_fields(KaguraConfig):
        en = field.description
        extra = field.json_schema_extra
        zh = extra.get("description_zh") if isinstance(extra, dict) else None
        if not (isinstance(en, str) and en.strip()):
            missing.append(f"{path}: en")
        if not (isinstance(zh, str) and zh.strip()) or zh == en:
            missing.append(f"{path}: zh")
    assert missing == []


def test_every_model_forbids_unknown_keys() -> None:
    models = [KaguraConfig] + [section_model(f) for _, f in all_fields(KaguraConfig)]
    for model in models:
        if model is not None:
            assert model.model_config.get("extra") == "forbid", model.__name__


def test_defaults_match_the_brief() -> None:
    cfg = KaguraConfig()
    assert (cfg.system.host, cfg.system.port) == ("127.0.0.1", 12393)
    assert cfg.llm.provider == "smollm2"
    assert cfg.tts.provider == "piper"
    assert (cfg.asr.whisper.model, cfg.asr.whisper.language) == ("tiny.en", "auto")  # English
    assert cfg.character.live2d_model == "haru"
    assert cfg.stage.enabled
    assert cfg.live.proxy_url == "ws://127.0.0.1:12393/proxy-ws" and not cfg.live.bilibili.room_ids


# --- shipped default files --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipped_default_file_is_rendered_output(lang: Any) -> None:
    path = default_config_path(lang)
    assert path.read_text(encoding="utf-8") == render_default_yaml(lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipped_default_file_loads_and_is_complete(lang: Any) -> None:
    path = default_config_path(lang)
    load_config(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    absent = []
    for dotted in field_paths(KaguraConfig):
        node: Any = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                absent.append(dotted)
                break
            node = node[part]
    assert absent == []


def test_english_default_file_equals_model_defaults() -> None:
    assert load_config(default_config_path("en")).model_dump() == KaguraConfig().model_dump()


def test_chinese_default_file_differs_only_in_the_overrides() -> None:
    zh = load_config(default_config_path("zh"))
    assert zh.character.human_name == "主播"
    assert zh.tts.provider == "espeak"
    assert zh.tts.espeak.voice == "cmn"
    assert "虚拟主播" in zh.character.persona
    expected = KaguraConfig().model_dump()
    expected["character"].update(human_name="主播", persona=zh.character.persona)
    expected["tts"]["provider"] = "espeak"
    expected["tts"]["espeak"]["voice"] = "cmn"
    assert zh.widget.idle_tips and zh.widget.idle_tips != KaguraConfig().widget.idle_tips
    expected["widget"]["idle_tips"] = zh.widget.idle_tips
    # Ears for Chinese: the multilingual model, told the language and the Chinese name.
    expected["asr"]["whisper"].update(model="base", language="zh")
    expected["stage"]["character_aliases"] = ["神乐"]
    assert zh.model_dump() == expected


def test_rendered_file_comments_every_field_in_its_language() -> None:
    text = render_default_yaml("zh")
    assert "# 服务器的 TCP 端口。\n  port: 12393" in text
    assert "# TCP port of the server.\n  port: 12393" in render_default_yaml("en")


# --- loading ----------------------------------------------------------------------------


def test_none_gives_defaults() -> None:
    assert load_config(None).model_dump() == KaguraConfig().model_dump()


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "# nothing here\n")
    assert load_config(path).model_dump() == KaguraConfig().model_dump()


def test_partial_file_overrides_only_given_fields(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "llm:\n  temperature: 1.5\n  openai:\n    model: x\n")
    cfg = load_config(path)
    assert cfg.llm.temperature == 1.5
    assert cfg.llm.openai.model == "x"
    assert cfg.llm.openai.base_url == "http://127.0.0.1:11434/v1"


def test_section_with_every_key_commented_out_is_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "llm:\n  # temperature: 1\ntts:\n  piper:\n")
    cfg = load_config(path)
    assert cfg.llm.temperature == 0.7
    assert cfg.tts.piper.length_scale == 1.0


# --- environment substitution -----------------------------------------------------------


def test_env_var_is_substituted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGURA_TEST_KEY", "sk-123")
    monkeypatch.setenv("KAGURA_TEST_ORIGIN", "example.com")
    path = write(
        tmp_path / "conf.yaml",
        "llm:\n  openai:\n    api_key: ${KAGURA_TEST_KEY}\n"
        "system:\n  allowed_origins: ['https://${KAGURA_TEST_ORIGIN}']\n",
    )
    cfg = load_config(path)
    assert cfg.llm.openai.api_key == "sk-123"
    assert cfg.system.allowed_origins == ["https://example.com"]


def test_env_default_used_when_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAGURA_TEST_PORT", raising=False)
    monkeypatch.delenv("KAGURA_TEST_HOST", raising=False)
    path = write(
        tmp_path / "conf.yaml",
        "system:\n  port: ${KAGURA_TEST_PORT:-8080}\n  host: '${KAGURA_TEST_HOST:-0.0.0.0}'\n"
        "  auth_token: '${KAGURA_TEST_HOST:-}'\n",
    )
    cfg = load_config(path)
    assert cfg.system.port == 8080  # a substituted string still validates as an int
    assert cfg.system.host == "0.0.0.0"
    assert cfg.system.auth_token == ""


def test_env_set_value_beats_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGURA_TEST_PORT", "9000")
    path = write(tmp_path / "conf.yaml", "system:\n  port: ${KAGURA_TEST_PORT:-8080}\n")
    assert load_config(path).system.port == 9000


def test_escaped_reference_is_kept_literally(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "system:\n  auth_token: 'a$${NOT_A_VAR}b'\n")
    assert load_config(path).system.auth_token == "a${NOT_A_VAR}b"


def test_unset_env_var_names_variable_field_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAGURA_TEST_MISSING", raising=False)
    path = write(tmp_path / "conf.yaml", "llm:\n  openai:\n    api_key: ${KAGURA_TEST_MISSING}\n")
    text = error_text(path)
    assert "KAGURA_TEST_MISSING" in text
    assert "llm.openai.api_key" in text
    assert "conf.yaml" in text


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "problem"),
    [
        (
            "llm:\n  temperature: 5\n",
            "llm.temperature: Input should be less than or equal to 2 (got 5)",
        ),
        (
            "llm:\n  tempreature: 1\n",
            "llm.tempreature: unknown field (did you mean 'temperature'?)",
        ),
    ],
    ids=["out-of-range", "unknown-key-suggests-the-closest-field"],
)
def test_a_bad_setting_is_one_line_naming_the_file_and_the_field(
    tmp_path: Path, yaml: str, problem: str
) -> None:
    path = write(tmp_path / "conf.yaml", yaml)
    assert error_text(path) == f"{path}: {problem}"


def test_wrong_type_and_bad_choice_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "system:\n  port: abc\ntts:\n  provider: festival\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.problems) == 2  # one line per problem
    text = str(info.value)
    assert f"{path}: system.port: " in text and "'abc'" in text
    assert f"{path}: tts.provider: " in text and "'festival'" in text


def test_a_retired_field_says_what_became_of_it(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "conversation:\n  first_segment_min_words: 3\n")
    text = error_text(path)
    assert text.startswith(
        f"{path}: conversation.first_segment_min_words: this setting was removed"
    )
    assert "first clause boundary" in text and "delete the line" in text


def test_unknown_section_and_nested_key_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "lm: {}\ntts:\n  piper:\n    lenght_scale: 1\n")
    text = error_text(path)
    assert "lm: unknown field (did you mean 'llm'?)" in text
    assert "tts.piper.lenght_scale: unknown field (did you mean 'length_scale'?)" in text


def test_cross_field_check_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "llm:\n  memory_budget_tokens: 4000\n")
    text = error_text(path)
    assert f"{path}: llm: " in text and "n_ctx" in text


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "system:\n  port: 1\n  host: [unclosed\n")
    text = error_text(path)
    assert str(path) in text
    assert "line " in text and "column " in text
    assert "YAML syntax error" in text


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert error_text(path) == f"{path}: file not found"


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "conf.yaml", "- a\n- b\n")
    text = error_text(path)
    assert str(path) in text and "mapping" in text


# --- paths ------------------------------------------------------------------------------


def test_relative_paths_resolve_against_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "cfgdir" / "conf.yaml", "system:\n  data_dir: state\n")
    monkeypatch.chdir(tmp_path)  # a different working directory must not matter
    cfg = load_config(Path("cfgdir/conf.yaml"))
    assert cfg.resolve_path(cfg.system.data_dir) == path.parent.resolve() / "state"
    assert cfg.resolve_path("/abs/dir") == Path("/abs/dir")


def test_relative_paths_without_file_use_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None).resolve_path("data") == Path.cwd() / "data"


# --- deep_merge -------------------------------------------------------------------------


def test_deep_merge_merges_mappings_and_leaves_inputs_alone() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    override = {"a": {"y": [3]}, "c": {"z": 1}}
    merged = deep_merge(base, override)
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1, "c": {"z": 1}}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    merged["c"]["z"] = 2
    assert override["c"] == {"z": 1}
