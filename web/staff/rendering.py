"""Templates: one Jinja2 environment per language (autoescaped, Babel's gettext installed), and
`render`, which draws a page inside the shell with its headers (CSP, no-store)."""

from __future__ import annotations

import hashlib
import json
from functools import cache, partial
from pathlib import Path
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

from komunikator.web.staff import nav, security
from komunikator.web.staff.field_html import field_html
from komunikator.web.staff.i18n import LANGUAGES, NUMERIC, install_translations, localized, translations, when
from komunikator.web.staff.session import Page

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: htmx's configuration (UI.md §5): no injected <style>, no eval, no history snapshots,
#: 422 answers swapped (forms with errors), other errors not.
HTMX_CONFIG = json.dumps({
    "includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False, "historyCacheSize": 0,
    "refreshOnHistoryMiss": True, "attributesToSettle": ["class", "width", "height"],
    "responseHandling": [
        {"code": "204", "swap": False}, {"code": "[23]..", "swap": True}, {"code": "422", "swap": True},
        {"code": "409", "swap": True}, {"code": "[45]..", "swap": False, "error": True},
    ],
}, separators=(",", ":"))


@cache
def environment(language: str) -> jinja2.Environment:
    """The templates in `language`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # package files: compiled once per process (an include in a loop no longer stats them)
    )
    catalog = translations(language)
    install_translations(env, catalog)
    env.globals["field_html"] = partial(field_html, error_word=catalog.gettext("Error"))
    env.globals["static"] = static_url
    env.filters["text"] = lambda texts: localized(texts, language)
    return env


@cache
def _file_version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The URL of a static file; our own files carry their hash (cached for good), vendored ones their version."""
    if name.startswith("vendor/"):
        return f"/staff/static/{name}"
    return f"/staff/static/{name}?v={_file_version(name)}"


def tile_source(page: Page) -> tuple[str | None, str | None]:
    """The tenant's map tiles (URL template, attribution), if its YAML names them."""
    tiles = page.tenant.config.map.tiles
    return (tiles.url, tiles.attribution) if tiles is not None else (None, None)


async def render(page: Page, template: str, status_code: int = 200, *, nav_counts: bool = False,
                 **context: Any) -> HTMLResponse:
    """Draw `template` for the page's user, with the shell's context and the page headers; the navigation's
    counts come after the page (`nav_counts`: drawn in it, for a page that has them at hand)."""
    env = environment(page.language)
    config = page.tenant.config
    entries = await nav.navigation(page, counts=nav_counts)
    counted = nav.counted_keys()
    base: dict[str, Any] = {
        "page": page,
        "language": page.language,
        "languages": [lang for lang in config.locales if lang in LANGUAGES],
        "city": localized(config.name, page.language),
        "branding": config.branding,
        "theme_url": f"/staff/theme.css?v={page.tenant.version[:12]}",
        "has_logo": config.branding.logo is not None,
        "csrf": page.csrf,
        "csrf_header": json.dumps({security.CSRF_HEADER: page.csrf}),
        "htmx_config": HTMX_CONFIG,
        "nav": entries,
        "nav_counted": counted,
        # (not while a temporary password waits to be changed: the counts' request would be sent to change it)
        "nav_deferred": page.user is not None and not page.user.must_change_password
        and any(e.count is None and e.key in counted for e in entries),
        "user": page.user,
        "when": lambda moment, fmt=NUMERIC: when(moment, page.language, config.time_zone, fmt),
        "htmx": page.request.headers.get("hx-request") == "true",
    }
    base.update(context)
    html = env.get_template(template).render(base)
    response = HTMLResponse(html, status_code=status_code)
    if page.new_login_token:
        response.set_cookie(security.LOGIN_CSRF_COOKIE, page.new_login_token, path="/staff", httponly=True,
                            samesite="strict", secure=page.request.url.scheme == "https")
    security.protect(response, page.request, tile_source(page)[0])
    return response
