"""`kagura config import-olv`: an Open-LLM-VTuber folder (both template shapes, an
alternative character, the user's models) becomes a Kagura config that `config check`
accepts and whose turns use the imported persona, model and LLM; what cannot be carried
over is reported, never dropped in silence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kagura.config import load_config
from kagura.olv import OlvImportError, plan_import
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .memory_helpers import is_memory_request
from .olv_layout import write_olv
from .test_cli import kagura

OLV_KEY = "sk-olv-secret"


def import_olv(source: Path, output: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in a terminal wide enough to keep table cells whole."""
    command = ["config", "import-olv", str(source), "-o", str(output), *extra]
    return subprocess.run(
        [sys.executable, "-m", "kagura", *command],
        cwd=output.parent,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "400"},
    )


def imported(olv: Path, output: Path) -> str:
    """Import into `output` (its folder made); the summary table, on one line."""
    output.parent.mkdir(exist_ok=True)
    result = import_olv(olv, output)
    assert result.returncode == 0, result.stderr
    assert str(output) in result.stderr  # "wrote ..."
    return flat(result.stdout)


def replies(fake: FakeOpenAI) -> list[dict[str, Any]]:
    """The reply requests the fake LLM received (memory's own requests left out)."""
    return [body for body in fake.chat_requests() if not is_memory_request(body)]


def flat(text: str) -> str:
    """rich wraps table cells: compare on one line of words."""
    return " ".join(text.replace("│", " ").split())


async def test_english_layout_imports_and_talks(tmp_path: Path, fake: FakeOpenAI) -> None:
    olv = tmp_path / "Open-LLM-VTuber"
    write_olv(
        olv,
        "en",
        llm_provider="openai_compatible_llm",
        llm_base_url=fake.base_url,
        llm_api_key=OLV_KEY,
        llm_model="olv-model",
        tts_model="openai_tts",
        tts_base_url=fake.base_url,
    )
    out = tmp_path / "kagura"
    table = imported(olv, out / "conf.yaml")
    assert "openai_compatible_llm: olv-model" in table and "kokoro / af_sky+af_bella" in table
    assert OLV_KEY not in table  # the summary never shows a key
    assert "MCP tools" in table  # that project's tools are reported as not carried over
    check = kagura("config", "check", "conf.yaml", cwd=out)
    assert check.returncode == 0, check.stderr

    written = yaml.safe_load((out / "conf.yaml").read_text("utf-8"))
    character = written["character"]
    assert character["persona"].startswith("You are Mira, a cheerful fox spirit")
    assert (character["name"], character["human_name"], character["avatar"]) == (
        "Mira",
        "Sam",
        "mira.png",
    )
    assert written["llm"]["openai"] == {
        "base_url": fake.base_url,
        "model": "olv-model",
        "api_key": OLV_KEY,
    }
    assert written["llm"]["temperature"] == 0.6
    assert written["system"]["frontend_dir"] == str(olv / "frontend")
    preset = yaml.safe_load((out / "characters" / "alt_aiko.yaml").read_text("utf-8"))
    assert preset["character"]["live2d_model"] == "kei"
    assert not (out / "characters" / "README.md").exists()

    # Served as written: a turn with the persona, the model and the LLM of that folder.
    overrides = {k: v for k, v in written.items() if k != "system"}
    system = {k: v for k, v in written["system"].items() if k not in ("host", "port")}
    overrides["system"] = {**system, "characters_dir": str(out / "characters")}
    fake.script = LLMScript(reply="Hello Sam! [joy] Tea is ready.")
    with KaguraProcess(tmp_path / "run", overrides) as server:
        async with ProtocolClient(server.ws_url) as client:
            hello = await client.connect_sequence()
            model = next(m for m in hello if m["type"] == "set-model-and-conf")["model_info"]
            assert model["name"] == "mira" and model["emotionMap"]["joy"] == 3
            assert model["url"] == "/live2d-models/mira/runtime/mira.model3.json"
            turn = await client.turn("Hi!")
            audio = [m for m in turn if m["type"] == "audio"]
            assert [a["actions"]["expressions"] for a in audio if a["actions"]] == [
                [3]
            ]  # their joy
            chat = replies(fake)[-1]
            assert chat["model"] == "olv-model"
            assert chat["messages"][0]["content"].startswith("You are Mira")
            assert any(r.authorization == f"Bearer {OLV_KEY}" for r in fake.requests)
            speech = fake.speech_requests()[-1]
            assert (speech["model"], speech["voice"]) == ("kokoro", "af_sky+af_bella")

            await client.send({"type": "switch-config", "file": "alt_aiko.yaml"})
            switched = await client.recv_until("config-switched")
            assert switched[0]["model_info"]["name"] == "kei"
            await client.turn("Who are you?")
            # The reply's request: a memory job may ask the LLM after the turn (it yields to it).
            assert "Aiko, a calm librarian" in replies(fake)[-1]["messages"][0]["content"]
        files = {
            "/": "<title>Open-LLM-VTuber</title>",  # their built frontend
            "/live2d-models/mira/runtime/mira.model3.json": '"Version": 3',
            "/live2d-models/shizuku/runtime/shizuku.model3.json": '"Version": 3',
            "/stage": "/static/stage.js",
        }
        for path, expected in files.items():
            response = httpx.get(server.http_url + path, timeout=5)
            assert response.status_code == 200 and expected in response.text, path
        for path in ("/bg/room.png", "/avatars/mira.png"):
            assert httpx.get(server.http_url + path, timeout=5).status_code == 200, path


