"""A scripted guard model: OpenAI's moderation API and a safety classifier behind a chat API.

    with FakeGuard() as guard:
        guard.script = GuardScript(unsafe={"knife": ("Violent",)}, delay_s=0.05)
        # safety.guard.base_url: guard.base_url

Speaks the real wire formats: `POST /v1/moderations` answers as OpenAI's does (`id`, `model`,
`results` with `flagged`, `categories`, `category_scores`); `POST /v1/chat/completions`
answers as Qwen3Guard-Gen does ("Safety: Unsafe\\nCategories: Violent\\nRefusal: No") or, when
the requested model's name says Llama Guard, as Llama Guard does ("unsafe\\nS1"). A served
model answers in its own format whatever the client expected, as a real server would.

It judges the text it was asked about (the assistant message, or the moderation input) by
the script's markers; it can be slow, answer garbage, fail with HTTP 500, or be paused (its
port refuses connections) and resumed on the same port, like a guard that went down and came
back. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kagura.testing.background import BackgroundFake
from kagura.testing.openai_wire import chat_json, error_response
from kagura.testing.ports import free_port
from kagura.testing.scripts import RecordedRequest

MODERATION_PATH = "/v1/moderations"
CHAT_PATH = "/v1/chat/completions"
MODERATION_MODEL = "omni-moderation-latest"
MODERATION_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
    "sexual/minors", "violence", "violence/graphic",
)  # fmt: skip
STOP_TIMEOUT_S = 2.0
HUGE_BYTES = 200_000  # bigger than any client should read for a verdict

GuardFailureMode = Literal["garbage", "not_json", "status_500", "huge"]


@dataclass
class GuardScript:
    """How the fake judges. A text containing a key of `unsafe` (any case) is unsafe, in that
    key's categories (Qwen3Guard names, Llama Guard codes or moderation categories, as the
    test wants to see them); one containing any of `controversial` is controversial (which
    Llama Guard and moderation, having no such tier, call safe). Answers come `delay_s` after
    the request; `failure` replaces every answer."""

    unsafe: dict[str, tuple[str, ...]] = field(default_factory=dict)
    controversial: tuple[str, ...] = ()
    delay_s: float = 0.0
    failure: GuardFailureMode | None = None

    def level(self, text: str) -> tuple[str, tuple[str, ...]]:
        folded = text.casefold()
        for marker, categories in self.unsafe.items():
            if marker.casefold() in folded:
                return "unsafe", categories
        if any(marker.casefold() in folded for marker in self.controversial):
            return "controversial", ()
        return "safe", ()


def qwen3guard_answer(level: str, categories: tuple[str, ...]) -> str:
    named = ", ".join(categories) if categories and level != "safe" else "None"
    return f"Safety: {level.capitalize()}\nCategories: {named}\nRefusal: No"


def llamaguard_answer(level: str, categories: tuple[str, ...]) -> str:
    if level != "unsafe":
        return "safe"
    return "unsafe" + (f"\n{','.join(categories)}" if categories else "")


def moderation_answer(model: str, level: str, categories: tuple[str, ...]) -> dict[str, Any]:
    flagged = level == "unsafe"
    result = {
        "flagged": flagged,
        "categories": {name: flagged and name in categories for name in MODERATION_CATEGORIES},
        "category_scores": {
            name: 0.9 if flagged and name in categories else 0.001 for name in MODERATION_CATEGORIES
        },
    }
    return {"id": f"modr-{uuid.uuid4().hex[:24]}", "model": model, "results": [result]}


class FakeGuard(BackgroundFake):
    loop_name = "fake-guard"

    def __init__(self, script: GuardScript | None = None) -> None:
        super().__init__()
        self.script = script or GuardScript()
        self.port = free_port()
        self._requests: list[RecordedRequest] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.read(lambda: list(self._requests))

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == path]

    def clear_requests(self) -> None:
        self.read(self._requests.clear)

    def pause(self) -> None:
        """Stop listening: connections to the port are refused until `resume`."""
        self._loop().run(self._stop())

    def resume(self) -> None:
        """Listen again on the same port (nothing happens if it is listening)."""
        self._loop().run(self._start())

    async def _start(self) -> None:
        if self._server is not None:
            return  # already listening
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(self._app(), lifespan="off", log_config=None, log_level=None)
        config.timeout_graceful_shutdown = 1
        self._stopping = asyncio.Event()
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def _stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        self._stopping.set()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, STOP_TIMEOUT_S)

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(MODERATION_PATH, self._moderate, methods=["POST"]),
                Route(CHAT_PATH, self._classify, methods=["POST"]),
            ]
        )

    async def _received(self, request: Request, path: str) -> tuple[dict[str, Any], GuardScript]:
        body: dict[str, Any] = await request.json()
        auth = request.headers.get("authorization", "")
        self._requests.append(RecordedRequest(path, body, auth))
        script = self.script
        if script.delay_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), script.delay_s)
        return body, script

    async def _moderate(self, request: Request) -> Response:
        body, script = await self._received(request, MODERATION_PATH)
        failed = _failure(script, {"object": "moderation", "verdict": "fine, I think"})
        if failed is not None:
            return failed
        level, categories = script.level(str(body.get("input", "")))
        model = str(body.get("model") or MODERATION_MODEL)
        return JSONResponse(moderation_answer(model, level, categories))

    async def _classify(self, request: Request) -> Response:
        body, script = await self._received(request, CHAT_PATH)
        failed = _failure(script, None)
        if failed is not None:
            return failed
        messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
        judged = str(messages[-1].get("content", "")) if messages else ""
        level, categories = script.level(judged)
        model = str(body.get("model", ""))
        llama = "llama" in model.casefold()
        answer = (llamaguard_answer if llama else qwen3guard_answer)(level, categories)
        return Response(chat_json(body, answer), media_type="application/json")


def _failure(script: GuardScript, wrong_json: dict[str, Any] | None) -> Response | None:
    """The scripted failure's answer, or None. "garbage" is well-formed JSON of the right
    kind whose verdict means nothing."""
    match script.failure:
        case None:
            return None
        case "status_500":
            return error_response(500, "The fake guard was scripted to fail.")
        case "not_json":
            return Response("<html>502 Bad Gateway</html>", media_type="text/html")
        case "huge":
            return Response(b"{" + b" " * HUGE_BYTES + b"}", media_type="application/json")
        case "garbage" if wrong_json is not None:
            return JSONResponse(wrong_json)
        case _:
            body = {"model": "fake"}
            return Response(
                chat_json(body, "I would rather not say."), media_type="application/json"
            )


__all__ = ["FakeGuard", "GuardScript"]
