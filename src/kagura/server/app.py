"""The FastAPI application: WebSocket endpoints, HTTP routes and static folders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from kagura.auth import AuthSettings
from kagura.config import KaguraConfig
from kagura.runtime import Runtime

from . import http_errors
from .authorization import authorize, enforce
from .bilibili_login import router as bilibili_login_router
from .client_ws import client_ws
from .cors import PublicFilesCORS
from .encoder import Encoder
from .frontend import frontend_folder, install_root
from .memory_api import router as memory_router
from .pages import install_pages
from .proxy_ws import router as stage_ws_router
from .safety_api import router as safety_router
from .show_api import router as show_router
from .stage_api import router as stage_router
from .stage_api import stage_lifespan
from .static import BACKGROUNDS, OptionalStaticFiles
from .widget_ws import router as widget_router
from .widget_ws import widget_lifespan


def create_app(config: KaguraConfig, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; engines load in the lifespan, so importing or building is cheap.

    Raises `FrontendError` when `system.frontend_dir` is set but cannot be served."""
    frontend = frontend_folder(config)  # first: a bad folder stops everything else
    runtime = runtime or Runtime.from_config(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            async with stage_lifespan(app), widget_lifespan(app):
                yield
        finally:
            login = getattr(app.state, "bilibili_login", None)
            if login is not None:
                await login.aclose()
            await runtime.close()

    app = FastAPI(
        title="Kagura",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(authorize)],  # every route, by `kagura.permissions.HTTP`
    )
    app.state.runtime = runtime
    # One edge for every client, stage and private alike.
    app.state.encoder = Encoder(questions=config.stage.show_question)
    app.state.auth = AuthSettings.load(config)  # once: it may generate and save the token
    app.add_api_websocket_route("/client-ws", client_ws)
    app.include_router(stage_ws_router)  # /proxy-ws
    app.include_router(stage_router)  # /stage/stats and /stage/pause
    app.include_router(safety_router)  # /stage/bans, /stage/ban and /stage/safety-log
    app.include_router(show_router)  # /stage/show: the show's beginning and end
    app.include_router(widget_router)  # /widget, /widget/settings and /widget-ws
    app.include_router(memory_router)  # /memory/...: the console's memory panel
    app.include_router(bilibili_login_router)  # /stage/bilibili-login: the QR code login

    @app.get("/live2d-models/info")
    async def models_info() -> dict[str, Any]:
        characters = [
            {"name": model.name, "avatar": "", "model_path": model.url}
            for model in runtime.models.values()
        ]
        return {"type": "live2d-models/info", "count": len(characters), "characters": characters}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "character": runtime.config.character.conf_name}

    system = config.system
    # Before /live2d-models: the sample models' paths come first.
    install_pages(app, config.resolve_path(system.models_dir))
    nothing_packaged: list[str | tuple[str, str]] = []
    backgrounds: list[str | tuple[str, str]] = [BACKGROUNDS]
    for route, folder, packaged in (
        ("/live2d-models", system.models_dir, nothing_packaged),
        # The background the Open-LLM-VTuber frontend asks for first, shipped in the
        # package: a user's own file of the same name comes first.
        ("/bg", system.backgrounds_dir, backgrounds),
        ("/avatars", system.avatars_dir, nothing_packaged),
    ):
        files = OptionalStaticFiles(
            directory=config.resolve_path(folder), packages=packaged, check_dir=False
        )
        app.mount(route, files)
    install_root(app, frontend)  # last: a frontend at / answers every path left
    app.add_middleware(PublicFilesCORS, origins=[*system.allowed_origins, *system.cors_origins])
    enforce(app)
    http_errors.install(app)
    return app
