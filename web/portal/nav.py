"""The portal's navigation, built in one place from providers (the portal's own pages, plugins, accounts).

A provider is an async function of the page returning entries; `add_provider` registers
one (the accounts pages add "Moje konto", each enabled plugin's `portal` nav entries come
from `web/plugins.py`'s `navigation`). `base.html` draws whatever the list holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from komunikator.web.portal.context import PortalPage
from komunikator.web.staff.i18n import N_, translations


@dataclass(frozen=True)
class NavEntry:
    """One link of the portal's navigation."""

    key: str
    label: str
    href: str
    order: int = 100


Provider = Callable[[PortalPage], Awaitable[list[NavEntry]]]
_PROVIDERS: list[Provider] = []

#: the portal's own pages: key, label, href, order
OWN = (("home", N_("Home"), "/", 0), ("report", N_("Report a problem"), "/zglos", 10),
       ("map", N_("Map of reports"), "/mapa", 20), ("list", N_("Reports"), "/zgloszenia", 30))


def add_provider(provider: Provider) -> None:
    """Add a source of navigation entries (once; later calls with the same function are ignored)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


#: a signed-in resident's own reports and follows
MINE = ("mine", N_("My reports"), "/zgloszenia/moje", 40)


async def own_entries(page: PortalPage) -> list[NavEntry]:
    """The portal's own pages (and, signed in, "My reports")."""
    gettext = translations(page.language).gettext
    entries = OWN + ((MINE,) if page.user is not None else ())
    return [NavEntry(key, gettext(label), href, order) for key, label, href, order in entries]


async def plugin_entries(page: PortalPage) -> list[NavEntry]:
    """The `portal` navigation entries of the plugins this city has enabled."""
    from komunikator.engine.config.builtins import default_registry
    from komunikator.web.plugins import navigation as plugin_navigation

    return [NavEntry(f"plugin:{link.plugin}:{link.href}", link.label, link.href, 50)
            for link in plugin_navigation(default_registry(), page.tenant, None, "portal", page.language)]


add_provider(own_entries)
add_provider(plugin_entries)


async def navigation(page: PortalPage) -> list[NavEntry]:
    """Every entry for this page, in order."""
    entries: list[NavEntry] = []
    for provider in _PROVIDERS:
        entries.extend(await provider(page))
    return sorted(entries, key=lambda e: (e.order, e.key))


def current(entries: list[NavEntry], path: str) -> str | None:
    """The key of the entry the path lies under (the longest matching href)."""
    best: tuple[int, str] | None = None
    for entry in entries:
        under = path == entry.href or (entry.href != "/" and path.startswith(entry.href.rstrip("/") + "/"))
        if under and (best is None or len(entry.href) > best[0]):
            best = (len(entry.href), entry.key)
    return best[1] if best else None
