"""Build the engine's immutable views from database rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from komunikator.engine.runtime.views import Membership, TaskView, TicketView, UserView, contact_actor_id
from komunikator.engine.store.models import ReporterContact, Task, Ticket, User
from komunikator.engine.store.scope import TenantScope


def pack_attribute(value: Any) -> dict[str, Any]:
    """An attribute value as stored: wrapped, because Tortoise's JSONField cannot hold a bare string."""
    return {"value": value}


def unpack_attribute(stored: Any) -> Any:
    """The attribute value from its stored form."""
    return stored.get("value") if isinstance(stored, dict) else stored


def user_ref(user_id: int | None) -> str | None:
    """How the engine names a user: the id as text."""
    return str(user_id) if user_id is not None else None


async def user_view(scope: TenantScope, user: User) -> UserView:
    """A user with their memberships."""
    memberships = await scope.memberships().filter(user_id=user.id).order_by("id")
    kind = "resident" if user.kind == "resident" else "staff"
    return UserView(
        str(user.id),
        tuple(Membership(m.unit, m.role) for m in memberships),
        kind,  # type: ignore[arg-type]
        user.display_name or user.email,
    )


def task_view(task: Task) -> TaskView:
    """One task row as the engine sees it."""
    return TaskView(
        key=task.key,
        step=task.step,
        created_in=task.created_in,
        unit=task.unit,
        state=task.state,  # type: ignore[arg-type]
        assignee=user_ref(task.assignee_id),  # type: ignore[attr-defined]
        due_at=task.due_at,
    )


@dataclass(frozen=True)
class LoadedTicket:
    """A ticket's rows as one request read them — the ticket, its tasks, its reporter's contact — and the
    engine's view of them.

    The read models of a page (detail, history, photos, open311 hand-overs) take this instead of reading
    the same rows again. It lives as long as the request that loaded it and is never kept beyond it, so
    the next request reads the rows afresh.
    """

    ticket: Ticket
    view: TicketView
    tasks: tuple[Task, ...]
    contact: ReporterContact | None

    def task_units(self) -> dict[int, tuple[str, str]]:
        """Task id → (key, unit)."""
        return {t.id: (t.key, t.unit) for t in self.tasks}


async def ticket_view(scope: TenantScope, ticket: Ticket) -> TicketView:
    """A ticket with its tasks and attributes."""
    return (await loaded_tickets(scope, [ticket]))[ticket.id].view


async def load_ticket(scope: TenantScope, ticket: Ticket) -> LoadedTicket:
    """`ticket` with its tasks, attributes and reporter contact (three queries), for one request."""
    return (await loaded_tickets(scope, [ticket]))[ticket.id]


async def ticket_views(scope: TenantScope, tickets: Sequence[Ticket]) -> dict[int, TicketView]:
    """`ticket_view` of many tickets in three queries whatever their number (lists, the inbox), by ticket id."""
    return {ticket_id: loaded.view for ticket_id, loaded in (await loaded_tickets(scope, tickets)).items()}


async def loaded_tickets(scope: TenantScope, tickets: Sequence[Ticket]) -> dict[int, LoadedTicket]:
    """`load_ticket` of many tickets in three queries whatever their number, by ticket id."""
    ids = sorted({t.id for t in tickets})
    if not ids:
        return {}
    tasks: dict[int, list[Task]] = {}
    for task in await scope.tasks().filter(ticket_id__in=ids).order_by("id"):
        tasks.setdefault(task.ticket_id, []).append(task)  # type: ignore[attr-defined]
    attributes: dict[int, list[Any]] = {}
    for attribute in await scope.ticket_attributes().filter(ticket_id__in=ids).order_by("id"):
        attributes.setdefault(attribute.ticket_id, []).append(attribute)  # type: ignore[attr-defined]
    contact_ids = sorted({t.reporter_contact_id for t in tickets  # type: ignore[attr-defined]
                          if t.reporter_contact_id is not None})  # type: ignore[attr-defined]
    contacts = {c.id: c for c in await scope.reporter_contacts().filter(id__in=contact_ids)} if contact_ids else {}
    out = {}
    for t in tickets:
        own, contact = tuple(tasks.get(t.id, ())), contacts.get(t.reporter_contact_id)  # type: ignore[attr-defined]
        out[t.id] = LoadedTicket(t, _ticket_view(t, own, attributes.get(t.id, []), contact), own, contact)
    return out


def _ticket_view(ticket: Ticket, tasks: Sequence[Task], attributes: Sequence[Any], contact: Any) -> TicketView:
    has_contact = bool(contact and contact.erased_at is None and (contact.email or contact.phone))
    reporter_contact = contact_actor_id(contact.id) if contact is not None and contact.erased_at is None else None
    return TicketView(
        id=ticket.number,
        category=ticket.category,
        process=ticket.process,
        state=ticket.state,
        responsible_unit=ticket.responsible_unit,
        priority=ticket.priority,
        step=ticket.step,
        tasks=tuple(task_view(t) for t in tasks),
        reporter_id=user_ref(ticket.reporter_user_id),  # type: ignore[attr-defined]
        reporter_contact=reporter_contact,
        reporter_has_contact=has_contact,
        attributes=MappingProxyType({a.name: unpack_attribute(a.value) for a in attributes}),
        state_entered_at=ticket.state_entered_at,
        closed_at=ticket.closed_at,
        due_at=ticket.due_at,
        sla_paused_at=ticket.sla_paused_at,
        previous_state=ticket.previous_state,
        duplicate_of=None,
    )
