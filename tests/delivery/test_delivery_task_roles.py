"""`role:ROLE@task_unit` (#11 item 4) resolved at delivery time, on both databases."""

from __future__ import annotations

import pytest
from delivery_helpers import submit_report

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.recipients import RecipientResolver
from komunikator.engine.service import accounts
from komunikator.engine.store.models import Task, Ticket, User
from komunikator.engine.store.scope import TenantScope

pytestmark = pytest.mark.anyio
Zgierz = tuple[TenantScope, CompiledTenant]


async def staff(scope: TenantScope, tenant: CompiledTenant, email: str, *memberships: str) -> User:
    user = await accounts.create_user(scope, email, email.split("@")[0].title(), password=None)
    for membership in memberships:
        unit, role = membership.split(":")
        await accounts.grant(scope, tenant, user, unit, role)
    return user


async def resolve(scope: TenantScope, tenant: CompiledTenant, ref: str, ticket: Ticket, task: Task | None) -> list[str]:
    return sorted(p.address for p in await RecipientResolver(scope, tenant).resolve([ref], ticket, task))


async def test_the_head_of_the_tasks_unit_else_the_nearest_head_above(zgierz: Zgierz) -> None:
    scope, tenant = zgierz
    await staff(scope, tenant, "drogowiec@zgierz.example.pl", "drogi:worker")
    await staff(scope, tenant, "szef.drog@zgierz.example.pl", "drogi:unit_head")
    await staff(scope, tenant, "szef.gk@zgierz.example.pl", "gospodarka_komunalna:unit_head")
    await staff(scope, tenant, "ogrodnik@zgierz.example.pl", "zielen:worker")
    ticket = await submit_report(scope, tenant)  # pothole → drogi
    roads = await scope.create(Task, ticket_id=ticket.id, key="T1", step=1, created_in="in_progress", unit="drogi")
    green = await scope.create(Task, ticket_id=ticket.id, key="T2", step=1, created_in="in_progress", unit="zielen")
    assert await resolve(scope, tenant, "role:unit_head@task_unit", ticket, roads) == ["szef.drog@zgierz.example.pl"]
    assert await resolve(scope, tenant, "role:worker@task_unit", ticket, roads) == ["drogowiec@zgierz.example.pl"]
    # the greenery section has no head of its own: its department's head is reached
    assert await resolve(scope, tenant, "role:unit_head@task_unit", ticket, green) == ["szef.gk@zgierz.example.pl"]
    # a head appointed in the section takes over from the department's
    await staff(scope, tenant, "szef.zieleni@zgierz.example.pl", "zielen:unit_head")
    assert await resolve(scope, tenant, "role:unit_head@task_unit", ticket, green) == ["szef.zieleni@zgierz.example.pl"]
    # no task, nobody; a role nobody holds along the way, nobody
    assert await resolve(scope, tenant, "role:unit_head@task_unit", ticket, None) == []
    assert await resolve(scope, tenant, "role:dispatcher@task_unit", ticket, roads) == []
