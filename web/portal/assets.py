"""The portal's static side: `/static/…` (own files and the vendored libraries), the installable app's
manifest and icons in the city's colours, the service worker `/sw.js` and the offline page.

The service worker is served from the root so that its scope is the whole portal; it
imports the push handler `/sw-push.js` (the accounts/Web Push part, `static/sw-push.js`)
when that file is there. Its cache name carries the hash of the shell it precaches, so a
new release replaces the old cache.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import cache

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from PIL import Image, ImageDraw
from starlette.middleware.gzip import GZipMiddleware

from komunikator.web.portal.context import PortalPage_
from komunikator.web.portal.rendering import STATIC, VENDOR, city_name, render, static_url
from komunikator.web.staff.assets import Static, readable_on
from komunikator.web.staff.i18n import localized
from komunikator.web.tenancy import Tenant

router = APIRouter(include_in_schema=False)
PUSH_HANDLER = STATIC / "sw-push.js"
#: what the service worker keeps for offline use (besides the pages it passes through)
SHELL = ("portal.css", "portal.js", "drafts.js", "report.js", "map.js")
SHELL_VENDOR = ("vendor/htmx.org@2.0.11/htmx.min.js", "vendor/leaflet@1.9.4/leaflet.js",
                "vendor/leaflet@1.9.4/leaflet.css")
_NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
#: the worker's own policy (a worker obeys the CSP of its script's response, not the page's): it imports
#: /sw-push.js and fetches the shell, pages and the offline page, all from this origin; the notifications'
#: icons are ours too. Without it the default for non-HTML (`default-src 'none'`) blocks the import and the
#: worker never installs.
WORKER_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
              "frame-ancestors 'none'")


def install_static(app: FastAPI) -> None:
    """Mount `/static/vendor` (the staff workspace's vendored copies) and `/static` (the portal's own files)."""
    app.mount("/static/vendor", GZipMiddleware(Static(directory=VENDOR), minimum_size=1024), name="portal-vendor")
    app.mount("/static", GZipMiddleware(Static(directory=STATIC), minimum_size=1024), name="portal-static")


def shell_urls() -> list[str]:
    """The URLs the service worker precaches."""
    return [static_url(name) for name in (*SHELL, *SHELL_VENDOR)]


@cache
def _worker_source(has_push: bool) -> str:
    source = (STATIC / "sw.js").read_text()
    urls = shell_urls()
    version = hashlib.sha256(("\n".join(urls) + source).encode()).hexdigest()[:12]
    imports = "importScripts('/sw-push.js');" if has_push else "// no push handler is installed"
    return (source.replace("/*SHELL*/[]", json.dumps(urls)).replace("__VERSION__", version)
            .replace("/*PUSH*/", imports))


@router.get("/sw.js")
async def service_worker() -> Response:
    """The service worker (scope `/`): precached shell, network-first pages, the offline page, drafts."""
    return Response(_worker_source(PUSH_HANDLER.is_file()), media_type="text/javascript",
                    headers={**_NO_CACHE, "Service-Worker-Allowed": "/", "Content-Security-Policy": WORKER_CSP})


@router.get("/sw-push.js")
async def push_handler() -> Response:
    """The Web Push part of the service worker (`static/sw-push.js`), at the root like the worker."""
    if not PUSH_HANDLER.is_file():
        return Response(status_code=404)
    return Response(PUSH_HANDLER.read_bytes(), media_type="text/javascript", headers=_NO_CACHE)


@router.get("/manifest.webmanifest")
async def manifest(page: PortalPage_) -> Response:
    """The installable app of this city: its name, colours and icons (per host, per language)."""
    config = page.tenant.config
    short = localized(config.name, page.language)
    body = {
        "name": city_name(page), "short_name": short[:12] if len(short) > 12 else short,
        "lang": page.language, "start_url": "/?source=pwa", "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": config.branding.primary_color,
        "icons": [{"src": "/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any maskable"},
                  {"src": "/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
                  {"src": "/icon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers=_NO_CACHE)


def _pin(size: int, background: str, foreground: str) -> bytes:
    """A map pin on the city's colour: the app icon (safe area of a maskable icon kept)."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    s = size / 100
    draw.ellipse([35 * s, 22 * s, 65 * s, 52 * s], fill=foreground)
    draw.polygon([(36.5 * s, 43 * s), (63.5 * s, 43 * s), (50 * s, 76 * s)], fill=foreground)
    draw.ellipse([44 * s, 31 * s, 56 * s, 43 * s], fill=background)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@cache
def _icon(size: int, background: str) -> bytes:
    return _pin(size, background, readable_on(background))


@router.get("/icon-192.png")
async def icon_192(tenant: Tenant) -> Response:
    """The app icon, 192 px."""
    return Response(_icon(192, tenant.config.branding.primary_color), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/icon-512.png")
async def icon_512(tenant: Tenant) -> Response:
    """The app icon, 512 px."""
    return Response(_icon(512, tenant.config.branding.primary_color), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/icon.svg")
async def icon_svg(tenant: Tenant) -> Response:
    """The app icon as SVG (the browser tab's icon)."""
    colour = tenant.config.branding.primary_color
    ink = readable_on(colour)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" '
           f'rx="18" fill="{colour}"/><path d="M50 80 C40 62 33 54 33 40 a17 17 0 0 1 34 0 C67 54 60 62 50 80z" '
           f'fill="{ink}"/><circle cx="50" cy="40" r="7" fill="{colour}"/></svg>')
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/offline")
async def offline(page: PortalPage_) -> Response:
    """The page the service worker shows when a page cannot be fetched (precached per city and language)."""
    return await render(page, "offline.html")
