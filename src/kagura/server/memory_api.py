"""`/memory/...`: the console's view of long-term memory (admin only, by the HTTP table).

The streamer lists and searches viewer profiles and notes, corrects a note and deletes notes
and viewers. Every call works on the memory of the stage's current character (or the shared
one, when configured), with the same token and roles as the other admin endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette import status

from kagura.conversation.long_term import scope_of
from kagura.memory import MemoryStore

from .authorization import HTTPRefusal

router = APIRouter(prefix="/memory")

MAX_NOTE_CHARS = 1_000



class NoteEdit(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


@dataclass(frozen=True)
class Memory:
    """The memory the console works on: the stage's current character's (or the shared
    one). Only the admin gets here: `kagura.permissions.HTTP`."""

    store: MemoryStore
    scope: str


def _memory(request: Request) -> Memory:
    config = request.app.state.stage.conversation.config
    if not config.memory.enabled:
        raise HTTPRefusal(status.HTTP_409_CONFLICT, "long-term memory is off (memory.enabled)")
    return Memory(request.app.state.runtime.memory, scope_of(config))


Current = Annotated[Memory, Depends(_memory)]


def _missing(what: str) -> HTTPRefusal:
    return HTTPRefusal(status.HTTP_404_NOT_FOUND, f"no {what}")


@router.get("/viewers")
async def list_viewers(
    memory: Current, search: str = "", limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    viewers = await memory.store.viewers(memory.scope, search.strip(), limit, offset)
    return {"viewers": [viewer.to_json() for viewer in viewers]}


@router.get("/notes")
async def list_notes(
    memory: Current,
    search: str = "",
    viewer_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    store, scope = memory.store, memory.scope
    notes = await store.notes(scope, search.strip(), viewer_id, limit, offset)
    return {"notes": [note.to_json() for note in notes], "totals": await store.count(scope)}


@router.patch("/notes/{note_id}")
async def edit_note(memory: Current, note_id: int, body: NoteEdit) -> dict[str, Any]:
    text = body.text.strip()
    if not await memory.store.edit_note(memory.scope, note_id, text):
        raise _missing(f"note {note_id}")
    return {"id": note_id, "text": text}


@router.delete("/notes/{note_id}")
async def delete_note(memory: Current, note_id: int) -> dict[str, Any]:
    if not await memory.store.delete_note(memory.scope, note_id):
        raise _missing(f"note {note_id}")
    return {"deleted": note_id}


@router.delete("/viewers/{viewer_id}")
async def delete_viewer(memory: Current, viewer_id: int) -> dict[str, Any]:
    """The viewer's profile, the facts about them and every note naming them."""
    removed = await memory.store.delete_viewer(memory.scope, viewer_id)
    if not removed:
        raise _missing(f"viewer {viewer_id}")
    return {"deleted": viewer_id, "rows": removed}
