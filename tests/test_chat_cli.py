"""`kagura chat` as a user runs it: a real process talking to a real `kagura serve`.

The server hears the WAV files with its embedded engines (silero VAD, Smart Turn,
faster-whisper); the LLM and TTS are the scripted fake, which repeats what it was told, so
each reply names the utterance it answers. A stage page and a widget, connected beside the
chat, must see every reply: the chat publishes through the stage, not around it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import signal
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml

from kagura.auth import Role, role_token
from kagura.chat.target import Target, TargetError
from kagura.config import KaguraConfig, deep_merge
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, echo_last_user
from kagura.testing.ports import free_port
from tests.support import speech
from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_END, StageClient, Watcher, stage_url

from .conftest import fake_engines, server_fixture
from .widget_helpers import Widget

pytestmark = pytest.mark.embedded

SENTENCES = [
    "What is your favourite colour?",
    "Please tell me a story about a brave little dragon.",
    "How was the weather in your town today?",
]
CHARACTER = "Kagura"  # the default character's name, which the chat prints its replies under
CHAT_TIMEOUT_S = 240


def said_back(body: dict[str, Any]) -> str:
    return f"You said: {echo_last_user(body)}"


def chat_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "kagura", "chat", *map(str, args)]


def chat_env() -> dict[str, str]:
    """The chat's environment: no display (no browser may open in a test), no token."""
    drop = {"DISPLAY", "WAYLAND_DISPLAY", "KAGURA_AUTH_TOKEN"}
    return {k: v for k, v in os.environ.items() if k not in drop} | {"PYTHONUNBUFFERED": "1"}


