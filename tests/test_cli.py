"""The `kagura` command as a user runs it: config init, config check, serve with a bad config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from kagura.config import load_config


def kagura(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kagura", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env} if env is not None else None,
    )


def test_config_init_writes_a_valid_commented_file(tmp_path: Path) -> None:
    result = kagura("config", "init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "conf.yaml").read_text("utf-8")
    assert text.count("# ") > 50  # every field is described
    assert load_config(tmp_path / "conf.yaml").system.port == 12393
    # It refuses to overwrite without --force.
    assert kagura("config", "init", cwd=tmp_path).returncode == 1
    zh = kagura("config", "init", "zh.yaml", "--lang", "zh", cwd=tmp_path)
    assert zh.returncode == 0
    assert "端口" in (tmp_path / "zh.yaml").read_text("utf-8")


def test_config_check_names_file_and_field(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"llm": {"temperature": 0.5}}), "utf-8")
    ok = kagura("config", "check", str(good), cwd=tmp_path)
    assert ok.returncode == 0 and "OK" in ok.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("llm:\n  temperature: hot\ntts:\n  provder: piper\n", "utf-8")
    result = kagura("config", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr
    assert "llm.temperature" in result.stderr
    assert "tts.provder" in result.stderr and "provider" in result.stderr


def test_serve_refuses_a_broken_config(tmp_path: Path) -> None:
    broken = tmp_path / "conf.yaml"
    broken.write_text("system:\n  port: 99999999\n", "utf-8")
    result = kagura("serve", cwd=tmp_path)  # ./conf.yaml is picked up by default
    assert result.returncode == 2
    assert "conf.yaml" in result.stderr and "system.port" in result.stderr


def test_tokens_prints_one_per_role(tmp_path: Path) -> None:
    from kagura.auth import Role, role_token

    (tmp_path / "conf.yaml").write_text("system:\n  auth_token: abc\n", "utf-8")
    result = kagura("tokens", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = dict(line.split() for line in result.stdout.splitlines())
    assert printed == {role.value: role_token("abc", role) for role in Role}
    assert printed["admin"] == "abc" and printed["page"] != "abc"


def test_tokens_prints_a_platform_bound_token_on_request(tmp_path: Path) -> None:
    from kagura.auth import Role, platform_token, role_token

    (tmp_path / "conf.yaml").write_text("system:\n  auth_token: abc\n", "utf-8")
    result = kagura("tokens", "--platform", "bilibili", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["platform", role_token("abc", Role.PLATFORM)] in lines
    assert lines[-1] == ["platform", platform_token("abc", "bilibili")]
    bad = kagura("tokens", "--platform", "bili bili", cwd=tmp_path)
    assert bad.returncode == 2 and "platform name" in bad.stderr


def test_a_quote_left_open_is_reported_where_it_starts(tmp_path: Path) -> None:
    lines = ["system:", "  port: 12393", "llm:", "  provider: openai", "  openai:"]
    lines += ["    base_url: http://127.0.0.1:11434/v1", "", "", ""]
    lines += ['    model: "qwen2.5:7b', "    api_key: x", "character:", "  name: Kagura"]
    lines += ["  persona: a fox", "", "stage:", "  batch_max: 2", "", "  batch_min: 2"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("\n".join(lines) + "\n", "utf-8")
    result = kagura("config", "check", str(broken), cwd=tmp_path)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())  # as the terminal wrapped it
    assert "line 10, column" in said, said  # not the end of the file
    assert 'model: "qwen2.5:7b' in said


def test_tokens_on_a_loopback_server_answer_on_stdout(tmp_path: Path) -> None:
    result = kagura("tokens", cwd=tmp_path)
    assert result.returncode == 0
    assert "No token: this server listens on loopback" in result.stdout
