"""What the public may see of the city's reports: the portal's map and list, the form's nearby reports, and
a report's public page (status, the office's public comments, status changes, public photos).

One rule for every public view, by the category's `public_map`:
`hidden` — the report is not public at all (not listed, its page a 404 like a missing number);
`blurred` — its pin rounded to about 100 m; `shown` — the pin as reported. A category the
configuration no longer has is unknown ground: not listed. Nothing here reads the reporter's
contact, the description, the address, internal comments or hidden photos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.service import attachments, known, tickets
from komunikator.engine.service.errors import not_found
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope

Status = Literal["all", "open", "closed"]
#: how far back the public map and list look by default
DEFAULT_DAYS = 90
#: the most reports one page of the list (or the map) holds
PAGE = 50
MAP_LIMIT = 500
_EARTH_M = 6_371_000.0


@dataclass(frozen=True)
class PublicReport:
    """One report as the public sees it."""

    number: str
    category: str
    public_status: str
    state_label: dict[str, str]
    created_at: datetime
    lat: float | None
    lon: float | None
    #: the pin is rounded (a category marked `blurred`)
    blurred: bool = False
    #: metres from a point asked about (nearby reports)
    distance: float | None = None


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a report's public timeline: a status change or a public comment of the office."""

    at: datetime
    kind: Literal["created", "status", "comment"]
    state_label: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class PublicPage:
    """A report's public page."""

    report: PublicReport
    timeline: list[TimelineEntry]
    photos: list[int]
    followers: int


def listed_categories(tenant: CompiledTenant) -> list[str]:
    """The categories whose reports are public (any but `hidden`)."""
    return [name for name, c in tenant.categories.items() if c.spec.public_map != "hidden"]


def public_point(tenant: CompiledTenant, ticket: Ticket) -> tuple[float | None, float | None, bool]:
    """The pin as the public sees it: as reported, rounded (`blurred`), or none; and whether it is rounded."""
    category = tenant.categories.get(ticket.category)
    if category is None or category.spec.public_map == "hidden" or ticket.lat is None or ticket.lon is None:
        return None, None, False
    if category.spec.public_map == "blurred":
        return round(ticket.lat, 3), round(ticket.lon, 3), True
    return ticket.lat, ticket.lon, False


def as_public(tenant: CompiledTenant, ticket: Ticket, distance: float | None = None) -> PublicReport:
    """A ticket as the public sees it."""
    lat, lon, blurred = public_point(tenant, ticket)
    return PublicReport(ticket.number, ticket.category, ticket.public_status,
                        known.state_label(tenant, ticket.process, ticket.state), ticket.created_at, lat, lon,
                        blurred, distance)


async def public_list(scope: TenantScope, tenant: CompiledTenant, now: datetime, *, status: Status = "all",
                      category: str | None = None, days: int = DEFAULT_DAYS, before: int | None = None,
                      limit: int = PAGE) -> tuple[list[PublicReport], int | None]:
    """Public reports of the last `days`, newest first, `limit` a page; the cursor of the next page (or None).

    The cursor is the last report's id (keyset: `id < cursor`, never an offset).
    """
    categories = listed_categories(tenant)
    if category is not None:
        categories = [c for c in categories if c == category]
    query = scope.tickets().filter(category__in=categories, created_at__gte=now - timedelta(days=days))
    if status != "all":
        query = query.filter(public_status=status)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = list(await query.order_by("-id").limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return [as_public(tenant, row) for row in rows], (rows[-1].id if more and rows else None)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(min(1.0, a)))


async def nearby(scope: TenantScope, tenant: CompiledTenant, category: str, lat: float, lon: float,
                 now: datetime, limit: int = 10) -> list[PublicReport]:
    """Open public reports of `category` within its `nearby.distance` of the pin and its `nearby.days`, nearest first.

    Distances are measured from the public pin (a blurred report's rounded one), so the
    answer says nothing finer than the public map does.
    """
    found = tenant.categories.get(category)
    if found is None or found.spec.public_map == "hidden" or found.spec.nearby.distance == 0:
        return []
    radius = found.spec.nearby.distance
    dlat = radius / 111_320 + 0.002  # a box around the pin (plus the rounding of blurred pins), then exact
    dlon = radius / (111_320 * max(0.1, math.cos(math.radians(lat)))) + 0.002
    rows = await scope.tickets().filter(
        category=category, public_status="open", created_at__gte=now - timedelta(days=found.spec.nearby.days),
        lat__gte=lat - dlat, lat__lte=lat + dlat, lon__gte=lon - dlon, lon__lte=lon + dlon,
    ).order_by("-id").limit(200)
    reports = []
    for row in rows:
        shown = as_public(tenant, row)
        if shown.lat is None or shown.lon is None:
            continue
        distance = metres(lat, lon, shown.lat, shown.lon)
        if distance <= radius:
            reports.append(as_public(tenant, row, round(distance)))
    return sorted(reports, key=lambda r: (r.distance or 0, r.number))[:limit]


async def load_public(scope: TenantScope, tenant: CompiledTenant, number: str) -> Ticket:
    """The ticket `number` if the public may see it; the one 404 otherwise (missing, another city's, hidden)."""
    ticket = await tickets.load(scope, number)
    category = tenant.categories.get(ticket.category)
    if category is None or category.spec.public_map == "hidden":
        raise not_found()
    return ticket


async def public_page(scope: TenantScope, tenant: CompiledTenant, number: str) -> PublicPage:
    """A report's public page: its status, the public timeline (oldest first), its public photos, followers."""
    ticket = await load_public(scope, tenant, number)
    timeline = [TimelineEntry(ticket.created_at, "created",
                              known.state_label(tenant, ticket.process, _first_state(tenant, ticket)))]
    for event in await scope.audit_events().filter(ticket_id=ticket.id).order_by("at", "id"):
        before, after = event.before or {}, event.after or {}
        if set(after) == {"state"} and set(before) == {"state"} and before["state"] != after["state"]:
            label = known.state_label(tenant, ticket.process, str(after["state"]))
            if timeline[-1].state_label != label:  # an internal step with the same public label is no news
                timeline.append(TimelineEntry(event.at, "status", label))
    for comment in await scope.comments().filter(ticket_id=ticket.id, visibility="public").order_by("created_at"):
        timeline.append(TimelineEntry(comment.created_at, "comment", body=comment.body))
    timeline.sort(key=lambda e: (e.at, 0 if e.kind != "comment" else 1))
    return PublicPage(as_public(tenant, ticket), timeline, await attachments.public_photo_ids(scope, tenant, ticket),
                      await scope.followers().filter(ticket_id=ticket.id).count())


def _first_state(tenant: CompiledTenant, ticket: Ticket) -> str:
    process = tenant.processes.get(ticket.process)
    return process.entry if process is not None else ticket.state
