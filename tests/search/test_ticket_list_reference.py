"""The ticket list's hand-written statement against the engine's own rules, on a seeded town (both databases).

For every staff role in every unit of Zgierz, and a few filters, both sorts
and a small page size: walking the pages by cursor returns exactly the tickets
`runtime.access.sees_ticket` lets that user read, filtered and ordered as
written out in Python here, each once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.overdue import ticket_overdue
from komunikator.engine.runtime.views import Membership, TicketView, UserView
from komunikator.engine.service import ticket_list
from komunikator.engine.service.row_views import ticket_view
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

pytestmark = pytest.mark.anyio
END = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
NOW = END + timedelta(days=20)  # some deadlines passed, some not
PAGE = 7


@cache
def zgierz() -> CompiledTenant:
    return TenantRegistry.load(Settings.from_env()).tenants["zgierz"]


def _overdue(ticket: Ticket, view: TicketView) -> bool:
    return ticket_overdue(view, NOW)  # the one definition (its SQL twin: tests/search/test_overdue_reference.py)


def _expected(rows: list[tuple[Ticket, TicketView]], user: UserView, filters: dict[str, Any], sort: str) -> list[int]:
    tenant = zgierz()
    kept = [t for t, view in rows if sees_ticket(tenant, user, view)
            and all(getattr(t, "responsible_unit" if name == "unit" else name) == value
                    for name, value in filters.items() if name != "overdue")
            and ("overdue" not in filters or _overdue(t, view) == filters["overdue"])]
    if sort == "created":
        kept.sort(key=lambda t: (t.created_at, t.id), reverse=True)
    else:
        far = datetime.max.replace(tzinfo=UTC)
        kept.sort(key=lambda t: (t.due_at is None, t.due_at or far, t.id))
    return [t.id for t in kept]


async def _walk(scope: TenantScope, user: UserView, filters: dict[str, Any], sort: str) -> list[int]:
    found: list[int] = []
    cursor = None
    while True:
        rows, cursor = await ticket_list.page(scope, zgierz(), user, ticket_list.ListFilters(**filters), q=None,
                                              sort=sort, cursor=cursor, limit=PAGE, now=NOW)  # type: ignore[arg-type]
        assert len(rows) <= PAGE
        found += [r.id for r in rows]
        if cursor is None:
            return found


async def test_every_role_in_every_unit_lists_what_the_engine_lets_it_read(db: str) -> None:
    tenant = zgierz()
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=40, seed=3, end=END)
    tickets = await scope.tickets().order_by("id")
    rows = [(t, await ticket_view(scope, t)) for t in tickets]
    units = sorted(tenant.units)
    users = [UserView("9", (Membership(unit, role),), "staff", "x") for unit in units for role in sorted(tenant.roles)]
    users.append(UserView("9", (Membership("drogi", "worker"), Membership("pgk", "external")), "staff", "x"))
    filter_sets: list[dict[str, Any]] = [{}, {"public_status": "open"}, {"overdue": True}, {"overdue": False},
                                         {"unit": "drogi", "public_status": "closed"}, {"state": "in_progress"}]
    seen_some = seen_none = 0
    for n, user in enumerate(users):
        for sort in ("created", "due"):
            filters = filter_sets[n % len(filter_sets)] if sort == "due" else {}
            expected = _expected(rows, user, filters, sort)
            assert await _walk(scope, user, filters, sort) == expected, (user.memberships, filters, sort)
            seen_some += bool(expected)
            seen_none += not expected
    assert seen_some and seen_none  # the town and the roles make both cases happen
    everyone = UserView("9", (Membership("bom", "dispatcher"),), "staff", "x")
    for filters in filter_sets:
        for sort in ("created", "due"):
            assert await _walk(scope, everyone, filters, sort) == _expected(rows, everyone, filters, sort), filters
    assert any(_overdue(t, v) for t, v in rows) and not all(_overdue(t, v) for t, v in rows)
