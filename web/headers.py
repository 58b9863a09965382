"""Security headers on every response, as pure ASGI middleware around the whole app.

Each header is a default: a response that sets its own keeps it. So an HTML
page sets its own `Content-Security-Policy` (with the sources it needs) and
a photo its own `Cache-Control`, and this layer fills in the rest:

- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`,
  `X-Frame-Options: DENY` — on everything;
- `Content-Security-Policy`: `default-src 'none'; frame-ancestors 'none'`
  on anything that is not HTML (JSON loads nothing), and
  `frame-ancestors 'none'` on HTML that brought no policy of its own;
- `Cache-Control: no-store` on JSON, HTML and empty answers (they may hold
  personal data: a shared cache or the browser's disk must not keep them);
- `Strict-Transport-Security: max-age=N` when the request came over https
  (behind a proxy: `X-Forwarded-Proto`, trusted as `komunikator serve` sets
  up uvicorn). `KOMUNIKATOR_HSTS_SECONDS` (default one year; 0 turns it off).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_CSP = b"default-src 'none'; frame-ancestors 'none'"
HTML_CSP = b"frame-ancestors 'none'"
DEFAULT_HSTS_SECONDS = 365 * 24 * 3600
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"x-frame-options", b"DENY"))
_PRIVATE_TYPES = (b"application/json", b"application/problem+json", b"text/html")


def hsts_from_env(env: Mapping[str, str] | None = None) -> int:
    """`KOMUNIKATOR_HSTS_SECONDS` (default 31536000; 0: no HSTS header)."""
    env = os.environ if env is None else env
    raw = env.get("KOMUNIKATOR_HSTS_SECONDS", str(DEFAULT_HSTS_SECONDS))
    if not raw.isdigit():
        raise ValueError(f"KOMUNIKATOR_HSTS_SECONDS: {raw!r} is not a whole number of seconds")
    return int(raw)


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp, hsts_seconds: int | None = None) -> None:
        self.app = app
        self.hsts_seconds = hsts_from_env() if hsts_seconds is None else hsts_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the missing headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.complete(list(message.get("headers", [])), https)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def complete(self, headers: list[tuple[bytes, bytes]], https: bool) -> list[tuple[bytes, bytes]]:
        """`headers` with the missing security headers appended."""
        present = {key.lower(): value for key, value in headers}
        content_type = present.get(b"content-type", b"").split(b";")[0].strip().lower()
        added = [(key, value) for key, value in _ALWAYS if key not in present]
        if b"content-security-policy" not in present:
            added.append((b"content-security-policy", HTML_CSP if content_type == b"text/html" else JSON_CSP))
        if b"cache-control" not in present and (content_type in _PRIVATE_TYPES or not content_type):
            added.append((b"cache-control", b"no-store"))
        if https and self.hsts_seconds and b"strict-transport-security" not in present:
            added.append((b"strict-transport-security", f"max-age={self.hsts_seconds}".encode()))
        return headers + added
