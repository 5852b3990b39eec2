"""HTTP authorization in one place: every route passes `authorize`, driven by the table
in `kagura.permissions`.

The app installs it as a dependency of every route (`FastAPI(dependencies=...)`), so a
handler never checks a role itself. A route without a row is refused: nobody decided who may
call it. WebSocket routes pass straight through: their endpoints accept or refuse the
connection with a close code and a reason (`connection.accept`), which a browser can read and
an HTTP error would hide.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette import status
from starlette.requests import HTTPConnection
from starlette.routing import Mount

from kagura import auth, permissions

from .connection import check


class HTTPRefusal(Exception):
    """A call refused (who may not call it, or what cannot be done now): answered as JSON
    `{"error": reason}`, the form every page reads."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.status = code
        self.reason = reason


async def authorize(connection: HTTPConnection) -> None:
    """Let the call through, or raise `HTTPRefusal` with the status and the reason."""
    if connection.scope["type"] != "http":
        return
    method = connection.scope["method"]
    path = getattr(connection.scope.get("route"), "path", "")
    try:
        least = permissions.http_least_role(method, path)
    except KeyError:
        unlisted = f"{method} {path} has no permission entry"
        raise HTTPRefusal(status.HTTP_403_FORBIDDEN, unlisted) from None
    if least is None:
        return
    try:
        role = check(connection)
    except auth.Refused as refused:
        unauthorized = refused.code == auth.CLOSE_UNAUTHORIZED
        code = status.HTTP_401_UNAUTHORIZED if unauthorized else status.HTTP_403_FORBIDDEN
        raise HTTPRefusal(code, refused.reason) from None
    refusal = permissions.http_refusal(role, least, method, path)
    if refusal is not None:
        raise HTTPRefusal(status.HTTP_403_FORBIDDEN, refusal)


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPRefusal)
    return JSONResponse({"error": exc.reason}, status_code=exc.status)


def unlisted(app: FastAPI) -> list[str]:
    """The app's routes and folders that the permission tables do not list."""
    missing = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, Mount):
            if route.path not in permissions.PUBLIC_FILES:
                missing.append(f"files at {route.path!r}")
        elif route.methods:
            missing += [
                f"{method} {route.path}"
                for method in sorted(route.methods)
                if (method, route.path) not in permissions.HTTP
            ]
    return missing


def enforce(app: FastAPI) -> None:
    """Answer refusals as JSON, and check once the app is built that every route has a
    row: a missing one is a programming error, found at start-up rather than by a caller."""
    app.add_exception_handler(HTTPRefusal, _refused)
    missing = unlisted(app)
    if missing:
        raise RuntimeError(f"routes without a permission entry: {', '.join(missing)}")
