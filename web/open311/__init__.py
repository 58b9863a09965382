"""Open311 GeoReport v2 on every city's host (`/open311/v2/`): routes and the spec's error document.

`install(app)` adds the routes and makes the app's own error handlers (a
404 for an unknown path or host, a 405, a body too large, a NUL character …)
answer under `/open311/` in the spec's shape: `[{code, description}]`,
in the asked format.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from komunikator.web.open311.render import error
from komunikator.web.open311.routes import PREFIX, router


def _description(exc: Any, status: int) -> str:
    for name in ("message", "description", "detail"):
        value = getattr(exc, name, None)
        if isinstance(value, str) and value:
            return value
    if hasattr(exc, "errors"):
        first = (exc.errors() or [{}])[0]
        return str(first.get("msg", "invalid request"))
    return {404: "not found", 405: "method not allowed"}.get(status, "invalid request")


def install(app: FastAPI) -> None:
    """Add the routes; wrap the app's handlers so that `/open311/` answers errors the spec's way."""
    app.include_router(router)
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = _wrapped(handler)


def _wrapped(handler: Any) -> Any:
    async def handle(request: Request, exc: Exception) -> Response:
        response: Response = await handler(request, exc)
        if not request.url.path.startswith(PREFIX + "/") and request.url.path != PREFIX:
            return response
        status = response.status_code
        if status == 422:  # the API's validation status: the spec knows 400
            status = 400
        headers = {k: v for k, v in response.headers.items() if k.lower() in ("allow", "retry-after")}
        return error(request, status, _description(exc, status), headers)

    return handle
