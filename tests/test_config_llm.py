"""`kagura config init --llm`: a config for the model server the user already runs, checked
against it (a fake OpenAI-compatible server standing in for Ollama), and one real turn."""

from __future__ import annotations

from pathlib import Path

import yaml

from kagura.testing.fake_openai import MODEL_ID, FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher

from .conftest import fake_engines
from .test_cli import kagura


async def test_the_written_config_answers_a_real_turn(tmp_path: Path, fake: FakeOpenAI) -> None:
    result = kagura(
        "config", "init", "--llm", "ollama", "--base-url", fake.base_url, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert f"using {MODEL_ID!r}" in result.stderr  # the server's only model
    written = yaml.safe_load((tmp_path / "conf.yaml").read_text("utf-8"))
    llm = written["llm"]
    assert (llm["provider"], llm["openai"]["base_url"], llm["openai"]["model"]) == (
        "openai",
        fake.base_url,
        MODEL_ID,
    )
    # The written LLM section as it is; the test's voice (no speech engine to load here).
    config = {**fake_engines(fake), "llm": written["llm"]}
    fake.script = LLMScript(reply="Hello from your own model!")
    with KaguraProcess(tmp_path / "serve", config) as server:
        async with StageClient(server) as admin, Watcher(admin) as seen:
            await admin.chat("hi there", user="Ann")
            await seen.wait_turns(1, timeout=20)
    [request] = fake.chat_requests()
    assert request["model"] == MODEL_ID


def test_a_missing_model_lists_the_ones_the_server_has(tmp_path: Path, fake: FakeOpenAI) -> None:
    result = kagura(
        "config", "init", "--llm", "ollama", "--base-url", fake.base_url, "--model", "nope",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "no model 'nope'" in result.stderr and MODEL_ID in result.stderr
    assert "--model" in result.stderr
    assert (tmp_path / "conf.yaml").exists()  # written: fixing the model name is enough


def test_a_stopped_server_says_how_to_start_it(tmp_path: Path) -> None:
    result = kagura(
        "config", "init", "--llm", "ollama", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "nothing answers at http://127.0.0.1:9/v1" in result.stderr
    assert "ollama serve" in result.stderr