def test_chinese_layout_imports_with_what_kagura_has(tmp_path: Path) -> None:
    olv = tmp_path / "olv"
    write_olv(olv, "zh")
    out = tmp_path / "kagura"
    table = imported(olv, out / "conf.yaml")
    assert "edge_tts: zh-CN-XiaoxiaoNeural" in table
    assert "tts.provider edge: zh-CN-XiaoxiaoNeural" in table
    assert "sherpa_onnx_asr" in table and "OpenAI-compatible transcription server" in table
    text = (out / "conf.yaml").read_text("utf-8")
    assert "# - TTS" not in text  # the same voice, so nothing to say about it
    config = load_config(out / "conf.yaml")
    assert config.character.persona == "你是米粒，一个开朗的狐仙主播。\n你喜欢喝茶和讲笑话。"
    assert (config.character.name, config.character.human_name) == ("米粒", "主播")
    assert (config.tts.provider, config.tts.edge.voice) == ("edge", "zh-CN-XiaoxiaoNeural")
    assert config.llm.provider == "openai"
    assert config.llm.openai.base_url == "http://localhost:11434/v1"
    assert config.llm.openai.model == "qwen2.5:latest"
    assert config.asr.provider == "whisper"  # the embedded one, with a line saying so
    assert (out / "characters" / "alt_aiko.yaml").is_file()


def test_an_unknown_provider_is_reported_not_dropped(tmp_path: Path) -> None:
    extra = "\n      my_cloud_llm:\n        base_url: 'https://llm.example/v1'\n        model: m\n"
    write_olv(tmp_path / "olv", "en", llm_provider="my_cloud_llm", extra_llm=extra)
    table = imported(tmp_path / "olv", tmp_path / "conf.yaml")
    assert "unknown LLM provider 'my_cloud_llm'" in table
    text = (tmp_path / "conf.yaml").read_text("utf-8")
    assert "unknown LLM provider 'my_cloud_llm'" in " ".join(text.replace("#", "").split())
    assert load_config(tmp_path / "conf.yaml").llm.provider == "smollm2"


def edit(conf: Path, change: dict[str, Any]) -> None:
    """Merge `change` into the character_config of an Open-LLM-VTuber conf.yaml."""
    from kagura.config import deep_merge

    data = yaml.safe_load(conf.read_text("utf-8"))
    data["character_config"] = deep_merge(data["character_config"], change)
    conf.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


def llm(provider: str, **entry: Any) -> dict[str, Any]:
    return {
        "agent_config": {
            "agent_settings": {"basic_memory_agent": {"llm_provider": provider}},
            "llm_configs": {provider: entry},
        }
    }


@pytest.mark.parametrize(
    ("change", "expected", "note"),
    [
        (
            llm("deepseek_llm", llm_api_key="Your DeepSeek API key", model="deepseek-chat"),
            {"base_url": "https://api.deepseek.com/v1", "model": "deepseek-chat"},
            "placeholder",
        ),
        (
            llm("groq_llm", llm_api_key="gsk_live", model="llama-3.3-70b-versatile"),
            {"base_url": "https://api.groq.com/openai/v1", "api_key": "gsk_live"},
            "",
        ),
        (
            llm("claude_llm", llm_api_key="sk-ant", model="claude-3-haiku-20240307"),
            {"base_url": "https://api.anthropic.com/v1/"},
            "Anthropic's OpenAI-compatible endpoint",
        ),
        (
            llm("lmstudio_llm", model="qwen2.5:latest"),
            {"base_url": "http://localhost:1234/v1", "api_key": "not-needed"},
            "",
        ),
    ],
)
def test_llm_providers(
    tmp_path: Path, change: dict[str, Any], expected: dict[str, str], note: str
) -> None:
    conf = write_olv(tmp_path / "olv")
    edit(conf, change)
    plan = plan_import(conf, tmp_path / "conf.yaml")
    assert plan.config["llm"]["provider"] == "openai"
    assert expected.items() <= plan.config["llm"]["openai"].items()
    line = next(line for line in plan.lines if line.part == "LLM")
    assert line.carried and note in line.note


def test_llama_cpp_says_how_to_serve_it(tmp_path: Path) -> None:
    conf = write_olv(tmp_path / "olv")
    edit(conf, llm("llama_cpp_llm", model_path="/models/q.gguf"))
    plan = plan_import(conf, tmp_path / "conf.yaml")
    assert "llm" not in plan.config
    line = next(line for line in plan.lines if line.part == "LLM")
    assert not line.carried and "llama-server -m /models/q.gguf" in line.note


