"""TenantScope: every read and write stays inside one tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_helpers import NOW, MakeTicket  # tests/store/conftest.py
from tortoise.exceptions import IntegrityError

from komunikator.engine.store.errors import CrossTenant, NotFound, StaleVersion
from komunikator.engine.store.models import AuditEvent, Follower, Task, Tenant, Ticket, User
from komunikator.engine.store.scope import TenantScope, ensure_tenant, order_nulls, tenant_by_slug
from komunikator.engine.store.statements import count_statements

NUMBER = "ZG-2026-000001"


async def test_same_numbers_in_two_tenants_never_mix(
    two_tenants: tuple[TenantScope, TenantScope], make_ticket: MakeTicket
) -> None:
    zgierz, nieporet = two_tenants
    mine = await make_ticket(zgierz, NUMBER, description="Zgierz pothole")
    theirs = await make_ticket(nieporet, NUMBER, description="Nieporęt pothole")
    assert mine.tenant_id == zgierz.tenant_id and theirs.tenant_id == nieporet.tenant_id
    assert (await zgierz.get_ticket(NUMBER)).description == "Zgierz pothole"
    assert (await nieporet.get_ticket(NUMBER.lower())).description == "Nieporęt pothole"
    assert [t.id for t in await zgierz.tickets()] == [mine.id]
    assert await zgierz.tickets().filter(number=NUMBER).count() == 1
    # another tenant's id is simply not there, exactly like an id that does not exist
    with pytest.raises(NotFound):
        await zgierz.get_ticket(theirs.id)
    with pytest.raises(NotFound):
        await zgierz.get_ticket(str(theirs.id))
    with pytest.raises(NotFound):
        await zgierz.get(Ticket, id=theirs.id)
    assert await zgierz.find(Ticket, id=theirs.id) is None
    with pytest.raises(NotFound):
        await zgierz.get_ticket("not-a-number")


async def test_numbers_are_unique_within_a_tenant(
    two_tenants: tuple[TenantScope, TenantScope], make_ticket: MakeTicket
) -> None:
    zgierz, _ = two_tenants
    await make_ticket(zgierz, NUMBER)
    with pytest.raises(IntegrityError):
        await make_ticket(zgierz, NUMBER)


async def test_create_stamps_the_tenant_and_refuses_foreign_rows(
    two_tenants: tuple[TenantScope, TenantScope], make_ticket: MakeTicket
) -> None:
    zgierz, nieporet = two_tenants
    ticket = await make_ticket(zgierz, NUMBER)
    foreign_user = await nieporet.create(User, email="anna@nieporet.example.pl", display_name="Anna")
    task = await zgierz.create(Task, ticket=ticket, key="T1", step=1, created_in="in_progress", unit="roads")
    assert task.tenant_id == zgierz.tenant_id
    with pytest.raises(CrossTenant):
        await zgierz.create(Task, ticket=ticket, key="T2", step=1, created_in="x", unit="roads", assignee=foreign_user)
    with pytest.raises(CrossTenant):
        await zgierz.create(
            Task, ticket=ticket, key="T2", step=1, created_in="x", unit="roads", assignee_id=foreign_user.id
        )
    with pytest.raises(CrossTenant):
        await nieporet.create(AuditEvent, ticket_id=ticket.id, actor_kind="system", action="x", at=NOW)
    with pytest.raises(CrossTenant):
        await zgierz.create(User, tenant_id=nieporet.tenant_id, email="x@example.pl")
    with pytest.raises(TypeError):
        zgierz.query(Tenant)
    assert await zgierz.tasks().count() == 1
    assert await nieporet.tasks().count() == 0


async def test_update_ticket_is_optimistic(
    two_tenants: tuple[TenantScope, TenantScope], make_ticket: MakeTicket
) -> None:
    zgierz, nieporet = two_tenants
    ticket = await make_ticket(zgierz, NUMBER)
    stale = await zgierz.get_ticket(NUMBER)
    await zgierz.update_ticket(ticket, 1, priority="high")
    assert ticket.version == 2 and ticket.priority == "high"
    with pytest.raises(StaleVersion):
        await zgierz.update_ticket(stale, stale.version, priority="low")
    with pytest.raises(NotFound):
        await nieporet.update_ticket(ticket, 2, priority="low")
    with pytest.raises(ValueError, match="cannot change tenant_id"):
        await zgierz.update_ticket(ticket, 2, tenant_id=nieporet.tenant_id)
    stored = await zgierz.get_ticket(NUMBER)
    assert (stored.version, stored.priority) == (2, "high")


async def test_definition_versions_are_inserted_once(two_tenants: tuple[TenantScope, TenantScope]) -> None:
    zgierz, nieporet = two_tenants
    first = await zgierz.ensure_definition_version("abc", {"states": 4})
    again = await zgierz.ensure_definition_version("abc", {"ignored": True})
    other = await nieporet.ensure_definition_version("abc", {})
    assert first.id == again.id != other.id
    assert again.summary == {"states": 4}


async def test_tenants_are_found_by_slug(db: str) -> None:
    zgierz = await ensure_tenant("zgierz", "Zgierz")
    assert (await ensure_tenant("zgierz", "other name")).id == zgierz.id
    assert (await TenantScope.for_slug("zgierz")).tenant_id == zgierz.id
    assert await tenant_by_slug("nowhere") is None
    with pytest.raises(NotFound):
        await TenantScope.for_slug("nowhere")


async def test_null_ordering_is_the_same_on_every_database(
    two_tenants: tuple[TenantScope, TenantScope], make_ticket: MakeTicket
) -> None:
    zgierz, _ = two_tenants
    for n, due in [(1, None), (2, NOW + timedelta(days=2)), (3, None), (4, NOW + timedelta(days=1))]:
        await make_ticket(zgierz, f"ZG-2026-00000{n}", due_at=due)

    async def numbers(*orderings: str, nulls: str) -> list[str]:
        rows = await order_nulls(zgierz.tickets(), *orderings, "number", nulls=nulls)
        return [t.number[-1] for t in rows]

    assert await numbers("due_at", nulls="last") == ["4", "2", "1", "3"]
    assert await numbers("due_at", nulls="first") == ["1", "3", "4", "2"]
    assert await numbers("-due_at", nulls="last") == ["2", "4", "1", "3"]


async def test_a_ticket_counted_with_its_followers_and_duplicates_in_one_statement(
    two_tenants: tuple[TenantScope, TenantScope], make_ticket: MakeTicket
) -> None:
    zgierz, nieporet = two_tenants
    master = await make_ticket(zgierz, NUMBER)
    for i in (2, 3):
        copy = await make_ticket(zgierz, f"ZG-2026-00000{i}")
        await zgierz.update_ticket(copy, copy.version, duplicate_of_id=master.id)
    ola = await zgierz.create(User, email="ola@zgierz.example.pl", display_name="Ola")
    await zgierz.create(Follower, ticket=master, user=ola)
    # the other city's ticket of the same number has its own followers, never counted here
    theirs = await make_ticket(nieporet, NUMBER)
    for n in range(3):
        someone = await nieporet.create(User, email=f"k{n}@nieporet.example.pl", display_name="K")
        await nieporet.create(Follower, ticket=theirs, user=someone)
    with count_statements() as statements:
        counted = await zgierz.get_ticket(NUMBER, counted=True)
    assert statements.count == 1
    found = (counted.id, counted.followers_count, counted.duplicates_count)  # type: ignore[attr-defined]
    assert found == (master.id, 1, 2)
    assert await zgierz.follower_and_duplicate_counts(master.id) == (1, 2)
    assert await nieporet.follower_and_duplicate_counts(theirs.id) == (3, 0)
    assert not hasattr(await zgierz.get_ticket(NUMBER), "followers_count")
    with pytest.raises(NotFound):
        await zgierz.get_ticket(theirs.id, counted=True)
