"""Static files (own and vendored), the tenant's theme stylesheet and logo."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from komunikator.web.staff.rendering import STATIC
from komunikator.web.tenancy import Tenant

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API
_FOREVER = "public, max-age=31536000, immutable"


class Static(StaticFiles):
    """Static files: versioned URLs (vendor/<pkg>@<ver>/…, `?v=<hash>`) are cached for good."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        versioned = path.startswith("vendor/") or b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = _FOREVER if versioned else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> Static:
    """The app's mount for `/staff/static`."""
    return Static(directory=STATIC)


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def readable_on(colour: str) -> str:
    """Black or white, whichever reads better on `colour` (WCAG contrast)."""
    lum = _luminance(colour)
    return "#000000" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#ffffff"


@router.get("/staff/theme.css")
async def theme(tenant: Tenant) -> Response:
    """The city's colours as CSS variables (a file, not inline styles: the CSP allows no `style=""`)."""
    brand = tenant.config.branding
    css = (f":root{{--brand:{brand.primary_color};--brand-text:{readable_on(brand.primary_color)};"
           f"--accent:{brand.accent_color};--accent-text:{readable_on(brand.accent_color)}}}\n")
    return Response(css, media_type="text/css", headers={"Cache-Control": _FOREVER,
                                                          "X-Content-Type-Options": "nosniff"})


@router.get("/staff/logo")
async def logo(tenant: Tenant, request: Request) -> Response:
    """The city's logo from `tenant.yaml` (`branding.logo`, a path in the tenant folder)."""
    name = tenant.config.branding.logo
    folder = Path(tenant.source_dir).resolve()
    path = (folder / name).resolve() if name else None
    if path is None or not path.is_relative_to(folder) or not path.is_file():
        return Response(status_code=404)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not kind.startswith("image/"):
        return Response(status_code=404)
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "public, max-age=3600",
                                                        "X-Content-Type-Options": "nosniff"})
