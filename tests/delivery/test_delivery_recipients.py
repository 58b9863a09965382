"""Every recipient reference form, resolved at delivery time for the ticket's tenant."""

from __future__ import annotations

import pytest
from delivery_helpers import NOW, SmtpSink, pothole, registry, submit_report

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import close_channels
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.delivery.recipients import RecipientResolver, UnknownReference
from komunikator.engine.service import accounts, tickets
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.models import Follower, ReporterContact, Task, Ticket, User
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
Zgierz = tuple[TenantScope, CompiledTenant]


async def staff(scope: TenantScope, tenant: CompiledTenant, email: str, *memberships: str) -> User:
    user = await accounts.create_user(scope, email, email.split("@")[0].title(), password=None)
    for membership in memberships:
        unit, role = membership.split(":")
        await accounts.grant(scope, tenant, user, unit, role)
    return user


async def resolve(scope: TenantScope, tenant: CompiledTenant, ref: str, ticket: Ticket | None,
                  task: Task | None = None) -> list[str]:
    people = await RecipientResolver(scope, tenant).resolve([ref], ticket, task)
    return sorted(p.address for p in people)


@pytest.fixture
async def office(zgierz: Zgierz) -> dict[str, User]:
    """Staff in several units of Zgierz, one of them deactivated."""
    scope, tenant = zgierz
    people = {
        "dispatcher": await staff(scope, tenant, "dyspozytor@zgierz.example.pl", "bom:dispatcher"),
        "roads_worker": await staff(scope, tenant, "drogowiec@zgierz.example.pl", "drogi:worker"),
        "roads_head": await staff(scope, tenant, "szef.drog@zgierz.example.pl", "drogi:unit_head"),
        "gk_head": await staff(scope, tenant, "szef.gk@zgierz.example.pl", "gospodarka_komunalna:unit_head"),
        "green_head": await staff(scope, tenant, "szef.zieleni@zgierz.example.pl", "zielen:unit_head"),
        "pgk": await staff(scope, tenant, "pgk@pgk.zgierz.example.pl", "pgk:external"),
        "manager": await staff(scope, tenant, "prezydent@zgierz.example.pl", "bom:management"),
        "gone": await staff(scope, tenant, "byly@zgierz.example.pl", "drogi:worker"),
    }
    await accounts.deactivate(scope, people["gone"], NOW)
    return people


async def test_reporter_is_the_contact_then_the_account(zgierz: Zgierz, office: dict[str, User]) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    assert await resolve(scope, tenant, "reporter", ticket) == ["jan@example.pl"]
    resident = await accounts.create_user(scope, "mieszkaniec@example.pl", "Ola", password=None, kind="resident")
    ticket.reporter_user_id = resident.id  # type: ignore[attr-defined]
    await ticket.save(update_fields=["reporter_user_id"])
    await scope.reporter_contacts().filter(id=ticket.reporter_contact_id).update(  # type: ignore[attr-defined]
        email=None, name=None, erased_at=NOW)
    assert await resolve(scope, tenant, "reporter", ticket) == ["mieszkaniec@example.pl"]
    ticket.reporter_user_id = None  # type: ignore[attr-defined]
    assert await resolve(scope, tenant, "reporter", ticket) == []


async def test_followers_are_accounts_and_contacts_not_erased(zgierz: Zgierz, office: dict[str, User]) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    kept = await scope.create(ReporterContact, email="sasiad@example.pl", name="Sąsiad")
    erased = await scope.create(ReporterContact, email=None, erased_at=NOW)
    await scope.create(Follower, ticket_id=ticket.id, contact_id=kept.id)
    await scope.create(Follower, ticket_id=ticket.id, contact_id=erased.id)
    await scope.create(Follower, ticket_id=ticket.id, user_id=office["manager"].id)
    await scope.create(Follower, ticket_id=ticket.id, user_id=office["gone"].id)
    assert await resolve(scope, tenant, "followers", ticket) == ["prezydent@zgierz.example.pl", "sasiad@example.pl"]


