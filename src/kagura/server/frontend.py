"""What `/` serves: a user's prebuilt frontend (`system.frontend_dir`), else Kagura's stage.

A user of the Open-LLM-VTuber web frontend points Kagura at its built folder and opens the
server as before. The frontend takes `/` and every path nothing else answers; Kagura's own
pages keep their paths (`/stage`, `/overlay`, `/widget`), and so do the endpoints and files
the frontend needs (`/client-ws`, `/live2d-models`, `/bg`, `/avatars`). Without a frontend,
`/` sends the browser on to the stage page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from kagura.config import KaguraConfig

from .pages import STAGE_PATH

INDEX = "index.html"


class FrontendError(Exception):
    """`system.frontend_dir` cannot be served; the message says why and what to do."""


def frontend_folder(config: KaguraConfig) -> Path | None:
    """The configured frontend folder, checked; None when none is configured."""
    setting = config.system.frontend_dir
    if not setting:
        return None
    folder = config.resolve_path(setting)
    where = f"system.frontend_dir: {folder}"
    if not folder.exists():
        raise FrontendError(f"{where} does not exist (point it at the frontend's built folder)")
    if not folder.is_dir():
        raise FrontendError(f"{where} is a file, not a folder")
    if not (folder / INDEX).is_file():
        try:
            empty = not any(folder.iterdir())
        except OSError as exc:
            raise FrontendError(f"{where} cannot be read ({exc.strerror or exc})") from None
        what = "is empty" if empty else f"has no {INDEX}"
        raise FrontendError(
            f"{where} {what}: point it at a built frontend, the folder that holds {INDEX} "
            "(for Open-LLM-VTuber, its frontend folder; run `git submodule update --init` "
            "there if that folder is empty)"
        )
    return folder


def install_root(app: FastAPI, folder: Path | None) -> None:
    """Serve the frontend in `folder` at `/` (call last: it answers every path left), or,
    without one, redirect `/` to the stage page."""
    if folder is None:

        @app.get("/", include_in_schema=False)
        async def to_stage(request: Request) -> RedirectResponse:
            query = request.url.query  # ?token=, ?lang= and ?endpoint= go along
            return RedirectResponse(STAGE_PATH + (f"?{query}" if query else ""))

        return
    app.mount("/", StaticFiles(directory=folder, html=True), name="frontend")
