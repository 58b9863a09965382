"""The plugin's page for residents: `/lost_and_found` lists what the office keeps (Jinja2, its own catalogs)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from babel.support import Translations
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from komunikator.engine.schema.base import text_for
from komunikator.plugins.lost_and_found import register
from komunikator.web.deps import Scope
from komunikator.web.staff.i18n import compile_catalog
from komunikator.web.tenancy import Tenant

TEMPLATES = Path(__file__).parent / "templates"
LOCALE = Path(__file__).parent / "locale"
LANGUAGES = ("pl", "en")
#: The page loads nothing from elsewhere and runs no script.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


@cache
def translations(language: str) -> Translations:
    """The plugin's catalog for `language` (`locale/<lang>/LC_MESSAGES/messages.po`), compiled in memory."""
    return compile_catalog(LOCALE, language)


@cache
def environment(language: str) -> jinja2.Environment:
    """The plugin's templates in `language` (autoescaped)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def router() -> APIRouter:
    """The pages (a factory: the app mounts them, gated per city)."""
    pages = APIRouter()

    @pages.get("/lost_and_found", response_class=HTMLResponse)
    async def found_items(tenant: Tenant, scope: Scope,
                          lang: str = Query("pl", pattern="^(pl|en)$")) -> HTMLResponse:
        """What the office keeps, newest first, and where to collect it."""
        rows = await register.list_items(scope, "kept")
        html = environment(lang).get_template("items.html").render(
            language=lang, city=text_for(dict(tenant.config.name), lang),
            office=text_for(dict(register.settings_of(tenant).office), lang),
            items=[register.item_data(r, tenant) for r in rows])
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    return pages
