"""Character presets: listing, applying (deep merge over `character`), refusing traversal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kagura.config import (
    CharacterConfig,
    ConfigError,
    KaguraConfig,
    apply_character_preset,
    list_character_presets,
    load_config,
)

from .test_config import SHIPPED_PRESETS, write


def config_with_presets(tmp_path: Path, presets_dir: Path, extra: str = "") -> KaguraConfig:
    text = f"system:\n  characters_dir: '{presets_dir}'\n{extra}"
    return load_config(write(tmp_path / "conf.yaml", text))


def test_shipped_presets_are_listed() -> None:
    cfg = KaguraConfig.model_validate({"system": {"characters_dir": str(SHIPPED_PRESETS)}})
    assert list_character_presets(cfg) == [("kagura.yaml", "Kagura"), ("mika.yaml", "Mika")]


def test_shipped_kagura_preset_is_the_default_character() -> None:
    cfg = KaguraConfig.model_validate({"system": {"characters_dir": str(SHIPPED_PRESETS)}})
    applied = apply_character_preset(cfg, "kagura.yaml")
    assert applied.character == CharacterConfig()


def test_presets_dir_is_relative_to_config_file(tmp_path: Path) -> None:
    write(tmp_path / "chars" / "b.yml", "character:\n  conf_name: B\n")
    write(tmp_path / "chars" / "a.yaml", "character:\n  conf_name: A\n")
    write(tmp_path / "chars" / "notes.txt", "not a preset")
    cfg = config_with_presets(tmp_path, Path("chars"))
    assert list_character_presets(cfg) == [("a.yaml", "A"), ("b.yml", "B")]


def test_invalid_presets_are_skipped_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    chars = tmp_path / "chars"
    write(chars / "good.yaml", "character:\n  conf_name: Good\n")
    write(chars / "syntax.yaml", "character: [oops\n")
    write(chars / "typo.yaml", "character:\n  nmae: X\n")
    write(chars / "list.yaml", "- 1\n")
    (chars / "dir.yaml").mkdir()
    cfg = config_with_presets(tmp_path, chars)
    with caplog.at_level(logging.WARNING, logger="kagura.config"):
        assert list_character_presets(cfg) == [("good.yaml", "Good")]
    assert "typo.yaml" in caplog.text and "syntax.yaml" in caplog.text


def test_missing_presets_dir_lists_nothing(tmp_path: Path) -> None:
    cfg = config_with_presets(tmp_path, tmp_path / "absent")
    assert list_character_presets(cfg) == []


def test_apply_preset_merges_over_character_and_returns_new_config(tmp_path: Path) -> None:
    cfg = config_with_presets(
        tmp_path, SHIPPED_PRESETS, "character:\n  human_name: Chat\n  avatar: me.png\n"
    )
    before = cfg.model_dump()
    applied = apply_character_preset(cfg, "mika.yaml")
    assert applied.character.conf_name == "Mika"
    assert applied.character.live2d_model == "shizuku"
    assert applied.character.human_name == "Chat"  # not in the preset: kept
    assert applied.character.avatar == "me.png"
    assert applied.base_dir == cfg.base_dir == tmp_path.resolve()
    assert cfg.model_dump() == before  # the original is untouched
    applied.llm.openai.extra_body["k"] = 1
    assert cfg.llm.openai.extra_body == {}  # and shares no state with the new one


def test_apply_preset_substitutes_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGURA_TEST_NAME", "Envy")
    chars = tmp_path / "chars"
    write(chars / "env.yaml", "character:\n  name: ${KAGURA_TEST_NAME}\n")
    cfg = config_with_presets(tmp_path, chars)
    assert apply_character_preset(cfg, "env.yaml").character.name == "Envy"


def test_apply_invalid_preset_names_file_and_field(tmp_path: Path) -> None:
    chars = tmp_path / "chars"
    write(chars / "bad.yaml", "character:\n  conf_name: ''\n  nmae: X\n")
    cfg = config_with_presets(tmp_path, chars)
    with pytest.raises(ConfigError) as info:
        apply_character_preset(cfg, "bad.yaml")
    text = str(info.value)
    assert "bad.yaml: character.conf_name: " in text
    assert "bad.yaml: character.nmae: unknown field (did you mean 'name'?)" in text


def test_apply_preset_rejects_other_sections(tmp_path: Path) -> None:
    chars = tmp_path / "chars"
    write(chars / "sneaky.yaml", "character:\n  name: S\nsystem:\n  port: 1\n")
    cfg = config_with_presets(tmp_path, chars)
    with pytest.raises(ConfigError, match=r"sneaky\.yaml: system: unknown field"):
        apply_character_preset(cfg, "sneaky.yaml")


@pytest.mark.parametrize(
    "name",
    ["../outside.yaml", "<absolute>", "/etc/passwd", "a/b.yaml", "a\\b.yaml", "..", ""],
)
def test_apply_preset_rejects_names_outside_the_directory(tmp_path: Path, name: str) -> None:
    # Every target below is a valid preset, so only the name check can refuse it.
    chars = tmp_path / "chars"
    outside = write(tmp_path / "outside.yaml", "character:\n  name: Outside\n")
    write(chars / "a" / "b.yaml", "character:\n  name: Nested\n")
    write(chars / "ok.yaml", "character:\n  name: Ok\n")
    cfg = config_with_presets(tmp_path, chars)
    name = str(outside) if name == "<absolute>" else name
    with pytest.raises(ConfigError, match="not a preset file name"):
        apply_character_preset(cfg, name)
    assert apply_character_preset(cfg, "ok.yaml").character.name == "Ok"


def test_apply_preset_rejects_names_not_in_the_listing(tmp_path: Path) -> None:
    chars = tmp_path / "chars"
    write(chars / "ok.yaml", "character:\n  name: Ok\n")
    write(chars / "ok.json", "character:\n  name: Json\n")
    cfg = config_with_presets(tmp_path, chars)
    for name in ("missing.yaml", "ok.json"):
        with pytest.raises(ConfigError, match="no such preset"):
            apply_character_preset(cfg, name)
