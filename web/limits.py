"""Every request body bounded while it is read: a 413 before anything is parsed.

`BodyLimit` is pure ASGI middleware wrapped around the whole app. It counts
the bytes of every request body as they arrive and stops at the limit, so a
150 MB JSON body costs no more than the limit's worth of memory and time:

- a body that is not multipart and *declares* a `Content-Length` over the
  limit is refused before one byte of it is read;
- otherwise the body is counted while it streams in (chunked bodies too),
  and reading stops with a 413 as soon as the count passes the limit.

The limit is `KOMUNIKATOR_MAX_BODY_BYTES` (default 64 KiB; a JSON report is
a few KB). The routes that take photos as multipart raise it for their own
request, to the budget they have computed, with `allow_body(request, n)`
before they read; any other route, including one sent a multipart body it
does not take, stays at the default.

    {"error": "body_too_large", "message": "…", "details": {"max_body_bytes": 65536}}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Where the request's current limit lives in the ASGI scope (routes raise it with `allow_body`).
LIMIT_SCOPE_KEY = "komunikator.max_body_bytes"
DEFAULT_MAX_BODY = 64 * 1024


def max_body_from_env(env: Mapping[str, str] | None = None) -> int:
    """`KOMUNIKATOR_MAX_BODY_BYTES` (default 65536): the largest body a non-upload request may have."""
    env = os.environ if env is None else env
    raw = env.get("KOMUNIKATOR_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"KOMUNIKATOR_MAX_BODY_BYTES: {raw!r} is not a whole number of bytes") from None
    if value < 1024:
        raise ValueError("KOMUNIKATOR_MAX_BODY_BYTES: at least 1024 bytes")
    return value


class BodyTooLarge(HTTPException):
    """The body passed the request's limit (an HTTPException, so FastAPI's body reading lets it through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {_size(limit)} allows")
        self.limit = limit

    def body(self) -> dict[str, object]:
        """The JSON error body."""
        return {"error": "body_too_large", "message": str(self.detail), "details": {"max_body_bytes": self.limit}}


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.0f} MB"
    return f"{limit // 1024} KB" if limit >= 1024 else f"{limit} bytes"


def allow_body(request: Request, limit: int) -> None:
    """Let this request's body grow to `limit` bytes (a route that takes uploads, before it reads)."""
    request.scope[LIMIT_SCOPE_KEY] = limit


def _is_multipart(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return bool(value.lower().startswith(b"multipart/form-data"))
    return False


def _declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """ASGI middleware: refuse (413, JSON) a request body over the limit, counting while it is read."""

    def __init__(self, app: ASGIApp, max_body: int | None = None) -> None:
        self.app = app
        self.max_body = max_body if max_body is not None else max_body_from_env()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with a counting `receive`; answer 413 if the count passes the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[LIMIT_SCOPE_KEY] = self.max_body
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body and not _is_multipart(scope):
            await _refuse(send, self.max_body)  # nothing read: the client may not even have sent it
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                limit: int = scope[LIMIT_SCOPE_KEY]
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as error:  # raised where no exception handler turned it into a response
            if started:
                raise
            await _refuse(send, error.limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(BodyTooLarge(limit).body()).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
