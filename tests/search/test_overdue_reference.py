"""Overdue, defined once: the staff list's SQL filter against `runtime.overdue` (both databases).

The runtime's `ticket_overdue` is the definition (the ticket detail uses
it); the list's `?overdue=` filter is its SQL twin, and the SLA escalation's
query (`engine/timers`) another. Over a seeded town, at moments before,
between and long after the deadlines, and at the exact moment of a ticket's
and of a task's deadline (the moment itself counts), they give the same
tickets and tasks, and the list's complement finds the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.overdue import deadline_passed, own_deadline_passed, task_overdue, ticket_overdue
from komunikator.engine.runtime.views import Membership, TicketView, UserView
from komunikator.engine.service import ticket_list
from komunikator.engine.service.row_views import ticket_view
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.engine.timers import overdue as escalation_items

pytestmark = pytest.mark.anyio
END = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
EVERYONE = UserView("9", (Membership("bom", "dispatcher"),), "staff", "x")


@cache
def zgierz() -> CompiledTenant:
    return TenantRegistry.load(Settings.from_env()).tenants["zgierz"]


async def _listed(scope: TenantScope, overdue: bool, now: datetime) -> set[int]:
    found: set[int] = set()
    cursor = None
    while True:
        rows, cursor = await ticket_list.page(scope, zgierz(), EVERYONE, ticket_list.ListFilters(overdue=overdue),
                                              q=None, sort="due", cursor=cursor, limit=50, now=now)
        found |= {r.id for r in rows}
        if cursor is None:
            return found


def test_the_moment_of_the_deadline_counts() -> None:
    moment = END
    assert deadline_passed(moment, moment) and deadline_passed(moment, moment + timedelta(microseconds=1))
    assert not deadline_passed(moment, moment - timedelta(microseconds=1)) and not deadline_passed(None, moment)


async def test_the_lists_overdue_filter_is_the_runtimes_definition(db: str) -> None:
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, zgierz(), demo_staff("zgierz"), count=40, seed=5, end=END)
    views: dict[int, TicketView] = {t.id: await ticket_view(scope, t) for t in await scope.tickets().all()}
    running = [v for v in views.values() if v.closed_at is None and v.sla_paused_at is None]
    own_deadline = next(v.due_at for v in running if v.due_at is not None)
    task_deadline = next(t.due_at for v in running for t in v.tasks if t.active and t.due_at is not None)
    moments = [END - timedelta(days=30), END, END + timedelta(days=3), END + timedelta(days=20),
               END + timedelta(days=400), own_deadline, task_deadline]
    late_counts = []
    for now in moments:
        expected = {i for i, v in views.items() if ticket_overdue(v, now)}
        assert await _listed(scope, True, now) == expected, now
        assert await _listed(scope, False, now) == set(views) - expected, now
        items = await escalation_items(scope, now)
        assert {(i.ticket_id, i.task) for i in items} == {
            (i, None) for i, v in views.items() if own_deadline_passed(v, now)} | {
            (i, t.key) for i, v in views.items() for t in v.tasks if task_overdue(v, t, now)}, now
        late_counts.append(len(expected))
    assert min(late_counts) < max(late_counts) < len(views)  # the moments make a difference; some never are late
    # at the very moment of a deadline the ticket is overdue, a microsecond before it is not (unless for another)
    on_time = own_deadline - timedelta(microseconds=1)
    assert any(v.due_at == own_deadline and ticket_overdue(v, own_deadline) for v in running)
    assert {i for i, v in views.items() if ticket_overdue(v, on_time)} == await _listed(scope, True, on_time)
    assert any(task_overdue(v, t, task_deadline) for v in running for t in v.tasks if t.due_at == task_deadline)


async def _tasks_listed(scope: TenantScope, now: datetime) -> set[tuple[int, str]]:
    """The universal tasks list filtered `overdue = true`: (ticket id, task key) of every row."""
    from komunikator.engine.lists import filters, query
    from komunikator.engine.lists.declared import list_spec

    spec = list_spec(zgierz(), "tasks")
    assert spec is not None
    flt = filters.parse(spec, zgierz(), {"match": "all", "conditions": [
        {"field": "overdue", "op": "eq", "value": True}]})
    columns = query.parse_columns(spec, "key")
    keys = {k.id: (k.ticket_id, k.key) for k in await scope.tasks().all()}  # type: ignore[attr-defined]
    return {keys[r.id] async for r in query.rows(scope, zgierz(), EVERYONE, spec, flt, query.parse_sort(spec, None),
                                                 columns, now=now)}


async def test_the_tasks_lists_overdue_is_the_runtimes_task_overdue(db: str) -> None:
    """A task of a paused or closed ticket is not overdue in the tasks list either (runtime.overdue.task_overdue)."""
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, zgierz(), demo_staff("zgierz"), count=40, seed=5, end=END)
    views = {t.id: await ticket_view(scope, t) for t in await scope.tickets().all()}
    late = END + timedelta(days=400)
    # a running ticket with an active task past its deadline: paused, waiting for the resident
    paused_id, paused_task = next((i, t) for i, v in views.items() if v.closed_at is None and v.sla_paused_at is None
                                  for t in v.tasks if task_overdue(v, t, late))
    await scope.tickets().filter(id=paused_id).update(sla_paused_at=END)
    # a closed ticket whose task was left active
    closed_id, closed_task = next((i, t) for i, v in views.items() if i != paused_id and v.closed_at is None
                                  and v.sla_paused_at is None for t in v.tasks if task_overdue(v, t, late))
    await scope.tickets().filter(id=closed_id).update(closed_at=END)
    views = {t.id: await ticket_view(scope, t) for t in await scope.tickets().all()}
    assert not task_overdue(views[paused_id], paused_task, late) and not task_overdue(views[closed_id], closed_task,
                                                                                          late)
    for now in (END - timedelta(days=30), END, END + timedelta(days=20), late):
        expected = {(i, t.key) for i, v in views.items() for t in v.tasks if task_overdue(v, t, now)}
        listed = await _tasks_listed(scope, now)
        assert listed == expected, now
    assert (paused_id, paused_task.key) not in listed and (closed_id, closed_task.key) not in listed
    assert listed  # others are late then
