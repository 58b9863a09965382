"""What operators see and do with the outbox (`komunikator outbox status|retry|purge`).

Every query goes through a `TenantScope`: one tenant's rows, or each
tenant's in turn when no tenant is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from komunikator.engine.store.errors import NotFound
from komunikator.engine.store.expressions import Count, Q
from komunikator.engine.store.scope import TenantScope, list_tenants


@dataclass(frozen=True)
class StatusCount:
    """How many rows of a tenant have a status on a channel."""

    tenant: str
    status: str
    channel: str
    count: int


@dataclass(frozen=True)
class FailedRow:
    """A row delivery gave up on."""

    id: int
    tenant: str
    kind: str
    channel: str
    attempts: int
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class OutboxStatus:
    """The outbox at a glance."""

    counts: list[StatusCount]
    oldest_pending: datetime | None
    failed: list[FailedRow]
    failed_total: int


async def _scopes(slug: str | None) -> list[tuple[str, TenantScope]]:
    tenants = await list_tenants()
    if slug is not None:
        tenants = [t for t in tenants if t.slug == slug]
        if not tenants:
            raise NotFound(f"no tenant {slug!r} in the database")
    return [(t.slug, TenantScope(t.id)) for t in tenants]


async def outbox_status(slug: str | None = None, *, failed_limit: int = 20) -> OutboxStatus:
    """Counts by tenant, status and channel; the oldest pending row's age; the latest failed rows."""
    counts: list[StatusCount] = []
    oldest: datetime | None = None
    failed: list[FailedRow] = []
    failed_total = 0
    for name, scope in await _scopes(slug):
        grouped = (
            await scope.outbox().annotate(n=Count("id")).group_by("status", "channel")
            .order_by("status", "channel").values("status", "channel", "n")
        )
        counts += [StatusCount(name, g["status"], g["channel"], int(g["n"])) for g in grouped]
        first = await scope.outbox().filter(status="pending").order_by("created_at").first()
        if first is not None and (oldest is None or first.created_at < oldest):
            oldest = first.created_at
        failed_total += await scope.outbox().filter(status="failed").count()
        for row in await scope.outbox().filter(status="failed").order_by("-id").limit(failed_limit):
            failed.append(FailedRow(row.id, name, row.kind, row.channel, row.attempts, row.last_error or "",
                                    row.created_at))
    failed.sort(key=lambda r: r.id, reverse=True)
    return OutboxStatus(counts, oldest, failed[:failed_limit], failed_total)


async def retry_rows(*, ids: Sequence[int] = (), all_failed: bool = False, slug: str | None = None) -> int:
    """Put failed (or waiting) rows back to pending, due now, attempts reset; return how many.

    `ids` may name pending rows too (they become due at once) unless a worker
    holds them; sent rows are never touched. Recipients a partly delivered row already reached stay
    remembered and are not sent to again.
    """
    if not ids and not all_failed:
        raise ValueError("name rows to retry (ids) or ask for all failed rows")
    changed = 0
    for _name, scope in await _scopes(slug):
        # a pending row under a worker's lease is in flight: leave it to that worker
        rows = scope.outbox().filter(Q(status="failed") | Q(status="pending", claimed_until__isnull=True))
        rows = rows.filter(id__in=list(ids)) if ids else rows.filter(status="failed")
        changed += await rows.update(status="pending", attempts=0, claimed_until=None, next_attempt_at=None,
                                     last_error=None)
    return changed


async def purge_sent(before: datetime, slug: str | None = None) -> int:
    """Delete sent rows sent before `before`; never pending or failed ones. Returns how many."""
    deleted = 0
    for _name, scope in await _scopes(slug):
        deleted += await scope.outbox().filter(status="sent", sent_at__lt=before).delete()
    return deleted
