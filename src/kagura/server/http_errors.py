"""One form for every HTTP error: `{"error": "..."}`, as refusals already answer.

FastAPI answers a body or query it cannot validate with `{"detail": [...]}`, a list of
pydantic errors; the pages, a Stream Deck script and `curl` would each have to know both
forms. Here such a request gets the same status (422) and one readable line naming each bad
field: `body.user_id: Field required`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.status import HTTP_422_UNPROCESSABLE_CONTENT

MAX_ERRORS = 5  # named in one answer; a request wrong in more ways is wrong enough


def _field(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    named = [f"{_field(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in errors]
    more = len(named) - MAX_ERRORS
    text = "; ".join(named[:MAX_ERRORS]) + (f"; and {more} more" if more > 0 else "")
    body = {"error": text or "invalid request"}
    return JSONResponse(body, status_code=HTTP_422_UNPROCESSABLE_CONTENT)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
