"""The stage over HTTP (`GET /stage/stats`, `POST /stage/pause`) and its lifespan.

Who may call each route is `kagura.permissions.HTTP`'s decision, made before a handler runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kagura.stage.stage import Stage

from .audience import Audience

router = APIRouter()


def _stage(request: Request) -> Stage:
    stage: Stage = request.app.state.stage
    return stage


@router.get("/stage/stats")
async def stage_stats(request: Request) -> JSONResponse:
    audience: Audience = request.app.state.audience
    stats = _stage(request).stats()
    safety = {"guard": request.app.state.runtime.guard_status}
    return JSONResponse(
        {**stats, "clients": audience.roles(), "encoded": audience.encoder.counts, "safety": safety}
    )


class PauseRequest(BaseModel):
    paused: bool


@router.post("/stage/pause")
async def stage_pause(request: Request, body: PauseRequest) -> JSONResponse:
    """Stop or resume answering; chat keeps queueing meanwhile."""
    stage = _stage(request)
    stage.set_paused(body.paused)
    return JSONResponse({"paused": stage.paused})


@asynccontextmanager
async def stage_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the stage, and its audience, for as long as the server runs."""
    stage = Stage(app.state.runtime)
    app.state.stage = stage
    app.state.audience = audience = Audience(stage, app.state.encoder)
    await stage.start()
    try:
        yield
    finally:
        audience.close()
        await stage.stop()
