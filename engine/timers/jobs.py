"""Due process timers and SLA escalations: the clock-driven half of the engine.

`fire_due_timers` is a job (the embedded runner and the Celery `timers` task
call it; tests pass `now`). Per tenant it

1. fires armed timers whose `fire_at` has passed. One transaction per timer
   flips it `armed → fired` with a conditional UPDATE (the claim: of two
   workers only one sees a row change; on PostgreSQL the second waits for
   the first's commit and then finds nothing to flip), runs the runtime's
   `fire_timer` (by the timer's name) on the ticket's view and writes the outcome with the
   ticket's version check. Any failure rolls the claim back with it, so the
   timer stays armed for the next run; a timer whose ticket left the watched
   state (`stale_timer`) is marked cancelled.
2. escalates overdue work: active tasks and open tickets past `due_at`, unless
   the ticket's SLA is paused, emit the `task_overdue` / `ticket_overdue`
   events' notification rules once per (item, deadline). An audit row
   (`task_overdue` / `ticket_overdue`) records the escalation and the outbox
   rows carry dedupe keys `{number}:task:{key}:overdue:{due_at}:…`, so a re-run
   sends nothing twice; a deadline moved later (an SLA pause ended) can
   escalate again when the new one passes.

`overdue(scope, now)` lists what is overdue, for the UI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime import escalate, fire_timer
from komunikator.engine.runtime.outcome import Refusal
from komunikator.engine.runtime.views import ACTIVE_TASK_STATES, SYSTEM
from komunikator.engine.service import row_views as views
from komunikator.engine.service.apply import apply_outcome, audit, notification_payload
from komunikator.engine.store.errors import Duplicate, StaleVersion
from komunikator.engine.store.models import OutboxMessage, Ticket, Timer
from komunikator.engine.store.scope import TenantScope, tenant_by_slug
from komunikator.engine.store.transactions import transaction
from komunikator.engine.tenants import TenantRegistry

log = logging.getLogger(__name__)

#: The audit actions that record an escalation (one per item and deadline).
ESCALATION_ACTIONS = ("task_overdue", "ticket_overdue")


@dataclass(frozen=True)
class OverdueItem:
    """A task or a ticket past its deadline, with work still expected."""

    kind: Literal["task", "ticket"]
    ticket: str  # the ticket's number
    ticket_id: int
    task: str | None  # the task's key (tasks only)
    unit: str  # the task's unit, or the ticket's responsible unit
    due_at: datetime
    assignee_id: int | None = None

    @property
    def event(self) -> str:
        """The engine event an escalation emits."""
        return f"{self.kind}_overdue"

    @property
    def deadline(self) -> str:
        """The deadline as recorded in audit rows and dedupe keys (UTC, whole seconds)."""
        return _stamp(self.due_at)

    @property
    def dedupe_prefix(self) -> str:
        """The start of every outbox dedupe key this escalation writes."""
        what = f"task:{self.task}" if self.kind == "task" else "ticket"
        return f"{self.ticket}:{what}:overdue:{self.deadline}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


async def fire_due_timers(registry: TenantRegistry, *, now: datetime, limit: int = 100) -> int:
    """Fire every tenant's due timers and escalate overdue work; the number of timers fired plus escalations.

    At most `limit` timers and `limit` escalations per tenant and run; the rest
    wait for the next run.
    """
    done = 0
    for slug, tenant in registry.tenants.items():
        row = await tenant_by_slug(slug)
        if row is None:  # no ticket can exist yet
            continue
        scope = TenantScope(row.id)
        done += await fire_tenant_timers(scope, tenant, now=now, limit=limit)
        done += await escalate_overdue(scope, tenant, now=now, limit=limit)
    return done


# -- timers -----------------------------------------------------------------------------------


async def fire_tenant_timers(scope: TenantScope, tenant: CompiledTenant, *, now: datetime, limit: int = 100) -> int:
    """Fire one tenant's timers due by `now` (oldest first); the number fired."""
    due = await scope.timers().filter(status="armed", fire_at__lte=now).order_by("fire_at", "id").limit(limit).values(
        "id"
    )
    fired = 0
    for row in due:
        timer_id = int(row["id"])
        try:
            fired += await _fire_one(scope, tenant, timer_id, now)
        except StaleVersion:
            log.info("timer %s: its ticket changed meanwhile; retried on the next run", timer_id)
        except Exception:  # one broken timer must not stop the others
            log.exception("timer %s of tenant %s failed; retried on the next run", timer_id, tenant.slug)
    return fired


