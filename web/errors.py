"""One JSON error shape for the whole API, and handlers that never leak a 500 for bad input.

    {"error": "code", "message": "what went wrong", "field": "…", "details": […]}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """An error the API reports as JSON with a status code."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None, details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.details is not None:
            out["details"] = self.details
        return out


def not_found(what: str = "resource") -> ApiError:
    """The one 404 body used for missing and foreign ids alike (no existence oracle)."""
    return ApiError(404, "not_found", f"{what} not found")


def _service_error_body(exc: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if exc.field is not None:
        body["field"] = exc.field
    if exc.details is not None:
        body["details"] = exc.details
    return body


def _field(err: dict[str, Any]) -> str:
    """The field a validation error is about: its location without the source (`body`, `query` …).

    Only the first element names the source: a body field may itself be called `body`. A body
    that is no JSON at all (`json_invalid`, located at a character offset) is about `body`.
    """
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "json_invalid":
        return "body"
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    from komunikator.engine.service.errors import ServiceError
    from komunikator.engine.store.errors import CrossTenant, NotFound
    from komunikator.web.limits import BodyTooLarge

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        headers = None
        if exc.status == 429 and isinstance(exc.details, dict) and "retry_after" in exc.details:
            headers = {"Retry-After": str(exc.details["retry_after"])}  # seconds, as the body says
        return JSONResponse(_service_error_body(exc), status_code=exc.status, headers=headers)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"error": "not_found", "message": "not found"}, status_code=404)

    @app.exception_handler(CrossTenant)
    async def _cross_tenant(request: Request, exc: CrossTenant) -> JSONResponse:
        return JSONResponse({"error": "invalid_input", "message": "a referenced item does not exist"},
                            status_code=422)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": _field(err), "message": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        first = details[0] if details else {"field": None, "message": "invalid request"}
        return JSONResponse(
            {"error": "invalid_request", "message": first["message"], "field": first["field"], "details": details},
            status_code=422,
        )

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=413, headers={"Connection": "close"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path answers, not only the first route's
            from komunikator.web.openapi import allowed_methods

            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path)) or headers.get("Allow", "")
        return JSONResponse(
            {"error": code, "message": str(exc.detail)}, status_code=exc.status_code, headers=headers
        )
