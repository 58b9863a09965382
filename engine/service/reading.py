"""Read models: a ticket as the API shows it, its history, and lists that page by keyset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import allowed_actions, allowed_task_actions
from komunikator.engine.runtime.views import ACTIVE_TASK_STATES, TicketView, UserView
from komunikator.engine.schema.base import text_for
from komunikator.engine.service import search
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _past(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and deadline < now


async def ticket_json(
    scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, view: TicketView, user: UserView, now: datetime,
    locale: str = "pl",
) -> dict[str, Any]:
    """The staff view of a ticket: fields, tasks, and what this user may do now."""
    process = tenant.processes[ticket.process]
    state = process.states[ticket.state]
    contact = None
    if ticket.reporter_contact_id is not None:  # type: ignore[attr-defined]
        row = await scope.reporter_contacts().get_or_none(id=ticket.reporter_contact_id)  # type: ignore[attr-defined]
        if row is not None and row.erased_at is None:
            contact = {"name": row.name, "email": row.email, "phone": row.phone}
    running = ticket.closed_at is None and ticket.sla_paused_at is None  # see `overdue_at`
    return {
        "number": ticket.number,
        "version": ticket.version,
        "category": ticket.category,
        "category_name": text_for(dict(tenant.categories[ticket.category].spec.name), locale),
        "process": ticket.process,
        "state": ticket.state,
        "state_label": text_for(dict(state.label), locale),
        "public_status": ticket.public_status,
        "responsible_unit": ticket.responsible_unit,
        "priority": ticket.priority,
        "description": ticket.description,
        "lat": ticket.lat,
        "lon": ticket.lon,
        "address": ticket.address,
        "channel": ticket.channel,
        "attributes": dict(view.attributes),
        "reporter": contact,
        "created_at": _iso(ticket.created_at),
        "state_entered_at": _iso(ticket.state_entered_at),
        "due_at": _iso(ticket.due_at),
        "closed_at": _iso(ticket.closed_at),
        "sla_paused": ticket.sla_paused_at is not None,
        "overdue": running and (_past(ticket.due_at, now) or any(t.active and _past(t.due_at, now)
                                                                for t in view.tasks)),
        "tasks": [
            {
                "key": t.key,
                "unit": t.unit,
                "state": t.state,
                "step": t.step,
                "assignee": t.assignee,
                "due_at": _iso(t.due_at),
                "overdue": running and t.active and _past(t.due_at, now),
                "actions": [
                    {"name": a.name, "requires": list(a.requires)}
                    for a in allowed_task_actions(tenant, view, t.key, user)
                ],
            }
            for t in view.tasks
        ],
        "actions": [
            {"name": a.name, "kind": a.kind, "requires": list(a.requires), "to": a.dest,
             "label": text_for(dict(a.label), locale) if a.label else a.name}
            for a in allowed_actions(tenant, view, user, now)
        ],
    }


async def history(scope: TenantScope, ticket: Ticket) -> list[dict[str, Any]]:
    """Every change, transition, assignment and comment of a ticket, oldest first."""
    events = await scope.audit_events().filter(ticket_id=ticket.id).order_by("at", "id")
    comments = {c.id: c for c in await scope.comments().filter(ticket_id=ticket.id)}
    users = {u.id: u for u in await scope.users().filter(
        id__in=[e.actor_user_id for e in events if e.actor_user_id is not None])}  # type: ignore[attr-defined]
    out = []
    for event in events:
        actor_id = event.actor_user_id  # type: ignore[attr-defined]
        entry: dict[str, Any] = {
            "at": _iso(event.at),
            "action": event.action,
            "actor": {"kind": event.actor_kind, "id": actor_id,
                      "name": users[actor_id].display_name if actor_id in users else None},
            "before": event.before,
            "after": event.after,
            "reason": event.reason,
        }
        comment_id = (event.after or {}).get("comment") if event.action == "comment" else None
        if comment_id in comments:
            entry["comment"] = {"body": comments[comment_id].body, "visibility": comments[comment_id].visibility}
        out.append(entry)
    return out


@dataclass(frozen=True)
class ListFilters:
    """Structured filters of the ticket list."""

    state: str | None = None
    public_status: str | None = None
    category: str | None = None
    unit: str | None = None
    priority: str | None = None
    #: True: only overdue tickets (`overdue_at`); False: only the others; None: both
    overdue: bool | None = None


def overdue_at(scope: TenantScope, now: datetime) -> Q:
    """The tickets overdue at `now`: open, their SLA running, and their own deadline or an active task's passed.

    A ticket whose SLA is paused (waiting for the resident) is never overdue:
    its clocks and its tasks' stand still, and are moved on when it resumes.
    """
    late_tasks = scope.tasks().filter(state__in=sorted(ACTIVE_TASK_STATES), due_at__lt=now).values("ticket_id")
    running = Q(closed_at__isnull=True, sla_paused_at__isnull=True)
    # `due_at IS NOT NULL` keeps the condition two-valued, so that its negation finds the undated tickets
    return running & (Q(due_at__isnull=False, due_at__lt=now) | Q(id__in=Subquery(late_tasks)))


def visible_units(tenant: CompiledTenant, user: UserView) -> tuple[set[str], set[str]] | None:
    """(units whose tickets the user sees, units whose tasks' tickets they see); None: every ticket.

    Mirrors `runtime.access.sees_ticket`, as a query.
    """
    responsible: set[str] = set()
    tasks: set[str] = set()
    for m in user.memberships:
        role = tenant.roles.get(m.role)
        if role is None or m.unit not in tenant.units:
            continue
        external = tenant.units[m.unit].external
        subtree = set(tenant.unit_subtree.get(m.unit, ()))
        if role.sees == "all" and not external:
            return None
        tasks |= subtree
        if role.sees == "unit" and not external:
            responsible |= subtree
    return responsible, tasks


async def visible_tickets(
    scope: TenantScope, tenant: CompiledTenant, user: UserView, filters: ListFilters, now: datetime | None = None
) -> QuerySet[Ticket]:
    """The tickets the user may see that pass the structured filters, as a query to refine.

    `now` is needed for `filters.overdue` (ValueError without it).
    """
    query = scope.tickets()
    scopes = visible_units(tenant, user) if user.kind == "staff" else (set(), set())
    if scopes is not None:
        responsible, task_units = scopes
        # one query: the task condition stays a subquery in the database, never a list in Python
        with_tasks = scope.tasks().filter(unit__in=sorted(task_units)).exclude(state="cancelled").values("ticket_id")
        query = query.filter(Q(responsible_unit__in=sorted(responsible)) | Q(id__in=Subquery(with_tasks)))
    for name in ("state", "public_status", "category", "priority"):
        value = getattr(filters, name)
        if value is not None:
            query = query.filter(**{name: value})
    if filters.unit is not None:
        query = query.filter(responsible_unit=filters.unit)
    if filters.overdue is not None:
        if now is None:
            raise ValueError("the overdue filter needs the time")
        late = overdue_at(scope, now)
        query = query.filter(late) if filters.overdue else query.filter(~late)
    return query


async def list_tickets(
    scope: TenantScope, tenant: CompiledTenant, user: UserView, filters: ListFilters, cursor: str | None,
    limit: int, *, q: str | None = None, sort: search.Sort = "created", now: datetime | None = None,
) -> tuple[list[search.ListedTicket], str | None]:
    """A page of the tickets the user may see (newest first, or by due date), found by `q`, keyset-paged."""
    query = await visible_tickets(scope, tenant, user, filters, now)
    return await search.page(query, scope, q=q, sort=sort, cursor=cursor, limit=limit)
