"""CORS on the public files, so a frontend served from another origin can use them.

The Open-LLM-VTuber frontend is often served from somewhere else (its desktop app, a copy on
another port or host) and loads the Live2D model, its textures, the backgrounds and the
avatars from the backend. Textures drawn with WebGL and module scripts need CORS: without an
`Access-Control-Allow-Origin` header the browser refuses them and the character never
appears.

The origins allowed are the WebSocket's (`kagura.auth.origin_allowed`: this machine's pages,
the server's own origin, `system.allowed_origins`) plus `system.cors_origins`, where `*`
opens these public files, and only these, to every site. Everything else on the server
(the pages, `/stage/stats`, the WebSocket endpoints) is untouched by this middleware.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kagura.auth import origin_allowed

# The public files: models (and their registry), backgrounds, avatars, the pages' scripts.
PUBLIC_PREFIXES = ("/live2d-models", "/bg", "/avatars", "/static", "/vendor")
READ_METHODS = frozenset({"GET", "HEAD"})
PREFLIGHT_MAX_AGE_S = 600
MAX_REQUESTED_HEADERS = 512  # characters of Access-Control-Request-Headers echoed back


def is_public(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES)


class PublicFilesCORS:
    """ASGI middleware: CORS headers on the public files for the allowed origins."""

    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        normalised = {origin.rstrip("/").lower() for origin in origins}
        self.any_origin = "*" in normalised
        self.origins = frozenset(normalised - {"*"})

    def allows(self, origin: str, host: str) -> bool:
        return self.any_origin or origin_allowed(origin, host, self.origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:  # not a cross-origin request: nothing to add but the cache key
            await self.app(scope, receive, self._vary(send))
            return
        allowed = self.allows(origin, headers.get("host", ""))
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, allowed, headers)(scope, receive, send)
            return
        await self.app(scope, receive, self._vary(send, origin if allowed else None))

    def _allow_origin(self, origin: str) -> str:
        return "*" if self.any_origin else origin

    def _vary(self, send: Send, origin: str | None = None) -> Send:
        """`send`, with `Vary: Origin` (the answer depends on it) and the CORS header."""

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header("Origin")
                if origin is not None:
                    response_headers["Access-Control-Allow-Origin"] = self._allow_origin(origin)
            await send(message)

        return send_with_headers

    def _preflight(self, origin: str, allowed: bool, headers: Headers) -> Response:
        method = headers["access-control-request-method"].upper()
        if not allowed:
            return PlainTextResponse(
                f"origin {origin!r} may not load these files: add it to system.cors_origins",
                status_code=403,
                headers={"Vary": "Origin"},
            )
        if method not in READ_METHODS:
            return PlainTextResponse(
                "these files are read-only: GET and HEAD only", status_code=405
            )
        answer = {
            "Access-Control-Allow-Origin": self._allow_origin(origin),
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
            "Vary": "Origin",
        }
        requested = headers.get("access-control-request-headers", "")
        if requested:  # read-only public files: any request header is harmless
            answer["Access-Control-Allow-Headers"] = requested[:MAX_REQUESTED_HEADERS]
        if headers.get("access-control-request-private-network") == "true":
            # A page on a public site asking a server on this machine (Chromium's Private
            # Network Access): allowed for the origins allowed above.
            answer["Access-Control-Allow-Private-Network"] = "true"
        return Response(status_code=204, headers=answer)
