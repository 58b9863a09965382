"""Read models: a ticket as the API shows it, its history, and lists that page by keyset."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.open311 import handover as open311_handover
from komunikator.engine.runtime.capabilities import Capabilities, capabilities
from komunikator.engine.runtime.overdue import task_overdue, ticket_overdue
from komunikator.engine.runtime.views import UserView
from komunikator.engine.schema.base import text_for
from komunikator.engine.service import attachments, known, search, ticket_list, tickets
from komunikator.engine.service.errors import not_found
from komunikator.engine.service.read_models import (
    ActionItem,
    Contact,
    HistoryItem,
    PublicTicket,
    PublicUpdate,
    Receipt,
    TaskItem,
    TicketDetail,
    TicketPage,
    TicketRow,
)
from komunikator.engine.service.row_views import LoadedTicket
from komunikator.engine.service.ticket_list import ListFilters as ListFilters  # the list's filters, here too
from komunikator.engine.service.visibility import capabilities_json, history_entry
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def ticket_detail(
    scope: TenantScope, tenant: CompiledTenant, loaded: LoadedTicket, user: UserView, now: datetime,
    locale: str = "pl", caps: Capabilities | None = None,
) -> TicketDetail:
    """The staff view of a ticket: fields, the tasks the user reads, and what this user may do now.

    What the user reads (the reporter's contact, other units' tasks) and may do is
    `capabilities`' answer (`caps`, when the caller asked it already for the same user and moment),
    carried under `capabilities` for the UI's buttons. The ticket's rows come as the request loaded them.
    """
    ticket, view = loaded.ticket, loaded.view
    caps = caps if caps is not None else capabilities(tenant, view, user, now)
    contact = None
    row = loaded.contact
    if caps.reporter_contact and row is not None and row.erased_at is None:
        contact = Contact(name=row.name, email=row.email, phone=row.phone)
    titles = {t.key: t.title for t in loaded.tasks}
    remotes = await open311_handover.task_deliveries(scope, loaded.tasks, locale)
    return TicketDetail(
        number=ticket.number,
        version=ticket.version,
        category=ticket.category,
        # a definition change may have removed the category or the state: shown as unknown (`known`)
        category_name=text_for(known.category_name(tenant, ticket.category), locale),
        category_known=ticket.category in tenant.categories,
        process=ticket.process,
        state=ticket.state,
        state_label=text_for(known.state_label(tenant, ticket.process, ticket.state), locale),
        state_known=known.state_of(tenant, ticket.process, ticket.state) is not None,
        public_status=ticket.public_status,
        responsible_unit=ticket.responsible_unit,
        priority=ticket.priority,
        description=ticket.description,
        lat=ticket.lat,
        lon=ticket.lon,
        address=ticket.address,
        channel=ticket.channel,
        attributes=dict(view.attributes),
        reporter=contact,
        created_at=_iso(ticket.created_at),
        state_entered_at=_iso(ticket.state_entered_at),
        due_at=_iso(ticket.due_at),
        closed_at=_iso(ticket.closed_at),
        sla_paused=ticket.sla_paused_at is not None,
        overdue=ticket_overdue(view, now),
        tasks=[
            TaskItem(
                key=t.key, unit=t.unit, unit_known=t.unit in tenant.units,
                title=text_for(title, locale) if (title := titles.get(t.key)) else None,
                state=t.state, step=t.step, assignee=t.assignee, due_at=_iso(t.due_at),
                overdue=task_overdue(view, t, now),
                actions=[ActionItem(name=a.name, requires=list(a.requires)) for a in shown.actions],
                remote=remotes.get(t.key),
            )
            for t in view.tasks
            if (shown := caps.task(t.key)) is not None
        ],
        actions=[
            ActionItem(name=a.name, kind=a.kind, requires=list(a.requires), to=a.dest,
                       label=text_for(dict(a.label), locale) if a.label else a.name)
            for a in caps.actions
        ],
        capabilities=capabilities_json(caps),
    )


async def ticket_json(
    scope: TenantScope, tenant: CompiledTenant, loaded: LoadedTicket, user: UserView, now: datetime,
    locale: str = "pl", caps: Capabilities | None = None,
) -> dict[str, Any]:
    """`ticket_detail` as plain JSON data (what the staff pages' templates read)."""
    detail = await ticket_detail(scope, tenant, loaded, user, now, locale, caps)
    return detail.model_dump(mode="json")


async def history_items(scope: TenantScope, loaded: LoadedTicket, caps: Capabilities,
                        user: UserView) -> list[HistoryItem]:
    """The changes, transitions, assignments and comments of a ticket `user` may read (`caps`), oldest first."""
    return [HistoryItem.model_validate(entry) for entry in await history(scope, loaded, caps, user)]


async def history(scope: TenantScope, loaded: LoadedTicket, caps: Capabilities, user: UserView, *,
                  display_names: Mapping[int, str | None] | None = None) -> list[dict[str, Any]]:
    """`history_items` as plain data (the staff pages' timeline reads it); `display_names`: accounts' names the
    caller has read already by id (the page's staff), so only the other actors are read."""
    ticket = loaded.ticket
    events = await scope.audit_events().filter(ticket_id=ticket.id).order_by("at", "id")
    comments = {c.id: c for c in await scope.comments().filter(ticket_id=ticket.id)}
    task_units = loaded.task_units()
    names = dict(display_names or {})
    missing = sorted({e.actor_user_id for e in events  # type: ignore[attr-defined]
                      if e.actor_user_id is not None and e.actor_user_id not in names})  # type: ignore[attr-defined]
    if missing:
        names.update({u.id: u.display_name for u in await scope.users().filter(id__in=missing)})
    out = []
    for event in events:
        actor_id = event.actor_user_id  # type: ignore[attr-defined]
        entry: dict[str, Any] = {
            "at": _iso(event.at),
            "action": event.action,
            "actor": {"kind": event.actor_kind, "id": actor_id,
                      "name": names.get(actor_id) if actor_id is not None else None},
            "before": event.before,
            "after": event.after,
            "reason": event.reason,
        }
        comment_id = (event.after or {}).get("comment") if event.action == "comment" else None
        about = None
        if comment_id in comments:
            row = comments[comment_id]
            entry["comment"] = {"body": row.body, "visibility": row.visibility}
            task_id = row.task_id  # type: ignore[attr-defined]
            about = {"visibility": row.visibility, "target_unit": row.target_unit,
                     "task_unit": task_units[task_id][1] if task_id in task_units else None}
        shown = history_entry(caps, entry, comment=about, by_user=actor_id is not None and str(actor_id) == user.id,
                              task_units=dict(task_units.values()))
        if shown is not None:
            out.append(shown)
    return out


async def public_ticket(scope: TenantScope, tenant: CompiledTenant, number: str) -> PublicTicket:
    """What anyone may know of a report, by its category's `public_map` policy.

    `hidden`: no such ticket (404, as for a number that does not exist);
    `blurred`: the pin rounded to about 100 m; `shown`: as reported. A
    category the configuration no longer has is unknown ground: no location,
    no photos.
    """
    ticket = await tickets.load(scope, number)
    category = tenant.categories.get(ticket.category)
    policy = category.spec.public_map if category is not None else "unknown"
    if policy == "hidden":
        raise not_found()
    lat, lon = ticket.lat, ticket.lon
    if policy == "blurred" and lat is not None and lon is not None:
        lat, lon = round(lat, 3), round(lon, 3)
    elif policy == "unknown":
        lat = lon = None
    updates = await scope.comments().filter(ticket_id=ticket.id, visibility="public").order_by("created_at")
    return PublicTicket(
        number=ticket.number, category=ticket.category, public_status=ticket.public_status,
        state_label=known.state_label(tenant, ticket.process, ticket.state),
        state_known=known.state_of(tenant, ticket.process, ticket.state) is not None,
        lat=lat, lon=lon, created_at=ticket.created_at.isoformat(),
        updates=[PublicUpdate(at=c.created_at.isoformat(), body=c.body) for c in updates],
        photos=await attachments.public_photo_ids(scope, tenant, ticket) if category is not None else [],
    )


def receipt(tenant: CompiledTenant, ticket: Ticket, photos: int | None = None) -> Receipt:
    """The answer to a new report."""
    return Receipt(number=ticket.number, category=ticket.category, public_status=ticket.public_status,
                   state_label=known.state_label(tenant, ticket.process, ticket.state),
                   created_at=_iso(ticket.created_at), photos=photos)


async def list_tickets(
    scope: TenantScope, tenant: CompiledTenant, user: UserView, filters: ListFilters, cursor: str | None,
    limit: int, *, q: str | None = None, sort: search.Sort = "created", now: datetime | None = None,
) -> tuple[list[search.ListedTicket], str | None]:
    """A page of the tickets the user may see (newest first, or by due date), found by `q`, keyset-paged.

    See `ticket_list.py` (the statement) for what a page holds.
    """
    return await ticket_list.page(scope, tenant, user, filters, q=q, sort=sort, cursor=cursor, limit=limit, now=now)


async def ticket_page(
    scope: TenantScope, tenant: CompiledTenant, user: UserView, filters: ListFilters, cursor: str | None,
    limit: int, *, q: str | None = None, sort: search.Sort = "created", now: datetime | None = None,
) -> TicketPage:
    """`list_tickets` as the read model the API answers with."""
    rows, next_cursor = await list_tickets(scope, tenant, user, filters, cursor, limit, q=q, sort=sort, now=now)
    return TicketPage(
        items=[TicketRow(number=t.number, category=t.category, state=t.state, public_status=t.public_status,
                         responsible_unit=t.responsible_unit, priority=t.priority,
                         created_at=t.created_at.isoformat(), due_at=_iso(t.due_at)) for t in rows],
        next_cursor=next_cursor,
    )
