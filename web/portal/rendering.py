"""The portal's templates: one Jinja2 environment per language (autoescaped, the web catalogs' gettext), and
`render`, which draws a page inside `base.html` with its headers (CSP with the city's tile host, no-store).

Templates extending `base.html` fill three blocks (see the comment at its top): `title`, `content`
and `scripts`. `render` gives every template the shell's context (city, language, nav, csrf …).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from komunikator.web.portal import nav
from komunikator.web.portal.context import PortalPage
from komunikator.web.portal.icons import icon
from komunikator.web.staff import security
from komunikator.web.staff.i18n import LANGUAGES, install_translations, localized, translations, when
from komunikator.web.staff.rendering import HTMX_CONFIG

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
#: the vendored libraries are the staff workspace's (one copy, one manifest): served under /static/vendor too
VENDOR = Path(__file__).parent.parent / "staff" / "static" / "vendor"
LANGUAGE_NAMES = {"pl": "polski", "en": "English"}
R = TypeVar("R", bound=Response)


@cache
def environment(language: str) -> jinja2.Environment:
    """The portal's templates in `language`."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    install_translations(env, translations(language))
    env.globals["static"] = static_url
    env.globals["nav_current"] = nav.current
    env.globals["icon"] = icon
    env.filters["text"] = lambda texts: localized(texts, language)
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)  # escaped as any text
    return env


@cache
def file_version(name: str) -> str:
    """The first 12 hex digits of a portal static file's SHA-256 (its cache-busting version)."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """A static file's URL: vendored files by their version, ours with their hash (both cached for good)."""
    if name.startswith("vendor/"):
        return f"/static/{name}"
    return f"/static/{name}?v={file_version(name)}"


def tile_url(page: PortalPage) -> str | None:
    """The city's tile URL template, if its YAML names one."""
    tiles = page.tenant.config.map.tiles
    return tiles.url if tiles is not None else None


def map_context(page: PortalPage) -> dict[str, Any]:
    """The city's map for a page's data attributes: centre, zoom, bounds, tiles and their credit (none: no tiles)."""
    config = page.tenant.config.map
    return {"center": [config.center.lat, config.center.lon], "zoom": config.zoom,
            "bounds": [[config.bounds.south, config.bounds.west], [config.bounds.north, config.bounds.east]],
            "tiles": config.tiles.url if config.tiles else "",
            "attribution": config.tiles.attribution if config.tiles else ""}


def city_name(page: PortalPage) -> str:
    """The city's name in the page's language."""
    return localized(page.tenant.config.name, page.language)


def shell(page: PortalPage) -> dict[str, Any]:
    """What `base.html` needs besides the page's own context."""
    config = page.tenant.config
    path = page.request.url.path
    return {
        "page": page,
        "language": page.language,
        "languages": [(lang, LANGUAGE_NAMES[lang]) for lang in config.locales if lang in LANGUAGES],
        "city": city_name(page),
        "theme_url": f"/staff/theme.css?v={page.tenant.version[:12]}",
        "has_logo": config.branding.logo is not None,
        "theme_color": config.branding.primary_color,
        "csrf": page.csrf,
        "csrf_header": json.dumps({security.CSRF_HEADER: page.csrf}),
        "htmx_config": HTMX_CONFIG,
        "user": page.user,
        "path": path,
        "contact": config.contact,
        "when": lambda moment, fmt="d MMMM yyyy, HH:mm": when(moment, page.language, config.time_zone, fmt),
        "htmx": page.request.headers.get("hx-request") == "true",
    }


async def render(page: PortalPage, template: str, status_code: int = 200,
                 headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Draw `template` for the page's visitor, with the shell's context and the page headers."""
    values = shell(page)
    values["nav"] = await nav.navigation(page)
    values.update(context)
    html = environment(page.language).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    return finish(page, response)


def finish(page: PortalPage, response: R) -> R:
    """The page headers and the cookies the visit needs (form token, language) on any response."""
    secure = page.request.url.scheme == "https"
    for name, value in page.cookies.items():
        response.set_cookie(name, value, path="/", httponly=True, samesite="lax", secure=secure,
                            max_age=365 * 24 * 3600)
    security.protect(response, page.request, tile_url(page))
    return response
