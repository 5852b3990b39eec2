"""The permission tables, walked over the wire: every message type × endpoint × role, and
every HTTP route × role.

Each row of `kagura.permissions.TABLE` is checked against a real server that requires
tokens: a refused message gets the refusal and nothing else happens, an allowed one is
handled. Histories in use by another conversation cannot be deleted from under it.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from fastapi.routing import iter_route_contexts

from kagura.auth import Role, role_token
from kagura.config import KaguraConfig
from kagura.permissions import CONNECT, HTTP, TABLE, Endpoint, least_role
from kagura.protocol.client import KNOWN_TYPES
from kagura.server.app import create_app
from kagura.server.authorization import enforce, unlisted
from kagura.server.widget_ws import create_widget_app
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from kagura.widget import WidgetServer
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher

from .conftest import server_fixture

TOKEN = "table-walk-token"
RANK = {Role.PLATFORM: 0, Role.PAGE: 1, Role.ADMIN: 2}

# A harmless example of every client message: allowed ones must not change shared state
# for the other rows (no such history, no such preset).
SAMPLES: dict[str, dict[str, Any]] = {
    "text-input": {"text": "hello"},
    "chat-withdraw": {"platform": "test", "ids": ["no-such-event"]},
    "mic-audio-data": {"audio": [0.0] * 160},
    "raw-audio-data": {"audio": [0.0] * 512},
    "mic-audio-end": {},
    "ai-speak-signal": {},
    "interrupt-signal": {"text": ""},
    "switch-config": {"file": "no-such-preset.yaml"},
    "fetch-and-set-history": {"history_uid": "no-such-history"},
    "delete-history": {"history_uid": "no-such-history"},
    "add-client-to-group": {"invitee_uid": "nobody"},
    "remove-client-from-group": {"target_uid": "nobody"},
}


guarded = server_fixture(
    "permissions",
    system={"auth_token": TOKEN, "require_token_on_loopback": True},
    conversation={"playback_margin_s": 0.2},
)


# The policy, stated here independently of the table it checks: what each role may send.
READ_AND_ACK = {
    "text-input",
    "chat-withdraw",
    "heartbeat",
    "frontend-playback-complete",
    "audio-play-start",
    "fetch-configs",
    "fetch-backgrounds",
    "fetch-history-list",
    "create-new-history",
    "request-init-config",
    "request-group-info",
    "add-client-to-group",
    "remove-client-from-group",
}
SHARED_HISTORY = {"fetch-and-set-history", "delete-history"}
STAGE_ONLY = {"chat-withdraw"}  # a private session has no queue to withdraw from
ALLOWED: dict[tuple[Endpoint, Role], set[str]] = {
    (Endpoint.STAGE, Role.PLATFORM): {"text-input", "chat-withdraw", "heartbeat"},
    (Endpoint.STAGE, Role.PAGE): READ_AND_ACK,
    (Endpoint.STAGE, Role.ADMIN): set(KNOWN_TYPES),
    (Endpoint.CLIENT, Role.PAGE): set(KNOWN_TYPES) - SHARED_HISTORY - STAGE_ONLY,
    (Endpoint.CLIENT, Role.ADMIN): set(KNOWN_TYPES) - STAGE_ONLY,
}


def client(server: KaguraProcess, endpoint: Endpoint, role: Role) -> StageClient:
    return StageClient(server, None, token=role_token(TOKEN, role), path=endpoint.value)


def test_every_client_message_type_has_one_row() -> None:
    assert sorted(TABLE) == sorted(KNOWN_TYPES)
    assert set(SAMPLES) | {t for t in KNOWN_TYPES if t not in SAMPLES} == set(KNOWN_TYPES)
    assert all(len(typing.cast(tuple[Any, ...], row)) == 2 for row in TABLE.values())


@pytest.mark.parametrize("endpoint", list(Endpoint))
@pytest.mark.parametrize("role", list(Role))
async def test_the_table_holds_on_the_wire(
    guarded: KaguraProcess, fake: FakeOpenAI, endpoint: Endpoint, role: Role
) -> None:
    fake.script = LLMScript(reply="Okay.")
    if (endpoint, role) not in ALLOWED:
        assert RANK[role] < RANK[CONNECT[endpoint]]
        async with client(guarded, endpoint, role) as refused:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await refused.recv(5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            4403,
            f"the {role.value} role may not use {endpoint.value}",
        )
        return
    async with client(guarded, endpoint, role) as connection:
        await connection.connect_sequence()
        for message_type in KNOWN_TYPES:
            await connection.send({"type": message_type, **SAMPLES.get(message_type, {})})
            await connection.send({"type": "heartbeat"})
            answers = await connection.recv_until("heartbeat-ack", timeout=10)
            refusals = {
                f"the {role.value} role may not send {message_type!r}",
                f"{message_type!r} is not accepted on {endpoint.value}",
            }
            refused = any(m.get("message") in refusals for m in answers)
            allowed = message_type in ALLOWED[endpoint, role]
            assert refused != allowed, (endpoint, role, message_type)
            least = least_role(endpoint, message_type)
            assert (least is not None and RANK[role] >= RANK[least]) == allowed


async def test_the_stage_history_cannot_be_deleted_from_elsewhere(
    guarded: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Recorded.")
    async with client(guarded, Endpoint.STAGE, Role.ADMIN) as stage, Watcher(stage) as seen:
        await stage.send({"type": "create-new-history"})
        await seen.wait_for(lambda m: m["type"] == "new-history-created")
        [created] = [m for m in seen.messages if m["type"] == "new-history-created"]
        uid = created["history_uid"]
        async with client(guarded, Endpoint.CLIENT, Role.ADMIN) as private:
            await private.connect_sequence()
            await private.send({"type": "delete-history", "history_uid": uid})
            answers = await private.recv_until("history-deleted", timeout=10)
        assert answers[-1] == {"type": "history-deleted", "success": False, "history_uid": uid}
        assert any("in use by another conversation" in m.get("message", "") for m in answers)
        # The stage still records into its history.
        await stage.send({"type": "text-input", "text": "still recording?"})
        await seen.wait_turns(1, timeout=20)
        await stage.send({"type": "fetch-history-list"})
        await seen.wait_for(lambda m: m["type"] == "history-list")
    [listing] = [m for m in seen.messages if m["type"] == "history-list"][-1:]
    assert uid in [history["uid"] for history in listing["histories"]]


# -- HTTP ---------------------------------------------------------------------------------

# What the HTTP table says, stated here independently: the least role of each protected
# route (every other route is public).
PROTECTED: dict[tuple[str, str], Role] = {
    ("GET", "/stage/stats"): Role.PLATFORM,
    ("POST", "/stage/pause"): Role.ADMIN,
    ("POST", "/stage/cut"): Role.ADMIN,
    ("POST", "/stage/panic"): Role.ADMIN,
    ("POST", "/stage/resume"): Role.ADMIN,
    ("POST", "/stage/show"): Role.ADMIN,
    ("GET", "/stage/queue"): Role.ADMIN,
    ("POST", "/stage/queue/{item_id}/skip"): Role.ADMIN,
    ("POST", "/stage/queue/{item_id}/next"): Role.ADMIN,
    ("POST", "/stage/pace"): Role.ADMIN,
    ("GET", "/memory/viewers"): Role.ADMIN,
    ("GET", "/memory/notes"): Role.ADMIN,
    ("PATCH", "/memory/notes/{note_id}"): Role.ADMIN,
    ("DELETE", "/memory/notes/{note_id}"): Role.ADMIN,
    ("DELETE", "/memory/viewers/{viewer_id}"): Role.ADMIN,
    ("GET", "/stage/bans"): Role.ADMIN,
    ("POST", "/stage/ban"): Role.ADMIN,
    ("DELETE", "/stage/ban"): Role.ADMIN,
    ("GET", "/stage/safety-log"): Role.ADMIN,
    ("GET", "/stage/bilibili-login"): Role.ADMIN,
    ("POST", "/stage/bilibili-login"): Role.ADMIN,
    ("DELETE", "/stage/bilibili-login"): Role.ADMIN,
}
BODIES: dict[str, Any] = {
    "/stage/pause": {"paused": False},
    "/stage/show": {"state": "end"},
    "/stage/pace": {"pace": "normal"},
    "/memory/notes/{note_id}": {"text": "x"},
    "/stage/ban": {"platform": "test", "user_id": "nobody"},  # a viewer who never chats
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("DELETE", "/stage/ban"): {"platform": "test", "user_id": "nobody"},
}


def test_every_route_has_a_row_and_every_row_a_route(tmp_path: Path) -> None:
    """The app refuses to start with a route the tables do not list; and no row is left
    behind by a route that went away."""
    frontend = tmp_path / "frontend"
    frontend.mkdir()
    (frontend / "index.html").write_text("<html></html>", "utf-8")
    config = KaguraConfig.model_validate({"system": {"frontend_dir": str(frontend)}})
    apps = [create_app(KaguraConfig()), create_app(config)]
    apps.append(create_widget_app(config, WidgetServer.from_config(config)))
    assert all(unlisted(app) == [] for app in apps)
    served = {
        (method, route.path)
        for app in apps
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
    }
    assert set(HTTP) <= served
    assert {key for key, least in HTTP.items() if least is not None} == set(PROTECTED)

    extra = create_app(KaguraConfig())
    extra.add_api_route("/surprise", lambda: {}, methods=["GET"])
    assert unlisted(extra) == ["GET /surprise"]
    with pytest.raises(RuntimeError, match="GET /surprise"):
        enforce(extra)


@pytest.mark.parametrize("method,path", sorted(HTTP))
async def test_the_http_table_holds_on_the_wire(
    guarded: KaguraProcess, method: str, path: str
) -> None:
    declared = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # "{name:path}": a converter
    url = declared.format(note_id=1, viewer_id=1, item_id=1, name="pixi.min.js")
    body = BODIES.get(path) if method != "DELETE" else None
    params = QUERIES.get((method, path))
    least = PROTECTED.get((method, path))
    async with httpx.AsyncClient(base_url=guarded.http_url) as http:
        anonymous = await http.request(method, url, json=body, params=params)
        if least is None:
            assert anonymous.status_code not in (401, 403), (method, path)
            return
        assert anonymous.status_code == 401
        assert anonymous.json() == {"error": "a token is required (?token=...)"}
        for role in Role:
            headers = {"Authorization": f"Bearer {role_token(TOKEN, role)}"}
            answer = await http.request(method, url, json=body, params=params, headers=headers)
            if RANK[role] < RANK[least]:
                assert answer.status_code == 403, (method, path, role)
                assert f"the {role.value} role may not" in answer.json()["error"]
            else:  # let through: memory is off on this server, notes do not exist
                assert answer.status_code in (200, 404, 409), (method, path, role, answer.text)