async def test_units_roles_and_the_assignee(zgierz: Zgierz, office: dict[str, User]) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)  # pothole → drogi
    task = await scope.create(Task, ticket_id=ticket.id, key="T1", step=1, created_in="in_progress", unit="drogi")
    roads = ["drogowiec@zgierz.example.pl", "szef.drog@zgierz.example.pl"]  # task handlers; the inactive one not
    assert await resolve(scope, tenant, "task_unit", ticket, task) == roads
    assert await resolve(scope, tenant, "category.unit", ticket) == roads
    assert await resolve(scope, tenant, "unit:drogi", ticket) == roads
    assert await resolve(scope, tenant, "task_unit", ticket) == []  # no task: nobody
    assert await resolve(scope, tenant, "assignee", ticket, task) == []  # the unit's as a whole
    task.assignee_id = office["roads_worker"].id  # type: ignore[attr-defined]
    assert await resolve(scope, tenant, "assignee", ticket, task) == ["drogowiec@zgierz.example.pl"]

    assert await resolve(scope, tenant, "role:dispatcher", ticket) == ["dyspozytor@zgierz.example.pl"]
    assert await resolve(scope, tenant, "role:unit_head@responsible_unit", ticket) == ["szef.drog@zgierz.example.pl"]
    # a unit and the units below it: the greenery section belongs to municipal services
    assert await resolve(scope, tenant, "role:unit_head@unit:gospodarka_komunalna", ticket) == [
        "szef.gk@zgierz.example.pl", "szef.zieleni@zgierz.example.pl"]
    assert await resolve(scope, tenant, "role:unit_head@unit:zielen", ticket) == ["szef.zieleni@zgierz.example.pl"]
    # `role:ROLE` counts internal units only: the municipal company's people are not "external" staff here
    assert await resolve(scope, tenant, "role:external", ticket) == []
    assert await resolve(scope, tenant, "unit:pgk", ticket) == ["pgk@pgk.zgierz.example.pl"]
    assert await resolve(scope, tenant, f"user:{office['manager'].id}", None) == ["prezydent@zgierz.example.pl"]
    assert await resolve(scope, tenant, f"user:{office['gone'].id}", None) == []


async def test_units_without_people_are_reached_at_their_address(zgierz: Zgierz, office: dict[str, User]) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    assert await resolve(scope, tenant, "unit:straz_miejska", ticket) == ["dyzurny@straz.zgierz.example.pl"]
    assert await resolve(scope, tenant, "unit:inwestycje", ticket) == ["inwestycje@zgierz.example.pl"]
    # a unit whose only member is a dispatcher-like role without task handling: its address
    assert await resolve(scope, tenant, "unit:bom", ticket) == ["bom@zgierz.example.pl"]


async def test_one_address_once_and_unknown_forms_refused(zgierz: Zgierz, office: dict[str, User]) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    resolver = RecipientResolver(scope, tenant)
    people = await resolver.resolve(["unit:drogi", "role:unit_head@responsible_unit", "category.unit"], ticket, None)
    assert [p.address for p in people] == ["drogowiec@zgierz.example.pl", "szef.drog@zgierz.example.pl"]
    with pytest.raises(UnknownReference, match="is not a recipient"):
        await resolver.resolve(["everyone"], ticket, None)


async def test_other_tenants_people_are_never_reached(zgierz: Zgierz, office: dict[str, User]) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    other = TenantScope((await ensure_tenant("nieporet")).id)
    stranger = await accounts.create_user(other, "obcy@nieporet.example.pl", "Obcy", password=None)
    assert await resolve(scope, tenant, f"user:{stranger.id}", ticket) == []


async def test_an_external_unit_without_accounts_gets_its_task_by_email(
    zgierz: Zgierz, office: dict[str, User], sink: SmtpSink
) -> None:
    scope, tenant = zgierz
    sub = pothole(category="illegal_parking", attributes={"obstruction": "pavement"})
    ticket = await submit_report(scope, tenant, sub)
    dispatcher = await user_view(scope, office["dispatcher"])
    await tickets.act(scope, tenant, ticket.number, "verify", dispatcher, {}, NOW)
    task_rows = await scope.outbox().filter(ticket_id=ticket.id, kind="task_assigned_unit")
    assert [r.payload["recipients"] for r in task_rows] == [["task_unit"]]

    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    assert report.failed == 0
    to_guard = [r for r in sink.wait_for(3) if r.recipients == ["dyzurny@straz.zgierz.example.pl"]]
    [mail] = [r.mail for r in to_guard]
    assert mail["Subject"] == (
        f"Nowe zadanie dla Straż Miejska w Zgierzu: {ticket.number} (Nieprawidłowo zaparkowany pojazd)"
    )
    text = mail.get_body(("plain",)).get_content()
    assert "Straż Miejska w Zgierzu otrzymuje zadanie" in text
    assert "Jednostki bez konta w systemie proszone są o odpowiedź" in text
    assert mail["Reply-To"] == "bom@zgierz.example.pl"
