"""The navigation of the staff pages, built in one place as a list of entries.

Every entry comes from a provider: a function of the page that returns entries (or none).
The staff workspace registers its own (the inbox); plugins add theirs with
`add_provider` (the plugin protocol will call it), and the shell draws whatever the list
holds — no template names a page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from komunikator.web.staff.session import Page


@dataclass(frozen=True)
class NavEntry:
    """One link of the navigation; `count` is shown beside it (e.g. waiting work)."""

    key: str
    label: str
    href: str
    count: int | None = None
    #: the accessible name of the count ("3 zadania po terminie"), read with the label
    count_label: str | None = None
    order: int = 100


Provider = Callable[[Page], Awaitable[list[NavEntry]]]
_PROVIDERS: list[Provider] = []


def add_provider(provider: Provider) -> None:
    """Add a source of navigation entries (once; later calls with the same function are ignored)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


async def navigation(page: Page) -> list[NavEntry]:
    """Every entry for this page's user, in order."""
    if page.user is None:
        return []
    entries: list[NavEntry] = []
    for provider in _PROVIDERS:
        entries.extend(await provider(page))
    return sorted(entries, key=lambda e: (e.order, e.key))
