"""A ticket as an Open311 service request: the public fields only, in one pass over a page of rows.

The status rule: every state of every process declares `public: open|closed`;
a ticket's `status` is that of its current state (the `public_status` column,
written with every change of state). `status_notes` is the state's public
label in the asked locale, followed by the office's latest public update.
Never published: the reporter's contact, their free-text description, internal
notes, messages, photos that are not public or were hidden, and anything of a
category whose `public_map` is `hidden` (such requests do not exist here).
`blurred` categories give the location rounded to about 100 m and no address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.open311.errors import bad_request, not_found
from komunikator.engine.schema.base import text_for
from komunikator.engine.service import known
from komunikator.engine.store.models import Attachment, Comment
from komunikator.engine.store.scope import TICKET_NUMBER, TenantScope

#: The spec's defaults: the last 90 days, at most 1,000 requests (also the largest page).
DEFAULT_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
#: At most this many ids in one `service_request_id` list.
MAX_IDS = 1000

_COLUMNS = ("id", "number", "category", "process", "state", "public_status", "responsible_unit", "lat", "lon",
            "address", "created_at", "updated_at", "due_at")


@dataclass(frozen=True)
class RequestQuery:
    """The filters of `GET requests` (see `parse_query` in web/open311)."""

    ids: tuple[str, ...] | None = None
    codes: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def request_ids(raw: str) -> tuple[str, ...]:
    """A comma list of service_request_ids (ticket numbers); 400 for one that cannot be a number of any city."""
    ids = tuple(dict.fromkeys(part.strip().upper() for part in raw.split(",") if part.strip()))
    if not ids:
        raise bad_request("service_request_id is empty")
    if len(ids) > MAX_IDS:
        raise bad_request(f"at most {MAX_IDS} service_request_id values at once")
    for value in ids:
        if not TICKET_NUMBER.match(value):
            raise bad_request(f"{value[:40]!r} is not a service_request_id (such as ZG-2026-000123)")
    return ids


_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def single_id(raw: str) -> str:
    """One service_request_id from a path; 404 for anything that is no ticket number (as for a missing one)."""
    value = raw.strip().upper()
    if not _ID.match(value) or not TICKET_NUMBER.match(value):
        raise not_found("service request")
    return value


def hidden_categories(tenant: CompiledTenant) -> list[str]:
    """Categories whose reports are not public at all."""
    return [name for name, c in tenant.categories.items() if c.spec.public_map == "hidden"]


async def find_requests(
    scope: TenantScope, tenant: CompiledTenant, query: RequestQuery, now: datetime
) -> list[dict[str, Any]]:
    """The ticket rows a query selects (public ones), newest first; `service_request_id` overrides the rest."""
    hidden = hidden_categories(tenant)
    rows = scope.tickets().exclude(category__in=hidden) if hidden else scope.tickets()
    if query.ids is not None:
        rows = rows.filter(number__in=list(query.ids))
    else:
        if query.codes is not None:
            rows = rows.filter(category__in=list(query.codes))
        if query.statuses is not None:
            rows = rows.filter(public_status__in=list(query.statuses))
        start, end = _window(query, now)
        if start is not None:
            rows = rows.filter(created_at__gte=start)
        if end is not None:
            rows = rows.filter(created_at__lte=end)
        if query.updated_after is not None:
            rows = rows.filter(updated_at__gt=query.updated_after)
        if query.updated_before is not None:
            rows = rows.filter(updated_at__lt=query.updated_before)
        rows = rows.offset((query.page - 1) * query.page_size).limit(query.page_size)
    found: list[dict[str, Any]] = await rows.order_by("-created_at", "-id").values(*_COLUMNS)
    return found


def _window(query: RequestQuery, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The requested_datetime range: as given, else 90 days back (none when syncing by `updated_*`)."""
    start, end = query.start, query.end
    if start is not None and end is not None:
        if end < start:
            raise bad_request("end_date is before start_date")
        if end - start > DEFAULT_WINDOW:
            raise bad_request("start_date and end_date may not span more than 90 days")
        return start, end
    if start is not None:
        return start, start + DEFAULT_WINDOW
    if end is not None:
        return end - DEFAULT_WINDOW, end
    if query.updated_after is not None or query.updated_before is not None:
        return None, None
    return now - DEFAULT_WINDOW, None


async def public_requests(scope: TenantScope, tenant: CompiledTenant, rows: Sequence[dict[str, Any]], locale: str,
                          base_url: str) -> list[dict[str, Any]]:
    """The rows as service requests: one query for the latest public updates, one for the public photos."""
    ids = [row["id"] for row in rows]
    notes: dict[int, str] = {}
    photos: dict[int, int] = {}
    if ids:
        # the latest update wins (rows oldest first); the oldest photo wins (rows newest first)
        notes = dict(await scope.query(Comment).filter(ticket_id__in=ids, visibility="public").order_by(
            "created_at", "id").values_list("ticket_id", "body"))
        photos = dict(await scope.query(Attachment).filter(
            ticket_id__in=ids, visibility="public", hidden_at__isnull=True).order_by(
            "-created_at", "-id").values_list("ticket_id", "id"))
    zone = ZoneInfo(tenant.config.time_zone)
    return [_request(tenant, row, locale, zone, notes.get(row["id"]), photos.get(row["id"]), base_url)
            for row in rows]


def _request(tenant: CompiledTenant, row: dict[str, Any], locale: str, zone: ZoneInfo, note: str | None,
             photo: int | None, base_url: str) -> dict[str, Any]:
    fallback = tenant.config.locale
    category = tenant.categories.get(row["category"])
    policy = category.spec.public_map if category is not None else "unknown"
    lat, lon, address = row["lat"], row["lon"], row["address"]
    if policy == "blurred":
        lat = round(lat, 3) if lat is not None else None
        lon = round(lon, 3) if lon is not None else None
        address = None
    elif policy == "unknown":
        lat = lon = address = None
        photo = None
    state = known.state_of(tenant, row["process"], row["state"])
    label = text_for(known.state_label(tenant, row["process"], row["state"]), locale, fallback)
    unit = tenant.units.get(row["responsible_unit"])
    number = row["number"]
    return {
        "service_request_id": number,
        "status": row["public_status"],
        "status_notes": f"{label}: {note}" if note else label,
        "service_name": text_for(known.category_name(tenant, row["category"]), locale, fallback),
        "service_code": row["category"],
        "agency_responsible": text_for(dict(unit.name), locale, fallback) if unit is not None else None,
        "service_notice": None if state is None or state.public == "closed"
        else _due_notice(row["due_at"], zone, locale),
        "requested_datetime": _iso(row["created_at"], zone),
        "updated_datetime": _iso(row["updated_at"], zone),
        "expected_datetime": _iso(row["due_at"], zone),
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": f"{base_url}/api/v1/public/tickets/{number}/photos/{photo}" if photo is not None else None,
    }


def _iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat(timespec="seconds") if value is not None else None


_NOTICE = {"pl": "Planowany termin załatwienia: {date}", "en": "Expected to be resolved by {date}"}


def _due_notice(due: datetime | None, zone: ZoneInfo, locale: str) -> str | None:
    """The office's deadline in words, while the request is open (Open311's `service_notice`)."""
    if due is None:
        return None
    return _NOTICE.get(locale, _NOTICE["en"]).format(date=due.astimezone(zone).strftime("%Y-%m-%d"))
