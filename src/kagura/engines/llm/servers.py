"""The model servers streamers already run, where they listen, and what they serve.

Kagura reaches every one through the OpenAI-compatible API (`llm.provider: openai`); this
module only knows their usual addresses and how to start them, so that `kagura config init
--llm ollama` can write the right section and check it, and `kagura serve` on the embedded
demo model can point out a real one running on this machine.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

PROBE_TIMEOUT_S = 3.0
PORT_TIMEOUT_S = 0.2  # a local port either answers at once or is closed


@dataclass(frozen=True)
class KnownServer:
    name: str
    label: str
    base_url: str
    how_to_start: str
    needs_key: bool = False


KNOWN: dict[str, KnownServer] = {
    server.name: server
    for server in (
        KnownServer(
            "ollama",
            "Ollama",
            "http://127.0.0.1:11434/v1",
            "start it with `ollama serve`, and fetch a model with `ollama pull qwen2.5:7b`",
        ),
        KnownServer(
            "lmstudio",
            "LM Studio",
            "http://127.0.0.1:1234/v1",
            "open LM Studio, load a model and start its server (Developer → Start Server)",
        ),
        KnownServer(
            "llamacpp",
            "llama.cpp server",
            "http://127.0.0.1:8080/v1",
            "start it with `llama-server -m your-model.gguf`",
        ),
        KnownServer(
            "vllm", "vLLM", "http://127.0.0.1:8000/v1", "start it with `vllm serve <model>`"
        ),
        KnownServer(
            "openai",
            "OpenAI",
            "https://api.openai.com/v1",
            "check your network and your API key (llm.openai.api_key)",
            needs_key=True,
        ),
    )
}
LOCAL = ("ollama", "lmstudio", "llamacpp", "vllm")


class ServerProblem(Exception):
    """The server cannot be used as it is; the message says what to do."""


def list_models(base_url: str, api_key: str = "", timeout_s: float = PROBE_TIMEOUT_S) -> list[str]:
    """The models an OpenAI-compatible server offers (`GET /models`)."""
    url = f"{base_url.rstrip('/')}/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(url, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise ServerProblem(f"nothing answers at {base_url} ({type(exc).__name__})") from None
    if response.status_code in (401, 403):
        raise ServerProblem(f"{base_url} refused the API key (HTTP {response.status_code})")
    if response.status_code != 200:
        raise ServerProblem(f"{url} answered HTTP {response.status_code}")
    try:
        answer: Any = response.json()
        return [str(model["id"]) for model in answer["data"]]
    except (ValueError, KeyError, TypeError):
        raise ServerProblem(f"{url} is not an OpenAI-compatible model list") from None


def running_locally() -> list[tuple[KnownServer, list[str]]]:
    """The known local servers answering on their usual ports, with their models."""
    found = []
    for name in LOCAL:
        server = KNOWN[name]
        parts = urlsplit(server.base_url)
        if not _port_open(parts.hostname or "127.0.0.1", parts.port or 80):
            continue
        try:
            found.append((server, list_models(server.base_url, timeout_s=1.0)))
        except ServerProblem:
            continue  # something else listens there
    return found


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=PORT_TIMEOUT_S):
            return True
    except OSError:
        return False