def test_engines_kagura_has_are_carried_over(tmp_path: Path) -> None:
    olv = tmp_path / "olv"
    conf = write_olv(olv)
    voice = olv / "models" / "piper" / "en_US-amy-medium.onnx"
    voice.parent.mkdir(parents=True)
    voice.write_bytes(b"onnx")
    Path(f"{voice}.json").write_text("{}", "utf-8")
    snapshot = olv / "models/whisper/models--Systran--faster-whisper-small/snapshots/abc"
    snapshot.mkdir(parents=True)
    (snapshot / "model.bin").write_bytes(b"bin")
    edit(
        conf,
        {
            "tts_config": {
                "tts_model": "piper_tts",
                "piper_tts": {"model_path": "models/piper/en_US-amy-medium.onnx", "speaker_id": 2},
            },
            "asr_config": {
                "asr_model": "faster_whisper",
                "faster_whisper": {"model_path": "small", "language": "de"},
            },
            "vad_config": {"vad_model": "silero_vad"},
        },
    )
    plan = plan_import(conf, tmp_path / "conf.yaml")
    assert plan.config["tts"] == {
        "provider": "piper",
        "piper": {"model_path": str(voice), "speaker_id": 2, "length_scale": 1.0},
    }
    assert plan.config["asr"] == {"whisper": {"model_path": str(snapshot), "language": "de"}}
    assert plan.config["vad"] == {"threshold": 0.4, "min_silence_ms": 768, "min_speech_ms": 96}
    parts = {line.part: line for line in plan.lines}
    assert parts["TTS"].carried and parts["ASR"].carried and parts["VAD"].carried

    # A Chinese streamer's model that is not there: the embedded multilingual model hears
    # Chinese meanwhile, and the line says which folder to set.
    missing = {"model_path": "large-v3", "language": "zh"}
    edit(conf, {"asr_config": {"faster_whisper": missing}})
    plan = plan_import(conf, tmp_path / "conf.yaml")
    assert plan.config["asr"] == {"whisper": {"model": "base", "language": "zh"}}
    [line] = [line for line in plan.lines if line.part == "ASR"]
    assert not line.carried and "asr.whisper.model_path" in line.note

    groq = {"asr_model": "groq_whisper_asr", "groq_whisper_asr": {"lang": "ja"}}
    edit(conf, {"asr_config": groq})
    asr = plan_import(conf, tmp_path / "conf.yaml").config["asr"]
    assert asr["provider"] == "openai" and asr["openai"]["language"] == "ja"
    assert asr["openai"]["base_url"] == "https://api.groq.com/openai/v1"


def test_imported_text_is_taken_literally(tmp_path: Path) -> None:
    """Kagura reads ${VAR} as an environment variable; a persona's ${...} stays as written."""
    persona = "You greet everyone with ${greeting}. Prices are $5."
    write_olv(tmp_path / "olv", persona=persona)
    result = import_olv(tmp_path / "olv", tmp_path / "conf.yaml")
    assert result.returncode == 0, result.stderr
    assert load_config(tmp_path / "conf.yaml").character.persona == persona


def test_what_cannot_be_imported_is_refused_clearly(tmp_path: Path) -> None:
    write_olv(tmp_path / "olv")
    own = import_olv(tmp_path / "olv", tmp_path / "olv" / "conf.yaml", "--force")
    assert own.returncode == 2 and "write over Open-LLM-VTuber's own files" in flat(own.stderr)

    target = tmp_path / "conf.yaml"
    target.write_text("llm:\n  temperature: 0.2\n", "utf-8")
    again = import_olv(tmp_path / "olv", target)
    assert again.returncode == 2 and "--force" in again.stderr
    assert target.read_text("utf-8") == "llm:\n  temperature: 0.2\n"  # nothing lost
    assert import_olv(tmp_path / "olv", target, "--force").returncode == 0

    other = tmp_path / "other.yaml"
    other.write_text("llm:\n  provider: openai\n", "utf-8")
    with pytest.raises(OlvImportError, match=r"not an Open-LLM-VTuber conf\.yaml"):
        plan_import(other, tmp_path / "out.yaml")
    old = tmp_path / "old.yaml"
    old.write_text("LLM_PROVIDER: ollama\nPERSONA_CHOICE: mili\n", "utf-8")
    with pytest.raises(OlvImportError, match=r"before v1\.0"):
        plan_import(old, tmp_path / "out.yaml")
    missing = import_olv(tmp_path / "nowhere", tmp_path / "out.yaml")
    assert missing.returncode == 2 and "file not found" in flat(missing.stderr)


def test_a_server_open_to_the_network_is_told_about_tokens(tmp_path: Path) -> None:
    conf = write_olv(tmp_path / "olv")
    conf.write_text(conf.read_text("utf-8").replace("host: 'localhost'", "host: '0.0.0.0'"))
    plan = plan_import(conf, tmp_path / "conf.yaml")
    assert plan.config["system"]["host"] == "0.0.0.0"
    server = next(line for line in plan.lines if line.part == "server")
    assert "kagura tokens" in server.note
    local = plan_import(write_olv(tmp_path / "local"), tmp_path / "conf.yaml")
    assert next(line for line in local.lines if line.part == "server").note == ""
