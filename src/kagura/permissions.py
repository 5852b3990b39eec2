"""What each role may do on each endpoint, and what it hears: tables, applied everywhere.

The token decides the role (`kagura.auth`); these tables decide what that role may send and
what it receives of the show.
`/client-ws` is a private conversation, `/proxy-ws` the shared stage, and the same message
can mean something else on each: an interrupt stops your own reply on `/client-ws` but
every page's on the stage. Every client message type has a row (a test checks the rows
against the protocol), so a new message type is a decision, not a gap.

- `platform` (chat clients) only feed the stage: chat, and withdrawing their own chat.
- `page` (the stage page, OBS overlays, a private session in a page) may also acknowledge
  playback, read lists, and drive a private session of its own.
- `admin` (the streamer) may do everything, including what changes shared state: the
  stage's voice input, interrupts, character, histories.
"""

from __future__ import annotations

from enum import StrEnum

from kagura.auth import RANK, Role


class Endpoint(StrEnum):
    CLIENT = "/client-ws"
    STAGE = "/proxy-ws"


# The least role that may connect at all.
CONNECT: dict[Endpoint, Role] = {Endpoint.CLIENT: Role.PAGE, Endpoint.STAGE: Role.PLATFORM}

ADMIN, PAGE, PLATFORM = Role.ADMIN, Role.PAGE, Role.PLATFORM

# message type → the least role that may send it on (/client-ws, /proxy-ws); None: never.
TABLE: dict[str, tuple[Role | None, Role | None]] = {
    "text-input": (PAGE, PLATFORM),
    # A chat client withdraws its own events (a moderator deleted them on the platform).
    "chat-withdraw": (None, PLATFORM),
    "heartbeat": (PAGE, PLATFORM),
    "frontend-playback-complete": (PAGE, PAGE),
    "audio-play-start": (PAGE, PAGE),
    "fetch-configs": (PAGE, PAGE),
    "fetch-backgrounds": (PAGE, PAGE),
    "fetch-history-list": (PAGE, PAGE),
    "create-new-history": (PAGE, PAGE),  # on the stage: answers with the current history
    "request-init-config": (PAGE, PAGE),
    "request-group-info": (PAGE, PAGE),
    "add-client-to-group": (PAGE, PAGE),
    "remove-client-from-group": (PAGE, PAGE),
    # A private session's own voice, reply and character; on the stage, everyone's.
    "mic-audio-data": (PAGE, ADMIN),
    "mic-audio-end": (PAGE, ADMIN),
    "raw-audio-data": (PAGE, ADMIN),
    "ai-speak-signal": (PAGE, ADMIN),
    "interrupt-signal": (PAGE, ADMIN),
    "switch-config": (PAGE, ADMIN),
    # Histories are shared by every conversation of a character, the stage's included.
    "fetch-and-set-history": (ADMIN, ADMIN),
    "delete-history": (ADMIN, ADMIN),
}


# HTTP route (method, path as declared) → the least role that may call it; None: public
# (the pages and what they load, the model list, health). Every route of the app has a row
# (the app refuses to start without one, and a test checks it), so a new route is a decision.
HTTP: dict[tuple[str, str], Role | None] = {
    ("GET", "/"): None,  # to the stage page
    ("GET", "/stage"): None,
    ("GET", "/overlay"): None,
    ("GET", "/captions"): None,
    ("GET", "/widget"): None,
    ("GET", "/widget/settings"): None,
    ("GET", "/vendor/{name:path}"): None,
    ("GET", "/live2d-models/info"): None,
    ("GET", "/health"): None,
    ("GET", "/openapi.json"): None,
    ("HEAD", "/openapi.json"): None,
    ("GET", "/stage/stats"): PLATFORM,
    ("POST", "/stage/pause"): ADMIN,
    # The streamer's safety buttons (also for a Stream Deck or an OBS hotkey script).
    ("POST", "/stage/cut"): ADMIN,
    ("POST", "/stage/panic"): ADMIN,
    ("POST", "/stage/resume"): ADMIN,
    # The show's beginning and end (the stage page's button, a Stream Deck).
    ("POST", "/stage/show"): ADMIN,
    # The queue names viewers and what they wrote; skipping, reordering and the pace are the
    # streamer's.
    ("GET", "/stage/queue"): ADMIN,
    ("POST", "/stage/queue/{item_id}/skip"): ADMIN,
    ("POST", "/stage/queue/{item_id}/next"): ADMIN,
    ("POST", "/stage/pace"): ADMIN,
    # Bans and the safety audit log name viewers and hold what was kept off the stream.
    ("GET", "/stage/bans"): ADMIN,
    ("POST", "/stage/ban"): ADMIN,
    ("DELETE", "/stage/ban"): ADMIN,
    ("GET", "/stage/safety-log"): ADMIN,
    # Logging in to Bilibili from the stage page: the account is the streamer's.
    ("GET", "/stage/bilibili-login"): ADMIN,
    ("POST", "/stage/bilibili-login"): ADMIN,
    ("DELETE", "/stage/bilibili-login"): ADMIN,
    # Long-term memory is about viewers: only the streamer reads or changes it.
    ("GET", "/memory/viewers"): ADMIN,
    ("GET", "/memory/notes"): ADMIN,
    ("PATCH", "/memory/notes/{note_id}"): ADMIN,
    ("DELETE", "/memory/notes/{note_id}"): ADMIN,
    ("DELETE", "/memory/viewers/{viewer_id}"): ADMIN,
}

# Folders of static files, served to anyone: the pages' scripts, Live2D models,
# backgrounds, avatars, and a frontend at `/`.
PUBLIC_FILES = frozenset(
    {"/static", "/live2d-models", "/live2d-models/haru", "/live2d-models/shizuku"}
    | {"/bg", "/avatars", ""}
)

# Whether the role receives the stage's show (turns, audio, performance, interruptions,
# the character's model) beyond the replies to its own messages, and counts as an audience
# for idle talk. Platform clients only feed the stage: the show is not theirs to carry.
HEARS_SHOW: dict[Role, bool] = {ADMIN: True, PAGE: True, PLATFORM: False}


def least_role(endpoint: Endpoint, message_type: str) -> Role | None:
    """The least role that may send `message_type` on `endpoint`; None if no role may."""
    row = TABLE.get(message_type)
    if row is None:
        return None
    return row[0] if endpoint is Endpoint.CLIENT else row[1]


def may_connect(endpoint: Endpoint, role: Role) -> bool:
    return RANK[role] >= RANK[CONNECT[endpoint]]


def http_least_role(method: str, path: str) -> Role | None:
    """The least role that may call the route; None: public. `KeyError` for a route that
    has no row (refuse it: nobody decided who may call it)."""
    return HTTP[(method, path)]


def http_refusal(role: Role, least: Role, method: str, path: str) -> str | None:
    """Why `role` may not call the route, or None when it may."""
    if RANK[role] < RANK[least]:
        return f"the {role.value} role may not {method} {path} ({least.value} only)"
    return None


def refusal(endpoint: Endpoint, role: Role, message_type: str) -> str | None:
    """Why `role` may not send `message_type` on `endpoint`, or None when it may."""
    least = least_role(endpoint, message_type)
    if least is None:
        return f"{message_type!r} is not accepted on {endpoint.value}"
    if RANK[role] < RANK[least]:
        return f"the {role.value} role may not send {message_type!r}"
    return None
