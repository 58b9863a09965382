"""The city's home page `/`: what residents can do here — report a problem, the map and list of reports,
and a tile per enabled plugin (its `HomeBlock`s, drawn with the plugin's own template and catalog)."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from komunikator.engine.config.registry import Plugin
from komunikator.web.plugins import HomeContext
from komunikator.web.portal.context import PortalPage, PortalPage_
from komunikator.web.portal.rendering import TEMPLATES, render
from komunikator.web.staff.i18n import compile_catalog, install_translations

router = APIRouter(include_in_schema=False)


_ENVIRONMENTS: dict[tuple[str, str], jinja2.Environment] = {}


def _plugin_environment(plugin: Plugin, language: str) -> jinja2.Environment:
    """A plugin's templates (its folder, named `<plugin>/<file>`) with its own catalog (made once)."""
    key = (plugin.name, language)
    if key not in _ENVIRONMENTS:
        loader: jinja2.BaseLoader = (jinja2.PrefixLoader({plugin.name: jinja2.FileSystemLoader(plugin.templates)})
                                     if plugin.templates else jinja2.DictLoader({}))
        env = jinja2.Environment(loader=loader, autoescape=True, extensions=["jinja2.ext.i18n"],
                                 trim_blocks=True, lstrip_blocks=True)
        catalog = compile_catalog(plugin.translations, language) if plugin.translations else None
        install_translations(env, catalog or compile_catalog(TEMPLATES / "none", language))
        _ENVIRONMENTS[key] = env
    return _ENVIRONMENTS[key]


async def plugin_blocks(page: PortalPage) -> list[Markup]:
    """The home-page blocks of the plugins this city has enabled, drawn (a block with no data is left out)."""
    from komunikator.engine.config.builtins import default_registry

    drawn = []
    for plugin in default_registry().plugins.values():
        if plugin.name not in page.tenant.config.plugins:
            continue
        for block in plugin.home:
            data = await block.render(HomeContext(page.scope, page.tenant, page.language))
            if data is None:
                continue
            template = _plugin_environment(plugin, page.language).get_template(block.template)
            drawn.append(Markup(template.render(block={"name": block.name, "data": dict(data)},  # noqa: S704 - autoescaped template output
                                                language=page.language)))
    return drawn


@router.get("/", response_class=HTMLResponse)
async def home(page: PortalPage_) -> HTMLResponse:
    """The city's services."""
    context: dict[str, Any] = {"blocks": await plugin_blocks(page), "current": "home"}
    return await render(page, "home.html", **context)
