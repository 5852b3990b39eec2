"""Bans and the safety audit log over HTTP (admin only, by `kagura.permissions.HTTP`).

- `GET /stage/bans`: every banned viewer, the latest first.
- `POST /stage/ban` with a JSON body `{"platform", "user_id", "name"?, "reason"?}`: ban a
  viewer by platform identity; their chat is dropped from then on, across restarts.
- `DELETE /stage/ban?platform=…&user_id=…`: lift a ban (query parameters, not a body: every
  HTTP tool, a Stream Deck button included, can send them); 404 when there is none.
- `GET /stage/safety-log?limit=50`: the last audit entries, oldest first.

`audit_event` is where a withheld segment becomes an audit entry, for the stage and every
private session alike.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette import status

from kagura.conversation.events import Withheld
from kagura.safety.audit import AuditLog
from kagura.stage import StageEvent
from kagura.stage.bans import MAX_ID_CHARS, MAX_NAME_CHARS, MAX_REASON_CHARS, BanError, BanList

from .authorization import HTTPRefusal

log = logging.getLogger(__name__)

router = APIRouter(prefix="/stage")

MAX_PLATFORM_CHARS = 64
MAX_LOG_ENTRIES = 500


def audit_event(audit: AuditLog, event: StageEvent, where: str) -> None:
    """Record what the output guard withheld (`where`: the stage, or a private session)."""
    if isinstance(event, Withheld):
        audit.record("withheld", text=event.text, rule=event.rule, where=where)


class BanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=MAX_PLATFORM_CHARS)
    user_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    name: str = Field("", max_length=MAX_NAME_CHARS)
    reason: str = Field("", max_length=MAX_REASON_CHARS)


def _bans(request: Request) -> BanList:
    bans: BanList = request.app.state.stage.bans
    return bans


def _not_saved(exc: OSError, what: str) -> HTTPRefusal:
    log.error("bans: could not save the list: %s", exc)
    return HTTPRefusal(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        f"{what} now, but the list could not be saved ({exc.strerror or exc}): "
        "it lasts until the server stops",
    )


@router.get("/bans")
async def list_bans(request: Request) -> dict[str, Any]:
    bans = _bans(request)
    return {"bans": [ban.to_json() for ban in bans.listed()], "count": len(bans)}


@router.post("/ban")
async def ban(request: Request, body: BanRequest) -> dict[str, Any]:
    try:
        banned = await _bans(request).ban(body.platform, body.user_id, body.name, body.reason)
    except BanError as exc:
        raise HTTPRefusal(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
    except OSError as exc:
        raise _not_saved(exc, "banned") from None
    return {"banned": banned.to_json()}


@router.delete("/ban")
async def lift_ban(request: Request, platform: str = "", user_id: str = "") -> dict[str, Any]:
    try:
        lifted = await _bans(request).lift(platform, user_id)
    except BanError as exc:
        raise HTTPRefusal(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
    except OSError as exc:
        raise _not_saved(exc, "lifted") from None
    if lifted is None:
        raise HTTPRefusal(
            status.HTTP_404_NOT_FOUND, f"no ban of user_id {user_id.strip()!r} on {platform!r}"
        )
    return {"lifted": lifted.to_json()}


@router.get("/safety-log")
async def safety_log(request: Request, limit: int = 50) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LOG_ENTRIES:
        raise HTTPRefusal(
            status.HTTP_422_UNPROCESSABLE_ENTITY, f"limit must be 1 to {MAX_LOG_ENTRIES}"
        )
    audit: AuditLog = request.app.state.runtime.audit
    return {"entries": audit.recent(limit)}
