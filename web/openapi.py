"""What the OpenAPI document says beyond the routes: the error body every answer shares, and `Allow` on 405.

Every route answers errors as `{"error", "message", "field", "details"}`
(`web/errors.py`); the routers declare them with `ERROR_RESPONSES`, so a
client (and the schemathesis run in the tests) knows every status a route
may give.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict


class ErrorBody(BaseModel):
    """An error answer: a stable code, a message for people, the field at fault and details when useful."""

    model_config = ConfigDict(extra="forbid")

    error: str
    message: str
    field: str | None = None
    details: Any = None


_DESCRIBED = {
    401: "not signed in (no or an unknown session or token)",
    403: "signed in, but this user's role may not do this (or a foreign Origin)",
    404: "no such ticket, task, photo or route in this city, or a host that is no city",
    409: "the ticket changed meanwhile (If-Match), or the action is not available in its state",
    410: "a link that worked once and no longer does (expired, revoked, its report closed)",
    413: "the request body is larger than this route takes",
    415: "a body type this route does not read",
    422: "the request is malformed or refused by the rules (the field and the reason are named)",
    429: "too many attempts: wait for Retry-After seconds",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a router or route: each status with the shared error body."""
    return {code: {"model": ErrorBody, "description": _DESCRIBED[code]} for code in codes}


#: What any API route may answer besides its success.
ERROR_RESPONSES = errors(401, 403, 404, 409, 413, 415, 422, 429)


@lru_cache(maxsize=8)
def _templates(app: FastAPI) -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    out = []
    for path, operations in app.openapi().get("paths", {}).items():
        parts = ["[^/]+" if part.startswith("{") else re.escape(part) for part in path.split("/")]
        out.append((re.compile("^" + "/".join(parts) + "$"), frozenset(m.upper() for m in operations)))
    return tuple(out)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route answers at `path` (Starlette's own 405 names only the first route's)."""
    methods: set[str] = set()
    for pattern, verbs in _templates(app):
        if pattern.match(path):
            methods |= verbs
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
