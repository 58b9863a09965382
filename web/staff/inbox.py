"""The inbox: my open tasks, my units' tasks nobody took yet, tickets waiting for a verification I may do.

Each list is sorted overdue first, then by deadline (none last). What counts as "mine to
take" or "mine to verify" is the engine's answer (`offers.offered`), never decided here:
a row is listed only when the engine offers its action to this user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.access import handles
from komunikator.engine.runtime.overdue import own_deadline_passed, task_overdue
from komunikator.engine.runtime.views import TaskView, TicketView, UserView
from komunikator.engine.service.row_views import ticket_views
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.web.staff.offers import offered

#: how many rows each list reads at most (the full lists come with the list views)
LIMIT = 100


@dataclass(frozen=True)
class Row:
    """One line of the inbox: a ticket, maybe one of its tasks, its deadline and whether it is overdue."""

    ticket: Ticket
    view: TicketView
    task: TaskView | None
    due_at: datetime | None
    overdue: bool
    can_take: bool = False


@dataclass
class Inbox:
    """The three lists."""

    mine: list[Row] = field(default_factory=list)
    unit: list[Row] = field(default_factory=list)
    verify: list[Row] = field(default_factory=list)

    def overdue(self) -> int:
        """How many rows are past their deadline."""
        return sum(r.overdue for r in self.mine + self.unit + self.verify)


def _order(rows: list[Row]) -> list[Row]:
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: (not r.overdue, r.due_at or far, r.ticket.number))


async def build(scope: TenantScope, tenant: CompiledTenant, user: UserView, now: datetime) -> Inbox:
    """The user's inbox now."""
    my_units = [u for u in tenant.units if handles(tenant, user, u)]
    me = int(user.id) if user.id.isdigit() else -1
    tasks = await scope.tasks().filter(state__in=["open", "in_progress"], assignee_id=me).limit(LIMIT)
    if my_units:
        tasks += await scope.tasks().filter(state="open", assignee_id=None, unit__in=my_units).limit(LIMIT)
    entry_states = {p.entry for p in tenant.processes.values()}
    waiting = await scope.tickets().filter(closed_at=None, state__in=sorted(entry_states)).order_by(
        "due_at", "id").limit(LIMIT)
    ids = {t.ticket_id for t in tasks} | {t.id for t in waiting}  # type: ignore[attr-defined]
    tickets = {t.id: t for t in await scope.tickets().filter(id__in=sorted(ids))} if ids else {}
    views = await ticket_views(scope, list(tickets.values()))  # a fixed number of queries, not one per ticket
    inbox = Inbox()
    for task in tasks:
        ticket = tickets[task.ticket_id]  # type: ignore[attr-defined]
        view = views[ticket.id]
        offer = offered(tenant, view, user, now)
        names = {a.name for a in offer.tasks.get(task.key, ())}
        task_view = view.task(task.key)
        late = task_view is not None and task_overdue(view, task_view, now)  # the one definition, as the API's
        row = Row(ticket, view, task_view, task.due_at, late, "take" in names)
        if task.assignee_id == me:  # type: ignore[attr-defined]
            inbox.mine.append(row)
        elif names:
            inbox.unit.append(row)
    for ticket in waiting:
        view = views[ticket.id]
        process = tenant.processes.get(ticket.process)  # None after a definition change (`known`)
        if process is None or process.entry != ticket.state:
            continue
        if any(a.kind == "transition" for a in offered(tenant, view, user, now).actions):
            inbox.verify.append(Row(ticket, view, None, ticket.due_at, own_deadline_passed(view, now)))
    inbox.mine, inbox.unit, inbox.verify = _order(inbox.mine), _order(inbox.unit), _order(inbox.verify)
    return inbox
