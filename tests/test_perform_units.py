"""The parts of `kagura perform vts` decided without a stage or VTube Studio: which hotkey an
emotion fires, where the settings come from, the token file, and bad input named clearly."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kagura.auth import Role, role_token
from kagura.config import ConfigError, KaguraConfig, load_config
from kagura.perform.emotions import Expression, Hotkey, resolve
from kagura.perform.settings import PAGE_TOKEN_ENV, SettingError, load_settings, stage_url
from kagura.perform.token_file import TokenFile

HOTKEYS = [
    Hotkey("id-next", "Happy model", "ChangeVTSModel", "Happy.vtube.json"),
    Hotkey("id-wave", "Happy wave", "TriggerAnimation", "Wave.motion3.json"),
    Hotkey("id-smile", "Smile", "ToggleExpression", "Smile.exp3.json"),
    Hotkey("id-sad", "Sad", "ToggleExpression", "Sad.exp3.json"),
    Hotkey("id-angry", "Angry face", "ToggleExpression", "Angry.exp3.json"),
]
EXPRESSIONS = [
    Expression(f"{name}.exp3.json", name) for name in ("Smile", "Sad", "Angry", "Surprised")
]
EMOTIONS = ["neutral", "joy", "sadness", "anger", "surprise", "fear"]


def shown(mapping: dict[str, object]) -> dict[str, str]:
    return {emotion: getattr(target, "shown", "nothing") for emotion, target in mapping.items()}


def test_emotions_find_the_models_expressions_by_name() -> None:
    mapping, problems = resolve(EMOTIONS, HOTKEYS, EXPRESSIONS, {})
    assert problems == []
    assert shown(mapping) == {
        "neutral": "nothing",  # the model at rest
        "joy": "hotkey 'Smile' (ToggleExpression)",  # an expression before an animation
        "sadness": "hotkey 'Sad' (ToggleExpression)",
        "anger": "hotkey 'Angry face' (ToggleExpression)",
        "surprise": "expression 'Surprised.exp3.json'",  # no hotkey: the file itself
        "fear": "nothing",
    }
    # A hotkey that changes the model is never a default, however it is named.
    joy_only = [h for h in HOTKEYS if h.type != "ToggleExpression"]
    mapping, _ = resolve(["joy"], joy_only, [], {})
    assert shown(mapping) == {"joy": "hotkey 'Happy wave' (TriggerAnimation)"}


def test_configured_hotkeys_win_and_mistakes_are_named() -> None:
    configured = {
        "joy": "happy WAVE",
        "sadness": "",
        "anger": "id-smile",
        "fear": "Sad.exp3.json",
    }
    configured |= {"surprise": "Suprised"}
    mapping, problems = resolve(EMOTIONS, HOTKEYS, EXPRESSIONS, configured)
    assert shown(mapping) == {
        "neutral": "nothing",
        "joy": "hotkey 'Happy wave' (TriggerAnimation)",  # by name, in any case
        "sadness": "nothing",  # "" fires nothing
        "anger": "hotkey 'Smile' (ToggleExpression)",  # by ID
        "surprise": "nothing",
        "fear": "expression 'Sad.exp3.json'",
    }
    assert len(problems) == 1
    assert "perform.vts.hotkeys.surprise" in problems[0] and "'Suprised'" in problems[0]
    assert "'Angry face'" in problems[0] and "'Surprised.exp3.json'" in problems[0]


def config(tmp_path: Path, **sections: object) -> KaguraConfig:
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump({"system": {"data_dir": "data"}, **sections}), "utf-8")
    return load_config(path)


def test_settings_come_from_flags_then_config_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PAGE_TOKEN_ENV, raising=False)
    monkeypatch.delenv("KAGURA_AUTH_TOKEN", raising=False)
    plain = load_settings(config(tmp_path, system={"port": 4567, "host": "0.0.0.0"}))
    assert plain.stage_url == "ws://127.0.0.1:4567/proxy-ws"
    assert plain.token == ""  # a loopback server without a token asks for none
    assert plain.vts.url == "ws://127.0.0.1:8001"
    assert plain.vts.token_file == tmp_path / "data" / "vts-token"
    admin = config(tmp_path, system={"auth_token": "s3cret"})
    assert load_settings(admin).token == role_token("s3cret", Role.PAGE)  # never the admin's
    monkeypatch.setenv(PAGE_TOKEN_ENV, "from-env")
    assert load_settings(admin).token == "from-env"
    configured = config(tmp_path, perform={"token": "from-file", "stage_url": "https://h:1/x"})
    assert load_settings(configured).token == "from-file"
    assert load_settings(configured).stage_url == "wss://h:1/x/proxy-ws"
    flagged = load_settings(configured, token="from-flag", url="ws://u@h:2", vts_url="ws://v:3")
    assert (flagged.token, flagged.stage_url, flagged.vts.url) == (
        "from-flag",
        "ws://h:2/proxy-ws",
        "ws://v:3",
    )


def test_bad_urls_and_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(SettingError, match="--url must be"):
        stage_url("ftp://example.com")
    with pytest.raises(SettingError, match="--vts-url: 'localhost:8001' is not a WebSocket URL"):
        load_settings(KaguraConfig(), vts_url="localhost:8001")
    with pytest.raises(ConfigError, match=r"perform\.vts\.smile"):
        config(tmp_path, perform={"vts": {"smile": {"joy": 2}}})
    with pytest.raises(ConfigError, match=r"perform\.vts\.plugin_name"):
        config(tmp_path, perform={"vts": {"plugin_name": "K"}})
    with pytest.raises(ConfigError, match="backoff_max_s"):
        config(tmp_path, perform={"backoff_initial_s": 5, "backoff_max_s": 1})


def test_the_token_file_is_the_users_alone(tmp_path: Path) -> None:
    tokens = TokenFile(tmp_path / "data" / "vts-token")
    assert tokens.read() == ""
    tokens.write("first")
    tokens.write("second")
    assert tokens.read() == "second"
    assert stat.S_IMODE(os.stat(tokens.path).st_mode) == 0o600
    assert [p.name for p in tokens.path.parent.iterdir()] == ["vts-token"]


def perform(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kagura", "perform", "vts", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_the_command_names_what_it_cannot_use(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")  # a file where the folder should be
    unwritable = perform("--audio-file", str(tmp_path / "file" / "x.wav"), cwd=tmp_path)
    assert unwritable.returncode == 2
    assert "--audio-file" in unwritable.stderr and "cannot write it" in unwritable.stderr
    bad_vts = perform("--vts-url", "http://127.0.0.1:8001", "--audio-file", "x.wav", cwd=tmp_path)
    assert bad_vts.returncode == 2 and "is not a WebSocket URL" in bad_vts.stderr
    no_device = perform("--device", "No Such Cable", cwd=tmp_path)
    assert no_device.returncode == 2
    assert "No Such Cable" in no_device.stderr and "--audio-file" in no_device.stderr