async def typed_hello(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`kagura chat --typed --no-browser ARGS` typing "hello", run to its end."""
    command = chat_command("--typed", "--no-browser", *args)
    return await asyncio.to_thread(
        subprocess.run,
        command, input=b"hello\n", capture_output=True, cwd=cwd, env=chat_env(), timeout=60,
    )  # fmt: skip


# The server hears with its embedded engines; the fake answers and speaks.
server = server_fixture("chat-server", asr={"provider": "whisper"})


def lines(output: bytes, speaker: str) -> list[str]:
    prefix = f"{speaker}: "
    return [line[len(prefix) :] for line in output.decode().splitlines() if line.startswith(prefix)]


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as clip:
        return clip.getnframes() / clip.getframerate()


def turns(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The messages of each finished turn a stage client saw."""
    found: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for message in messages:
        current.append(message)
        if message == CHAIN_END:
            found.append(current)
            current = []
    return found


async def test_three_wav_files_get_three_replies_on_every_page_and_the_widget_page_opened_once(
    server: KaguraProcess, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script = LLMScript(reply=said_back)
    wavs = [
        speech.write_wav(tmp_path / f"utterance-{n}.wav", speech.piper(sentence))
        for n, sentence in enumerate(SENTENCES, 1)
    ]
    out = tmp_path / "replies"
    # The "browser" records the pages it is asked to open (Python's webbrowser runs $BROWSER).
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    env = chat_env() | {"DISPLAY": ":0", "BROWSER": f"{browser} %s"}
    widget = await asyncio.to_thread(Widget, stage_url(server, "/widget-ws"))
    try:
        async with StageClient(server, role="page") as page, Watcher(page) as stage_page:
            chat = await asyncio.create_subprocess_exec(
                *chat_command("--wav", *wavs, "--url", server.http_url, "--out", out,
                              "--speed", "4", "--reply-timeout", "60"),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env,
            )  # fmt: skip
            stdout, stderr = await asyncio.wait_for(chat.communicate(), CHAT_TIMEOUT_S)
            assert chat.returncode == 0, stderr.decode()
            await stage_page.wait_turns(3, timeout=10)
        bubbles = [await asyncio.to_thread(widget.recv_type, "llm_response") for _ in SENTENCES]
    finally:
        widget.close()

    # The chat printed what the stage heard, and each reply, in order.
    heard = lines(stdout, "you")
    assert len(heard) == 3, stdout.decode()
    errors = [speech.word_error_rate(s, h) for s, h in zip(SENTENCES, heard, strict=True)]
    assert float(np.mean(errors)) <= 0.10, list(zip(SENTENCES, heard, strict=True))
    replies = lines(stdout, CHARACTER)
    assert replies == [f"You said: {text}" for text in heard], stdout.decode()

    # The stage page saw each of the streamer's utterances and each reply, with its audio.
    seen = turns(stage_page.messages)
    assert len(seen) == 3
    for turn, text, reply in zip(seen, heard, replies, strict=True):
        shown = [m["text"] for m in turn if m["type"] == "user-input-transcription"]
        assert shown == [text]
        segments = [m for m in turn if m["type"] == "audio"]
        assert "".join(m["display_text"]["text"] for m in segments) == reply
    # One WAV per reply: the reply's own audio, every segment of it.
    written = sorted(out.iterdir())
    assert [path.name for path in written] == ["reply-01.wav", "reply-02.wav", "reply-03.wav"]
    for path, turn in zip(written, seen, strict=True):
        segments = [base64.b64decode(m["audio"]) for m in turn if m["type"] == "audio"]
        expected = sum(wav_seconds(segment) for segment in segments)
        assert wav_seconds(path.read_bytes()) == pytest.approx(expected, abs=0.01)
    # The widget channel got each reply as a speech bubble.
    assert [bubble["content"] for bubble in bubbles] == replies
    # The stage page was opened once, not once per reply.
    assert opened.read_text().splitlines() == [f"{server.http_url}/stage"]


async def test_an_unreachable_server_is_named_with_what_to_do(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    result = await typed_hello(tmp_path, "--no-start", "--url", f"ws://127.0.0.1:{port}/proxy-ws")
    message = result.stderr.decode()
    assert result.returncode == 1, message
    assert f"http://127.0.0.1:{port}/health" in message, message
    assert "kagura serve" in message and "--no-start" in message, message


async def test_a_refused_token_is_said_with_what_to_do(fake: FakeOpenAI, tmp_path: Path) -> None:
    system = {"auth_token": "the-admin-token", "require_token_on_loopback": True}
    with KaguraProcess(tmp_path / "server", fake_engines(fake, system=system)) as guarded:
        result = await typed_hello(tmp_path, "--url", guarded.http_url, "--token", "not-the-token")
    message = result.stderr.decode()
    assert result.returncode == 1, message
    assert f"ws://127.0.0.1:{guarded.port}/proxy-ws refused the chat" in message, message
    assert "wrong or missing token" in message and "--token" in message, message
    assert "not-the-token" not in message + result.stdout.decode()  # never echoed


async def test_a_chat_starts_a_server_when_none_answers_and_stops_it_on_ctrl_c(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """Typed lines, a server of its own (started, used, stopped), and a clean Ctrl-C."""
    fake.script = LLMScript(reply=said_back)
    port = free_port()
    system = {"host": "127.0.0.1", "port": port, "data_dir": str(tmp_path / "data")}
    config = tmp_path / "conf.yaml"
    config.write_text(yaml.safe_dump(deep_merge({"system": system}, fake_engines(fake))))
    chat = await asyncio.create_subprocess_exec(
        *chat_command("--typed", "--no-browser", "-c", config),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        env=chat_env(),
    )  # fmt: skip
    assert chat.stdin is not None and chat.stdout is not None and chat.stderr is not None
    try:
        chat.stdin.write(b"Hello from the terminal\n")
        await chat.stdin.drain()
        seen = []
        async with asyncio.timeout(CHAT_TIMEOUT_S):
            while not any(line.startswith(f"{CHARACTER}: ") for line in seen):
                line = (await chat.stdout.readline()).decode()
                assert line, f"the chat ended early: {seen}\n{(await chat.stderr.read()).decode()}"
                seen.append(line.strip())
        assert seen == [
            "you: Hello from the terminal",
            f"{CHARACTER}: You said: Hello from the terminal",
        ]
        health = f"http://127.0.0.1:{port}/health"
        assert httpx.get(health, timeout=5).json()["status"] == "ok"  # the server it started

        chat.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(chat.wait(), 30)
        stderr = (await chat.stderr.read()).decode()
        assert code == 130, stderr
        assert "Traceback" not in stderr, stderr
        with pytest.raises(httpx.ConnectError):  # the server went with it
            httpx.get(health, timeout=5)
    finally:
        if chat.returncode is None:
            chat.kill()
            await chat.wait()


@pytest.mark.parametrize(
    ("given", "stage", "base"),
    [
        (None, "ws://127.0.0.1:12393/proxy-ws", "http://127.0.0.1:12393"),
        ("http://127.0.0.1:9000", "ws://127.0.0.1:9000/proxy-ws", "http://127.0.0.1:9000"),
        ("https://vtuber.example/", "wss://vtuber.example/proxy-ws", "https://vtuber.example"),
        ("ws://[::1]:9000/proxy-ws?x=1", "ws://[::1]:9000/proxy-ws", "http://[::1]:9000"),
        ("ws://u:p@host:1/kagura/proxy-ws", "ws://host:1/kagura/proxy-ws", "http://host:1/kagura"),
    ],
)
def test_the_url_may_be_the_stage_or_the_server(given: str | None, stage: str, base: str) -> None:
    config = KaguraConfig.model_validate({"system": {"host": "0.0.0.0"}})
    target = Target.resolve(config, given, None)
    assert (target.stage_url, target.base_url) == (stage, base)


def test_the_token_is_the_admins_and_the_page_gets_only_the_page_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAGURA_AUTH_TOKEN", raising=False)
    config = KaguraConfig.model_validate({"system": {"data_dir": str(tmp_path)}})
    assert Target.resolve(config, None, None).token == ""  # a loopback server needs none
    (tmp_path / "auth_token").write_text("saved-admin\n")
    target = Target.resolve(config, None, None)
    assert target.token == "saved-admin"
    assert target.page_url().endswith(f"/stage?token={role_token('saved-admin', Role.PAGE)}")
    assert Target.resolve(config, None, "flag").token == "flag"
    with pytest.raises(TargetError, match="ftp://host"):
        Target.resolve(config, "ftp://host/", None)
