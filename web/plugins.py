"""Plugins on the web: their routers mounted per city, their navigation and home-page blocks.

A plugin's `api()` router answers under `/api/v1/plugins/<plugin>`; its
`pages()` router holds pages under `/<plugin>/…` (residents) and
`/staff/<plugin>/…` (staff) — paths elsewhere are refused when the app is
built. Both answer 404 (`unknown_plugin`) on the host of a city that has not
enabled the plugin, exactly as for a page that does not exist. `GET
/api/v1/home` gives the home-page blocks of the city's plugins, and the
navigation entries are listed by `navigation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.registry import NavEntry, Plugin, Registry, RegistryError
from komunikator.engine.runtime.access import has_permission
from komunikator.engine.runtime.views import UserView
from komunikator.engine.schema.base import text_for
from komunikator.engine.store.scope import TenantScope
from komunikator.web.deps import Scope
from komunikator.web.errors import ApiError
from komunikator.web.openapi import ERROR_RESPONSES
from komunikator.web.staff import nav as staff_nav
from komunikator.web.staff.session import Page
from komunikator.web.tenancy import Tenant, current_tenant

home_router = APIRouter(prefix="/api/v1", tags=["public"], responses=ERROR_RESPONSES)


def require_plugin(name: str) -> Callable[[CompiledTenant], None]:
    """A dependency refusing (404) a request to a city that has not enabled plugin `name`."""

    def enabled(tenant: Annotated[CompiledTenant, Depends(current_tenant)]) -> None:
        if name not in tenant.config.plugins:
            raise ApiError(404, "unknown_plugin", f"this city does not offer {name!r}")

    return enabled


def mount(app: FastAPI, plugins: Iterable[Plugin]) -> None:
    """Include every plugin's routers, gated per city; refuse pages outside the plugin's own paths; register
    their staff links' counts."""
    plugins = list(plugins)
    count_nav(plugins)
    for plugin in plugins:
        gate = [Depends(require_plugin(plugin.name))]
        if plugin.api is not None:
            router: APIRouter = plugin.api()
            app.include_router(router, prefix=f"/api/v1/plugins/{plugin.name}", dependencies=gate,
                               tags=[f"plugin: {plugin.name}"], responses=ERROR_RESPONSES)
        if plugin.pages is not None:
            pages: APIRouter = plugin.pages()
            allowed = (f"/{plugin.name}", f"/staff/{plugin.name}")
            paths = [str(getattr(r, "path", "")) for r in pages.routes]
            stray = [path for path in paths if not path.startswith(allowed)]
            if stray:
                raise RegistryError(f"plugin {plugin.name!r} has pages outside {' and '.join(allowed)}: {stray}")
            app.include_router(pages, dependencies=gate, include_in_schema=False)


@dataclass(frozen=True)
class NavLink:
    """A navigation entry of a plugin, resolved for one city, user and language."""

    plugin: str
    label: str
    href: str


def navigation(registry: Registry, tenant: CompiledTenant, user: UserView | None, area: str,
               language: str) -> list[NavLink]:
    """The plugins' links in `area` (`staff` or `portal`) this user may follow in this city."""
    links = []
    for plugin in registry.plugins.values():
        if plugin.name not in tenant.config.plugins:
            continue
        for entry in plugin.nav:
            if entry.area == area and _may(tenant, user, entry):
                links.append(NavLink(plugin.name, text_for(dict(entry.label), language, tenant.config.locale),
                                     entry.path))
    return links


def _staff_key(plugin: str, path: str) -> str:
    return f"plugin:{plugin}:{path}"


async def staff_entries(page: Page) -> list[staff_nav.NavEntry]:
    """The plugins' links in the staff workspace's navigation (a provider of `web/staff/nav.py`)."""
    from komunikator.engine.config.builtins import default_registry

    return [staff_nav.NavEntry(_staff_key(link.plugin, link.href), link.label, link.href, order=50)
            for link in navigation(default_registry(), page.tenant, page.view, "staff", page.language)]


staff_nav.add_provider(staff_entries)


@dataclass(frozen=True)
class NavCountContext:
    """What a plugin's navigation count (`NavEntry.count`) works with: one city, one signed-in staff member."""

    scope: TenantScope
    tenant: CompiledTenant
    user: UserView
    now: datetime


def count_nav(plugins: Iterable[Plugin]) -> None:
    """Register the plugins' staff link counts with the staff navigation (`nav.add_counter`)."""
    for plugin in plugins:
        for entry in plugin.nav:
            if entry.area == "staff" and entry.count is not None:
                staff_nav.add_counter(_staff_key(plugin.name, entry.path), _counter(plugin.name, entry))


def _counter(plugin: str, entry: NavEntry) -> staff_nav.Counter:
    count = entry.count
    assert count is not None  # noqa: S101  (only entries with a count get a counter)

    async def counter(page: Page) -> staff_nav.NavCount | None:
        # the link is shown only where the plugin is on and the user may follow it: so is its figure
        if page.view is None or plugin not in page.tenant.config.plugins or not _may(page.tenant, page.view, entry):
            return None
        found = await count(NavCountContext(page.scope, page.tenant, page.view, page.now))
        return staff_nav.NavCount(found, "") if found is not None else None

    return counter


def _may(tenant: CompiledTenant, user: UserView | None, entry: NavEntry) -> bool:
    if entry.capability is None:
        return True
    return user is not None and has_permission(tenant, user, entry.capability)


@dataclass(frozen=True)
class HomeContext:
    """What a plugin's home-page block (`HomeBlock.render`) works with."""

    scope: TenantScope
    tenant: CompiledTenant
    language: str


@home_router.get("/home")
async def home(tenant: Tenant, scope: Scope,
               locale: Annotated[str, Query(pattern="^(pl|en)$")] = "pl") -> dict[str, Any]:
    """The city's home page as data: the blocks its plugins contribute (the portal draws them) and its links."""
    from komunikator.engine.config.builtins import default_registry

    registry = default_registry()
    blocks = []
    for plugin in registry.plugins.values():
        if plugin.name not in tenant.config.plugins:
            continue
        for block in plugin.home:
            data = await block.render(HomeContext(scope, tenant, locale))
            if data is not None:
                blocks.append({"plugin": plugin.name, "name": block.name, "template": block.template,
                               "data": dict(data)})
    links = [{"plugin": n.plugin, "label": n.label, "href": n.href}
             for n in navigation(registry, tenant, None, "portal", locale)]
    return {"blocks": blocks, "links": links}
