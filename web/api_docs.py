"""`/docs`: Swagger UI served from the package, never from a public CDN (issue #12, 9).

FastAPI's own `/docs` (and `/redoc`) load their JavaScript from a CDN on
every city's origin; the app turns them off and serves this page instead.
Its scripts are the copy `scripts/vendor` keeps of the npm package
`swagger-ui-dist` at a pinned version (hashes in the vendor manifest), and
its Content-Security-Policy allows scripts from the city's own origin only.

`KOMUNIKATOR_API_DOCS=off` removes the page (the OpenAPI document at
`/openapi.json` stays: clients generate code from it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from komunikator.web.errors import not_found

SWAGGER_UI_VERSION = "5.36.0"
ASSETS = Path(__file__).parent / "staff" / "static" / "vendor" / f"swagger-ui-dist@{SWAGGER_UI_VERSION}"
_PREFIX = f"/docs/swagger-ui@{SWAGGER_UI_VERSION}"
_FOREVER = "public, max-age=31536000, immutable"
#: Swagger UI sets `style=""` attributes and shows inline SVG images; scripts come only from here.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")

_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Komunikator API</title>
<link rel="stylesheet" href="{_PREFIX}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_PREFIX}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
"""


def docs_enabled(env: Mapping[str, str] | None = None) -> bool:
    """`KOMUNIKATOR_API_DOCS`: `on` (default) or `off`."""
    env = os.environ if env is None else env
    value = env.get("KOMUNIKATOR_API_DOCS", "on").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"KOMUNIKATOR_API_DOCS: {value!r}; use on or off")
    return value == "on"


router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def docs_page() -> HTMLResponse:
    """The Swagger UI page."""
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"})


@router.get("/docs/init.js")
async def docs_init() -> Response:
    """The page's start-up script (a file: the policy allows no inline script)."""
    return Response(_INIT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get(_PREFIX + "/{name}")
async def docs_asset(name: str) -> Response:
    """The vendored Swagger UI files (the version is in the path: cached for good)."""
    if name not in ("swagger-ui-bundle.js", "swagger-ui.css"):
        raise not_found("file")
    return FileResponse(ASSETS / name, headers={"Cache-Control": _FOREVER})


def install(app: FastAPI) -> None:
    """Add the page, unless `KOMUNIKATOR_API_DOCS=off`."""
    if docs_enabled():
        app.include_router(router)
