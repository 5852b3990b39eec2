"""`/memory/...`: the console's view of long-term memory (admin only).

The streamer lists and searches viewer profiles and notes, corrects a note and deletes notes
and viewers. Every call works on the memory of the stage's current character (or the shared
one, when configured), with the same token and roles as the other admin endpoints.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kagura import auth
from kagura.conversation.long_term import scope_of
from kagura.memory import MemoryStore

from .proxy_ws import http_role

router = APIRouter(prefix="/memory")

MAX_NOTE_CHARS = 1_000


class NoteEdit(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


def _admin(request: Request) -> tuple[MemoryStore, str] | JSONResponse:
    """The store and scope for an admin caller, or the response that refuses the call."""
    role = http_role(request)
    if isinstance(role, JSONResponse):
        return role
    if role is not auth.Role.ADMIN:
        return JSONResponse({"error": "only the admin role may read or change memory"}, 403)
    config = request.app.state.stage.conversation.config
    if not config.memory.enabled:
        return JSONResponse({"error": "long-term memory is off (memory.enabled)"}, 409)
    store: MemoryStore = request.app.state.runtime.memory
    return store, scope_of(config)


@router.get("/viewers")
async def list_viewers(
    request: Request, search: str = "", limit: int = 100, offset: int = 0
) -> JSONResponse:
    access = _admin(request)
    if isinstance(access, JSONResponse):
        return access
    store, scope = access
    viewers = await store.viewers(scope, search.strip(), limit, offset)
    return JSONResponse({"viewers": [viewer.to_json() for viewer in viewers]})


@router.get("/notes")
async def list_notes(
    request: Request,
    search: str = "",
    viewer_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> JSONResponse:
    access = _admin(request)
    if isinstance(access, JSONResponse):
        return access
    store, scope = access
    notes = await store.notes(scope, search.strip(), viewer_id, limit, offset)
    counts = await store.count(scope)
    return JSONResponse({"notes": [note.to_json() for note in notes], "totals": counts})


@router.patch("/notes/{note_id}")
async def edit_note(request: Request, note_id: int, body: NoteEdit) -> JSONResponse:
    access = _admin(request)
    if isinstance(access, JSONResponse):
        return access
    store, scope = access
    if not await store.edit_note(scope, note_id, body.text.strip()):
        return JSONResponse({"error": f"no note {note_id}"}, 404)
    return JSONResponse({"id": note_id, "text": body.text.strip()})


@router.delete("/notes/{note_id}")
async def delete_note(request: Request, note_id: int) -> JSONResponse:
    access = _admin(request)
    if isinstance(access, JSONResponse):
        return access
    store, scope = access
    if not await store.delete_note(scope, note_id):
        return JSONResponse({"error": f"no note {note_id}"}, 404)
    return JSONResponse({"deleted": note_id})


@router.delete("/viewers/{viewer_id}")
async def delete_viewer(request: Request, viewer_id: int) -> JSONResponse:
    """The viewer's profile, the facts about them and every note naming them."""
    access = _admin(request)
    if isinstance(access, JSONResponse):
        return access
    store, scope = access
    removed = await store.delete_viewer(scope, viewer_id)
    if not removed:
        return JSONResponse({"error": f"no viewer {viewer_id}"}, 404)
    return JSONResponse({"deleted": viewer_id, "rows": removed})
