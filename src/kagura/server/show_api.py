"""The show's beginning and end over HTTP: `POST /stage/show {"state": "start" | "end"}`.

The stage page's Start show / End show button calls it, and so can a Stream Deck or an OBS
hotkey script (admin token, `kagura.permissions.HTTP`). A platform's own live-start and
live-end events do the same through `/proxy-ws` (`live_start` / `live_end`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from kagura.stage.host import ShowState
from kagura.stage.stage import Stage

router = APIRouter(prefix="/stage")


class ShowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: ShowState


@router.post("/show")
async def stage_show(request: Request, body: ShowRequest) -> JSONResponse:
    """Start the show (a warm-up drawing on the last stream) or end it (a goodbye to the
    top supporters; the stream's summary goes to memory). `changed` is false when the show
    was already in that state."""
    stage: Stage = request.app.state.stage
    changed = stage.show(body.state)
    return JSONResponse({"state": body.state, "changed": changed})
