"""The navigation of the staff pages, built in one place as a list of entries.

Every entry comes from a provider: a function of the page that returns entries (or none).
The staff workspace registers its own (the inbox); plugins add theirs with
`add_provider` (the plugin protocol will call it), and the shell draws whatever the list
holds — no template names a page.

A count beside an entry ("3 waiting") comes from a counter (`add_counter`), which may read
the database. No page waits for it: the shell draws the entry with an empty place for its
count and fetches the counts after the page has loaded (`GET /staff/nav/counts`, htmx,
out-of-band swaps). A page that has the figures at hand anyway (the inbox) draws them itself
with `navigation(page, counts=True)`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

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

    @property
    def count_id(self) -> str:
        """The HTML id of the place for the entry's count (the key made safe for an id)."""
        return "nav-count-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.key)


@dataclass(frozen=True)
class NavCount:
    """The figure beside an entry and the words a screen reader says with it."""

    count: int
    label: str


Provider = Callable[[Page], Awaitable[list[NavEntry]]]
Counter = Callable[[Page], Awaitable[NavCount | None]]
_PROVIDERS: list[Provider] = []
_COUNTERS: dict[str, Counter] = {}


def add_provider(provider: Provider) -> None:
    """Add a source of navigation entries (once; later calls with the same function are ignored)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def add_counter(key: str, counter: Counter) -> None:
    """Count beside the entry `key` (waiting work, unread messages); the latest registration for a key wins."""
    _COUNTERS[key] = counter


async def navigation(page: Page, *, counts: bool = False) -> list[NavEntry]:
    """Every entry for this page's user, in order; with `counts`, the counters' figures filled in."""
    if page.user is None:
        return []
    entries: list[NavEntry] = []
    for provider in _PROVIDERS:
        entries.extend(await provider(page))
    if counts:
        entries = [await _counted(page, entry) for entry in entries]
    return sorted(entries, key=lambda e: (e.order, e.key))


async def _counted(page: Page, entry: NavEntry) -> NavEntry:
    counter = _COUNTERS.get(entry.key)
    found = await counter(page) if counter is not None and entry.count is None else None
    return replace(entry, count=found.count, count_label=found.label) if found is not None else entry


def counted_keys() -> frozenset[str]:
    """The entries that have a counter (the shell leaves a place for their figures)."""
    return frozenset(_COUNTERS)
