"""The staff's daily digest: what waits for each person, once a local day.

`send_digests` is a job (the embedded runner and the Celery `digests` task
call it every few minutes). For each tenant whose local time has reached its
`digest_hour`, each active staff member gets one outbox row (template
`staff_digest`, recipient `user:{id}`) when something waits for them:

- tasks still open or in progress that are assigned to them, or addressed to
  a unit they handle tasks in (or above it) and taken by nobody yet;
- for people who verify reports (`edits_tickets` roles), the number of
  reports still in their process's entry state.

The dedupe key `digest:{user}:{local date}` makes it once per person and
day, whichever worker runs first. The payload carries the template's
`digest` variables, dates already formatted in the tenant's time zone and
locale (definitions/templates/digest.yaml).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.render import format_when, tenant_host
from komunikator.engine.runtime.access import edits_tickets, handles
from komunikator.engine.runtime.overdue import deadline_passed
from komunikator.engine.runtime.views import ACTIVE_TASK_STATES, UserView
from komunikator.engine.schema.base import text_for
from komunikator.engine.service import row_views as views
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import OutboxMessage
from komunikator.engine.store.scope import TenantScope, tenant_by_slug
from komunikator.engine.store.transactions import savepoint
from komunikator.engine.tenants import TenantRegistry

log = logging.getLogger(__name__)

TEMPLATE = "staff_digest"


def dedupe_key(user_id: int, day: date) -> str:
    """The outbox key that makes a digest once per person and local day."""
    return f"digest:{user_id}:{day.isoformat()}"


@dataclass(frozen=True)
class WaitingTask:
    """An active task as the digest lists it."""

    number: str
    key: str
    unit: str
    category: str
    assignee_id: int | None
    due_at: datetime | None
    title: dict[str, str] | None
    #: the ticket waits for the resident: its clock stands still
    sla_paused: bool = False


async def send_digests(registry: TenantRegistry, *, now: datetime) -> int:
    """Write today's digests for every tenant past its digest hour; the number written."""
    written = 0
    for slug, tenant in registry.tenants.items():
        local = now.astimezone(ZoneInfo(tenant.config.time_zone))
        if local.hour < tenant.config.digest_hour:
            continue
        row = await tenant_by_slug(slug)
        if row is None:
            continue
        try:
            written += await tenant_digests(
                TenantScope(row.id), tenant, now=now, base_url=f"https://{tenant_host(tenant, registry.base_domain)}"
            )
        except Exception:  # one tenant's trouble must not keep the others' digests back
            log.exception("digests of tenant %s failed; retried on the next run", slug)
    return written


async def tenant_digests(scope: TenantScope, tenant: CompiledTenant, *, now: datetime, base_url: str) -> int:
    """Write one tenant's digests for the local day of `now` (those not written yet); the number written."""
    day = now.astimezone(ZoneInfo(tenant.config.time_zone)).date()
    staff = await scope.users().filter(kind="staff", active=True).order_by("id")
    if not staff:
        return 0
    keys = {dedupe_key(u.id, day): u for u in staff}
    sent = {r["dedupe_key"] for r in await scope.outbox().filter(dedupe_key__in=list(keys)).values("dedupe_key")}
    pending = [u for key, u in keys.items() if key not in sent]
    if not pending:
        return 0
    tasks = await _waiting_tasks(scope)
    unverified = await _unverified(scope, tenant)
    written = 0
    for user in pending:
        view = await views.user_view(scope, user)
        mine = [t for t in tasks if _waits_for(tenant, view, user.id, t)]
        verifies = edits_tickets(tenant, view)
        if not mine and not (verifies and unverified):
            continue
        digest = _digest(tenant, mine, unverified if verifies else 0, day, now, base_url)
        payload = {"template": TEMPLATE, "event": "digest", "recipients": [f"user:{user.id}"], "ticket": None,
                   "task": None, "locale": tenant.config.locale, "digest": digest}
        try:
            async with savepoint():
                await scope.create(OutboxMessage, kind=TEMPLATE, channel="email",
                                   dedupe_key=dedupe_key(user.id, day), payload=payload)
            written += 1
        except Duplicate:  # another worker wrote it meanwhile
            continue
    return written


async def _waiting_tasks(scope: TenantScope) -> list[WaitingTask]:
    rows = await scope.tasks().filter(
        state__in=sorted(ACTIVE_TASK_STATES), ticket__closed_at__isnull=True
    ).values("key", "unit", "assignee_id", "due_at", "title", "ticket__number", "ticket__category",
             "ticket__sla_paused_at")
    return [
        WaitingTask(r["ticket__number"], r["key"], r["unit"], r["ticket__category"], r["assignee_id"], r["due_at"],
                    r["title"], r["ticket__sla_paused_at"] is not None)
        for r in rows
    ]


async def _unverified(scope: TenantScope, tenant: CompiledTenant) -> int:
    """Open reports still in their process's entry state (waiting for verification)."""
    count = 0
    for name, process in tenant.processes.items():
        count += await scope.tickets().filter(process=name, state=process.entry, closed_at__isnull=True).count()
    return count


def _waits_for(tenant: CompiledTenant, view: UserView, user_id: int, task: WaitingTask) -> bool:
    if task.assignee_id is not None:
        return task.assignee_id == user_id
    return handles(tenant, view, task.unit)


def _digest(
    tenant: CompiledTenant, tasks: list[WaitingTask], unverified: int, day: date, now: datetime, base_url: str
) -> dict[str, Any]:
    """The template's `digest` variables."""
    locale = tenant.config.locale
    tasks = sorted(tasks, key=lambda t: (t.due_at is None, t.due_at or now, t.number, t.key))
    items = []
    for task in tasks:
        category = tenant.categories.get(task.category)
        category_name = text_for(dict(category.spec.name), locale) if category else task.category
        items.append({
            "number": task.number,
            "category_name": category_name,
            "title": text_for(task.title, locale) if task.title else category_name,
            "due_at": format_when(task.due_at, tenant, locale) or "—",
            # runtime.overdue's definition: active (listed), open (listed), clock running, deadline come
            "overdue": not task.sla_paused and deadline_passed(task.due_at, now),
            "staff_url": f"{base_url}/staff/tickets/{task.number}/tasks/{task.key}",
        })
    return {
        "date": format_date(day, "long", locale=locale),
        "staff_url": f"{base_url}/staff/tasks",
        "unverified_count": unverified,
        "overdue_count": sum(1 for i in items if i["overdue"]),
        "tasks": items,
    }
