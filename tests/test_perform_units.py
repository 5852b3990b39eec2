"""The parts of `kagura perform vts` decided without a stage or VTube Studio: which hotkey an
emotion fires, where the settings come from, the token file, and bad input named clearly."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from kagura.audio import Speech, encode_wav
from kagura.auth import Role, role_token
from kagura.config import ConfigError, KaguraConfig, load_config
from kagura.perform.emotions import Expression, Hotkey, resolve
from kagura.perform.player import Player
from kagura.perform.settings import PAGE_TOKEN_ENV, SettingError, load_settings, stage_url
from kagura.perform.stage import StagePage
from kagura.perform.token_file import TokenFile
from kagura.perform.vts import VTubeStudio

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


def audio_message(seconds: float, shown: dict[str, str] | None, **extra: object) -> dict[str, Any]:
    speech = Speech(np.full(int(16000 * seconds), 8000, np.int16), 16000)
    payload = base64.b64encode(encode_wav(speech)).decode()
    volumes = [1.0] * int(seconds * 50)
    return {"type": "audio", "audio": payload, "volumes": volumes, "slice_length": 20,
            "display_text": shown, **extra}  # fmt: skip


def test_a_streamed_segment_plays_on_and_performs_only_its_head(tmp_path: Path) -> None:
    """The stage's messages, in order, as the page sees them: a segment's later audio
    (`display_text: null`) plays right after it and performs nothing of its own."""
    player = Player()
    vts = VTubeStudio(load_settings(config(tmp_path)).vts)  # never connected: shows nothing
    page = StagePage(player, vts, shown_url="ws://stage", reset=True)
    page.handle(
        {"type": "set-model-and-conf", "model_info": {"emotionMap": {"joy": 1, "anger": 4}}}
    )
    page.handle({"type": "control", "text": "conversation-chain-start"})
    page.handle(audio_message(0.5, {"text": "[joy] Hello", "name": "Kagura", "avatar": ""}))
    page.handle(audio_message(0.25, None))  # more of it
    page.handle(audio_message(0.25, {"text": "Grr", "name": "", "avatar": ""},
                              actions={"expressions": [4]}))  # fmt: skip
    assert [s.emotion for s in player.started()] == ["joy"]
    assert len(player.read(player.rate, pad=False)) == player.rate  # all three, back to back
    assert [s.emotion for s in player.started()] == ["anger"]  # by its expression's index
    assert not player.busy and player.mouth() == 0.0
    # An interrupt drops what is queued and what comes after, until the next turn.
    page.handle(audio_message(0.5, {"text": "More", "name": "", "avatar": ""}))
    page.handle({"type": "interrupt-signal", "text": ""})
    page.handle(audio_message(0.5, {"text": "Late", "name": "", "avatar": ""}))
    assert len(player.read(player.rate, pad=False)) == 0
