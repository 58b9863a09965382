"""What every staff page sends besides its HTML: the Content-Security-Policy, security headers, CSRF tokens.

The policy allows nothing inline (no `<script>`, no `style=""`, no eval): behaviour lives in
`static/app.js`, looks in `static/app.css` and the tenant's `theme.css`. Map tiles may come
from the tenant's tile host (`tenant.map.tiles.url`), the only outside address a page names.

CSRF: a signed-in user's token is derived from their session secret (which only the
HttpOnly cookie carries), so it changes with every login and is worthless without the cookie;
the sign-in form, before any session, uses a random token in a cookie of its own that the
form must repeat (double submit) — and the browser's `Origin` must be this host.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

LOGIN_CSRF_COOKIE = "komunikator_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


#: `style-src` of the one page that draws process diagrams (`/staff/admin/config/processes/…`): Mermaid
#: writes a `<style>` element and `style=""` attributes into the SVG it makes, and takes no nonce. Only
#: styles are relaxed, only there; scripts stay `'self'`, and `img-src`/`font-src`/`connect-src` stay
#: `'self'`, so an injected style could not send anything to another site.
DIAGRAM_STYLES = "style-src 'self' 'unsafe-inline'"


def content_security_policy(tile_url: str | None = None, *, diagram_styles: bool = False) -> str:
    """The page policy; `tile_url` (a URL template) adds its origin to `img-src`; `diagram_styles`: see above."""
    images = "'self' data: blob:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        if parts.scheme in ("https", "http") and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
            images += f" {parts.scheme}://{host}"
    return (
        "default-src 'self'; script-src 'self'; " + (DIAGRAM_STYLES if diagram_styles else "style-src 'self'") + "; "
        f"img-src {images}; font-src 'self'; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def protect(response: Response, request: Request, tile_url: str | None = None) -> Response:
    """Put the page headers on a response (HTML pages only: the JSON API has its own)."""
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(tile_url)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    # staff pages hold personal data: never stored by the browser or a proxy
    headers["Cache-Control"] = "no-store"
    headers["Vary"] = "HX-Request, Cookie"
    if request.url.scheme == "https":
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def session_csrf_token(session_secret: str) -> str:
    """The CSRF token of a signed-in session (derived from its secret; stable for the session)."""
    return hashlib.sha256(b"komunikator-csrf:" + session_secret.encode()).hexdigest()


def new_login_token() -> str:
    """A random token for the sign-in form's double submit."""
    return secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from a page of another host."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


def token_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
