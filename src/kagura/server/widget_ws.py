"""The widget channel over HTTP: `/widget-ws`, the `/widget` page and its settings.

`kagura serve` carries the channel on its own port and loop (and relays the stage's replies
to it); `kagura widget serve --http-port` builds a small app of its own with the same routes,
on the loop of the standalone server, so both serve one hub. Both check connections with the
main server's rules (`kagura.auth`), and only the admin role may connect as a sender.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from kagura.auth import Refused
from kagura.config import KaguraConfig
from kagura.live2d import ModelInfo, load_registry
from kagura.stage.events import StageEvent
from kagura.widget import WidgetServer, install_server
from kagura.widget.access import admit_kind
from kagura.widget.hub import serve_peer

from .airing import Airing
from .authorization import authorize, enforce
from .connection import accept
from .encoder import WidgetDialect
from .pages import install_assets, page
from .static import OptionalStaticFiles

WIDGETS = "widgets"  # the stage's audience count for the widget channel

router = APIRouter()


@router.get("/widget", include_in_schema=False)
async def widget_page() -> FileResponse:
    """A small Live2D character with a speech bubble, for a corner of any page or scene."""
    return page("widget.html")


@router.get("/widget/settings")
async def widget_settings(request: Request) -> dict[str, Any]:
    """What the page cannot know by itself: the model, how often to retry, the idle tips."""
    server: WidgetServer = request.app.state.widget
    model: ModelInfo | None = request.app.state.widget_model
    return {
        "reconnect_attempts": server.config.reconnect_attempts,
        "idle_tips": server.config.idle_tips,
        "model_info": model.wire() if model is not None else None,
    }


@router.websocket("/widget-ws")
async def widget_ws(websocket: WebSocket) -> None:
    role = await accept(websocket)
    if role is None:
        return
    try:
        kind = admit_kind(role, websocket.url.query)
    except Refused as refused:
        await websocket.close(refused.code, refused.reason)
        return
    server: WidgetServer = websocket.app.state.widget
    assert server.hub is not None

    async def receive() -> str | bytes | None:
        try:
            frame = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return None
        if frame["type"] == "websocket.disconnect":
            return None
        text: str | None = frame.get("text")
        return text if text is not None else bytes(frame.get("bytes") or b"")

    async def close(code: int, reason: str) -> None:
        await websocket.close(code, reason)

    await serve_peer(server.hub, kind, receive, websocket.send_text, close)


def widget_model(config: KaguraConfig, models: dict[str, ModelInfo]) -> ModelInfo | None:
    """`widget.live2d_model`, else the character's model, else the first one registered."""
    name = config.widget.live2d_model or config.character.live2d_model
    return models.get(name) or next(iter(models.values()), None)


@asynccontextmanager
async def widget_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Inside `kagura serve`: the hub on the app's loop, the stage's replies relayed to it,
    and the module-level API (`send_llm_response`, ...) pointed at it."""
    runtime = app.state.runtime
    config: KaguraConfig = runtime.config
    listen = config.widget.listen_in_serve
    # A listener of its own takes the main server's token (perhaps generated and saved).
    token = app.state.auth.token if listen else ""
    server = WidgetServer.from_config(config, token=token)
    await server.start_here(listen=listen)
    app.state.widget = server
    app.state.widget_model = widget_model(config, runtime.models)
    airing: Airing | None = getattr(app.state, "airing", None)
    unsubscribe = _nothing
    if airing is not None and config.widget.publish_stage_replies:
        unsubscribe = relay_replies(airing, server)
    install_server(server)
    try:
        yield
    finally:
        unsubscribe()
        install_server(None)
        await server.astop()


def _nothing() -> None:
    return None


def relay_replies(airing: Airing, server: WidgetServer) -> Callable[[], None]:
    """The stage's finished replies go to the widgets as they go on air (after the stream
    delay, like the OBS overlay), and the widgets count as the stage's audience (idle talk is
    for them too). Returns what undoes both."""
    stage = airing.stage
    assert server.hub is not None
    hub = server.hub
    dialect = WidgetDialect(server.config.max_content_chars, server.config.duration_ms)

    def relay(event: StageEvent) -> None:
        for message in dialect.encode(event):
            server.send(message)

    def present(widgets: int) -> None:
        stage.set_audience(WIDGETS, widgets)

    unsubscribe = airing.subscribe(relay, delayed=True)
    hub.watch_widgets(present)

    def undo() -> None:
        unsubscribe()
        hub.watch_widgets(None)
        stage.set_audience(WIDGETS, 0)

    return undo


def create_widget_app(config: KaguraConfig, server: WidgetServer) -> FastAPI:
    """The standalone HTTP side (`kagura widget serve --http-port`): the page, its files and
    `/widget-ws`, sharing `server`'s hub (start the server on the same loop first)."""
    app = FastAPI(
        title="Kagura widget", docs_url=None, redoc_url=None, dependencies=[Depends(authorize)]
    )
    app.state.widget = server
    models_dir = config.resolve_path(config.system.models_dir)
    app.state.widget_model = widget_model(config, load_registry(models_dir))
    app.state.auth = server.auth  # the page's server binds where the WebSocket one does
    app.include_router(router)
    install_assets(app, models_dir)
    app.mount("/live2d-models", OptionalStaticFiles(directory=models_dir, check_dir=False))
    enforce(app)
    return app