async def _fire_one(scope: TenantScope, tenant: CompiledTenant, timer_id: int, now: datetime) -> int:
    async with transaction():
        claimed = await scope.timers().filter(id=timer_id, status="armed").update(status="fired", fired_at=now)
        if not claimed:  # fired, cancelled or claimed by another worker meanwhile
            return 0
        timer = await scope.get(Timer, id=timer_id)
        ticket = await scope.get(Ticket, id=timer.ticket_id)  # type: ignore[attr-defined]
        view = await views.ticket_view(scope, ticket)
        result = fire_timer(tenant, view, timer.timer_name, now)
        if isinstance(result, Refusal):
            await scope.timers().filter(id=timer_id).update(status="cancelled", fired_at=None, cancelled_at=now)
            log.info("timer %s on %s cancelled: %s", timer_id, ticket.number, result.message)
            return 0
        await apply_outcome(scope, tenant, ticket, view, result, SYSTEM, now, ticket.version)
    return 1


# -- SLA escalations --------------------------------------------------------------------------


async def overdue(scope: TenantScope, now: datetime) -> list[OverdueItem]:
    """Open tickets and active tasks past their deadline at `now`, soonest deadline first.

    Tickets whose SLA is paused (waiting for the reporter) are left out, and
    so are their tasks: their clock does not run.
    """
    items: list[OverdueItem] = []
    tickets = await scope.tickets().filter(
        closed_at__isnull=True, sla_paused_at__isnull=True, due_at__lte=now
    ).values("id", "number", "responsible_unit", "due_at")
    for t in tickets:
        items.append(OverdueItem("ticket", t["number"], t["id"], None, t["responsible_unit"], t["due_at"]))
    tasks = await scope.tasks().filter(
        state__in=sorted(ACTIVE_TASK_STATES), due_at__lte=now, ticket__closed_at__isnull=True,
        ticket__sla_paused_at__isnull=True,
    ).values("key", "unit", "due_at", "assignee_id", "ticket_id", "ticket__number")
    for t in tasks:
        items.append(
            OverdueItem("task", t["ticket__number"], t["ticket_id"], t["key"], t["unit"], t["due_at"], t["assignee_id"])
        )
    items.sort(key=lambda i: (i.due_at, i.ticket, i.task or ""))
    return items


async def _escalated(scope: TenantScope, ticket_ids: set[int]) -> set[tuple[int, str | None, str | None]]:
    """(ticket id, task key, deadline) of every escalation already recorded for these tickets."""
    rows = await scope.audit_events().filter(ticket_id__in=sorted(ticket_ids), action__in=ESCALATION_ACTIONS).values(
        "ticket_id", "after"
    )
    return {(r["ticket_id"], (r["after"] or {}).get("task"), (r["after"] or {}).get("due_at")) for r in rows}


async def escalate_overdue(scope: TenantScope, tenant: CompiledTenant, *, now: datetime, limit: int = 100) -> int:
    """Emit the overdue events for items not escalated yet at their current deadline; the number escalated."""
    items = await overdue(scope, now)
    if not items:
        return 0
    seen = await _escalated(scope, {i.ticket_id for i in items})
    escalated = 0
    for item in items:
        if escalated >= limit:
            break
        if (item.ticket_id, item.task, item.deadline) in seen:
            continue
        try:
            async with transaction():
                await _escalate(scope, tenant, item, now)
            escalated += 1
        except Duplicate:  # another worker escalated it meanwhile (the dedupe key exists)
            log.info("%s %s %s was escalated by another worker", item.kind, item.ticket, item.task or "")
        except Exception:
            log.exception("escalating %s %s %s failed; retried on the next run", item.kind, item.ticket,
                          item.task or "")
    return escalated


async def _escalate(scope: TenantScope, tenant: CompiledTenant, item: OverdueItem, now: datetime) -> None:
    ticket = await scope.get(Ticket, id=item.ticket_id)
    view = await views.ticket_view(scope, ticket)
    messages = 0
    for effect in escalate(tenant, view, item.event, item.task, now).effects:
        if not isinstance(effect, fx.Notify):
            continue
        for channel in effect.channels:
            messages += 1
            await scope.create(
                OutboxMessage, ticket_id=ticket.id, kind=effect.template, channel=channel,
                dedupe_key=f"{item.dedupe_prefix}:{messages}:{channel}",
                payload=notification_payload(tenant, ticket, effect),
            )
    after: dict[str, Any] = {"due_at": item.deadline, "messages": messages}
    if item.task is not None:
        after = {"task": item.task, **after}
    await audit(scope, ticket, SYSTEM, item.event, {}, after, now)
