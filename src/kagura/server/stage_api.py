"""The stage over HTTP and its lifespan: statistics, pause, and the streamer's safety
buttons — `POST /stage/cut` (what is on its way to air never airs), `POST /stage/panic`
(everything stops at once, the queue is dropped, the stage pauses) and `POST /stage/resume`.
Each is a plain HTTP call with the admin token, so a Stream Deck or an OBS hotkey script can
press it too. The queue is the streamer's too: `GET /stage/queue` lists what waits and what
was dropped and why, `POST /stage/queue/{id}/skip` and `.../next` skip a message or answer it
next, and `POST /stage/pace` changes the pace live.

Who may call each route is `kagura.permissions.HTTP`'s decision, made before a handler runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kagura.safety.audit import AuditLog
from kagura.stage.stage import Stage

from .airing import Airing
from .audience import Audience
from .authorization import HTTPRefusal
from .safety_api import audit_event

router = APIRouter()


def _stage(request: Request) -> Stage:
    stage: Stage = request.app.state.stage
    return stage


def _airing(request: Request) -> Airing:
    airing: Airing = request.app.state.airing
    return airing


def _audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.runtime.audit
    return audit


def _said(texts: list[str]) -> str:
    """What the cut replies had said, for the audit log."""
    return " / ".join(text for text in texts if text)


@router.get("/stage/stats")
async def stage_stats(request: Request) -> JSONResponse:
    audience: Audience = request.app.state.audience
    stats = _stage(request).stats()
    runtime = request.app.state.runtime
    safety = {"guard": runtime.guard_status}
    # The embedded demo model answers: the stage page tells the streamer what it is.
    llm = {"demo": runtime.config.llm.provider == "smollm2"}
    return JSONResponse(
        {
            **stats,
            "airing": _airing(request).stats(),
            "clients": audience.roles(),
            "encoded": audience.encoder.counts,
            "safety": safety,
            "llm": llm,
        }
    )


class PauseRequest(BaseModel):
    paused: bool


@router.post("/stage/pause")
async def stage_pause(request: Request, body: PauseRequest) -> JSONResponse:
    """Stop or resume answering; chat keeps queueing meanwhile."""
    stage = _stage(request)
    stage.set_paused(body.paused)
    return JSONResponse({"paused": stage.paused})


@router.post("/stage/cut")
async def stage_cut(request: Request) -> JSONResponse:
    """Cut the reply being delayed or played, and every reply still inside the stream delay:
    none of it reaches the delayed pages or is remembered as said. The stage goes on."""
    recent = _airing(request).cut()
    texts = _stage(request).cut(recent)
    if texts:
        _audit(request).record("cut", text=_said(texts), rule="streamer", replies=len(texts))
    return JSONResponse({"cut": bool(texts) or recent > 0})


@router.post("/stage/panic")
async def stage_panic(request: Request) -> JSONResponse:
    """Stop every page at once, drop the queue and what is waiting to air, and pause."""
    recent = _airing(request).cut(panic=True)
    dropped, texts = _stage(request).panic(recent)
    _audit(request).record(
        "panic", text=_said(texts), rule="streamer", replies=len(texts), dropped=dropped
    )
    return JSONResponse({"paused": True, "dropped": dropped})


@router.post("/stage/resume")
async def stage_resume(request: Request) -> JSONResponse:
    """After a panic (or a pause): answer chat again."""
    stage = _stage(request)
    stage.set_paused(False)
    return JSONResponse({"paused": stage.paused})


@router.get("/stage/queue")
async def stage_queue(request: Request) -> JSONResponse:
    """What waits (in the order it will be answered, roughly) and the latest drops."""
    stage = _stage(request)
    policy = stage.policy
    return JSONResponse(
        {
            "waiting": policy.queue(),
            "dropped": policy.drops.view(stage.clock()),
            "paused": stage.paused,
            "pace": policy.pace.as_dict(),
        }
    )


def _not_waiting(item_id: int) -> HTTPRefusal:
    return HTTPRefusal(status.HTTP_404_NOT_FOUND, f"message {item_id} is not waiting")


@router.post("/stage/queue/{item_id}/skip")
async def stage_queue_skip(request: Request, item_id: int) -> JSONResponse:
    """Drop a waiting message: it is never answered."""
    if not _stage(request).skip(item_id):
        raise _not_waiting(item_id)
    return JSONResponse({"skipped": item_id})


@router.post("/stage/queue/{item_id}/next")
async def stage_queue_next(request: Request, item_id: int) -> JSONResponse:
    """Answer a waiting message before anything else (after the reply in progress)."""
    if not _stage(request).answer_next(item_id):
        raise _not_waiting(item_id)
    return JSONResponse({"next": item_id})


class PaceRequest(BaseModel):
    pace: Literal["quiet", "normal", "lively"]


@router.post("/stage/pace")
async def stage_pace(request: Request, body: PaceRequest) -> JSONResponse:
    """Change the pace live; the numbers set in the config still override it."""
    pace = _stage(request).set_pace(body.pace)
    return JSONResponse({"pace": pace.as_dict()})


@asynccontextmanager
async def stage_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the stage, and its audience, for as long as the server runs."""
    runtime = app.state.runtime
    stage = Stage(runtime)
    app.state.stage = stage
    app.state.airing = airing = Airing(stage, stage.config.stream_delay_s)
    app.state.audience = audience = Audience(airing, app.state.encoder)
    unsubscribe = stage.subscribe(lambda event: audit_event(runtime.audit, event, "stage"))
    await stage.start()
    airing.start()
    try:
        yield
    finally:
        audience.close()
        await airing.stop()
        await stage.stop()
        unsubscribe()
