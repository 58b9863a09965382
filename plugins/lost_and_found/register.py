"""The register of found items: add, list, return, import, and expire what nobody claimed.

Everything goes through the city's `TenantScope` and writes the city's
history (`audit_events`, rows with no ticket unless the item came from one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import events
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid, not_found
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction
from komunikator.plugins.lost_and_found.models import FoundItem
from komunikator.plugins.lost_and_found.names import KINDS, NAME, UNCLAIMED
from komunikator.plugins.lost_and_found.settings import LostAndFoundSettings

#: Items per page of a list.
PAGE = 50


def settings_of(tenant: CompiledTenant) -> LostAndFoundSettings:
    """The city's `lost_and_found:` section (the compiler made sure it is there when the plugin is enabled)."""
    found = tenant.plugin_settings[NAME]
    assert isinstance(found, LostAndFoundSettings)  # noqa: S101 - the section's model is ours
    return found


def local_day(tenant: CompiledTenant, moment: datetime) -> date:
    """The city's calendar day at `moment`."""
    return moment.astimezone(ZoneInfo(tenant.config.time_zone)).date()


@dataclass(frozen=True)
class NewItem:
    """What the office writes down when a thing is handed in."""

    description: str
    kind: str
    found_on: date
    found_at: str
    value: int | None = None

    def check(self, today: date) -> None:
        """Refuse (422) what cannot be registered."""
        if not self.description.strip() or len(self.description) > 500:
            raise invalid("describe the item in 1 to 500 characters", "description")
        if self.kind not in KINDS:
            raise invalid(f"kind must be one of {', '.join(KINDS)}", "kind")
        if not self.found_at.strip() or len(self.found_at) > 300:
            raise invalid("say where it was found, in 1 to 300 characters", "found_at")
        if self.found_on > today:
            raise invalid("an item cannot be found in the future", "found_on")
        if self.value is not None and not 0 <= self.value < 10_000_000:
            raise invalid("the value is in PLN, from 0", "value")


async def add_item(scope: TenantScope, tenant: CompiledTenant, item: NewItem, actor: UserView, now: datetime,
                   ticket: Ticket | None = None) -> FoundItem:
    """Register a found item; it is kept `keep_days` from the day it was found."""
    item.check(local_day(tenant, now))
    keep = timedelta(days=settings_of(tenant).keep_days)
    async with transaction():
        row = await scope.create(FoundItem, description=item.description.strip(), kind=item.kind,
                                 found_on=item.found_on, found_at=item.found_at.strip(),
                                 kept_until=item.found_on + keep, value=item.value, ticket=ticket, created_at=now)
        await audit(scope, ticket, actor, f"{NAME}.add", {}, {"item": row.id, "kind": item.kind}, now)
    return row


async def list_items(scope: TenantScope, status: str = "kept", after: int | None = None,
                     limit: int = PAGE) -> list[FoundItem]:
    """Items in `status`, newest first, a page at a time (keyset: `after` = the last id seen)."""
    rows = scope.query(FoundItem).filter(status=status)
    if after is not None:
        rows = rows.filter(id__lt=after)
    return list(await rows.order_by("-id").limit(limit))


async def kept_count(scope: TenantScope) -> int:
    """How many items the register keeps now (the staff link's figure)."""
    return await scope.query(FoundItem).filter(status="kept").count()


async def return_item(scope: TenantScope, item_id: int, to: str, actor: UserView, now: datetime) -> FoundItem:
    """The owner came: the item leaves the register (409 if it already did)."""
    if not to.strip() or len(to) > 200:
        raise invalid("name who took the item back, in 1 to 200 characters", "returned_to")
    async with transaction():
        row = await scope.find(FoundItem, id=item_id)
        if row is None:
            raise not_found("item")
        if row.status != "kept":
            raise ServiceError(409, "not_available", f"the item is {row.status} already")
        changed = await scope.query(FoundItem).filter(id=item_id, status="kept").update(
            status="returned", returned_to=to.strip(), closed_at=now)
        if not changed:
            raise ServiceError(409, "not_available", "the item was changed meanwhile")
        await audit(scope, None, actor, f"{NAME}.return", {"status": "kept"},
                    {"item": item_id, "status": "returned"}, now)
    row.status, row.returned_to, row.closed_at = "returned", to.strip(), now
    return row


async def import_items(scope: TenantScope, tenant: CompiledTenant, items: Sequence[NewItem], actor: UserView,
                       now: datetime) -> int:
    """Register many items at once (an office moving its register in): all or nothing, one bulk insert."""
    today = local_day(tenant, now)
    for number, item in enumerate(items, start=1):
        try:
            item.check(today)
        except ServiceError as error:
            raise invalid(f"row {number}: {error.message}", error.field or "rows") from None
    keep = timedelta(days=settings_of(tenant).keep_days)
    rows: list[Mapping[str, Any]] = [
        {"description": i.description.strip(), "kind": i.kind, "found_on": i.found_on, "found_at": i.found_at.strip(),
         "kept_until": i.found_on + keep, "value": i.value, "created_at": now}
        for i in items
    ]
    async with transaction():
        count = await scope.bulk_create(FoundItem, rows)
        await audit(scope, None, actor, f"{NAME}.import", {}, {"items": count}, now)
    return count


async def expire(scope: TenantScope, tenant: CompiledTenant, now: datetime) -> int:
    """Items kept past their day become unclaimed, each announced once (`lost_and_found.item_unclaimed`)."""
    today = local_day(tenant, now)
    done = 0
    for row in await scope.query(FoundItem).filter(status="kept", kept_until__lt=today).order_by("id"):
        async with transaction():
            changed = await scope.query(FoundItem).filter(id=row.id, status="kept").update(
                status="unclaimed", closed_at=now)
            if not changed:  # another worker got there first
                continue
            await events.emit(scope, tenant, UNCLAIMED, item_data(row, tenant), occurrence=str(row.id))
            done += 1
    return done


def item_data(row: FoundItem, tenant: CompiledTenant) -> dict[str, Any]:
    """An item as JSON (the API, the templates of its notifications)."""
    return {"id": row.id, "description": row.description, "kind": row.kind, "found_on": row.found_on.isoformat(),
            "found_at": row.found_at, "kept_until": row.kept_until.isoformat(), "status": row.status}
