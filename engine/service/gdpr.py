"""GDPR: what the city holds on a reporter (export) and erasing it (erase), by e-mail or ticket number.

A person is found through their reporter contacts (`reporter_contacts`:
the name, e-mail and phone given with a report): every contact with that
e-mail (compared without case), or the contact of the given report.

- `export` lists the contacts, the reports they made (number, category,
  state, dates, description and address as the office keeps them) and the
  reports they follow.
- `erase` blanks the contacts' name, e-mail and phone (`erased_at` is set;
  the rows stay so reports keep their references, and every reader already
  skips erased contacts), revokes their reporter links
  (`reporter_links.py`), drops the pending outbox rows addressed only to the
  reporter of those reports, and writes an audit row per report (or one
  without a report) naming who erased, when, and the legal basis. Free text
  in the reports themselves (description, address, comments) is kept: the
  office reviews and redacts it (the answer lists the reports to review).

Erasing twice erases nothing more (the answer says so). 404 when nobody
matches, 422 for a missing legal basis or a lookup that is neither an
e-mail nor a ticket number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.service.reporter_links import revoke_for_contacts
from komunikator.engine.store.models import ReporterContact, ReporterLink, Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

MAX_LEGAL_BASIS = 500


@dataclass(frozen=True)
class Person:
    """Who is asked about: their contacts and the reports made with them."""

    contacts: list[ReporterContact]
    reports: list[Ticket]


async def find(scope: TenantScope, *, email: str | None = None, ticket: str | None = None) -> Person:
    """The contacts with `email` (any case), or the contact of report `ticket`; 404 if none."""
    if (email is None) == (ticket is None):
        raise invalid("give an e-mail address or a ticket number (one of them)", "email")
    if email is not None:
        cleaned = email.strip()
        if "@" not in cleaned or len(cleaned) > 254:
            raise invalid(f"{email!r} is not an e-mail address", "email")
        contacts = list(await scope.reporter_contacts().filter(email__iexact=cleaned).order_by("id"))
    else:
        row = await scope.tickets().get_or_none(number=(ticket or "").strip().upper())
        contact_id = row.reporter_contact_id if row is not None else None  # type: ignore[attr-defined]
        contacts = list(await scope.reporter_contacts().filter(id=contact_id)) if contact_id else []
    if not contacts:
        raise ServiceError(404, "not_found", "no reporter with this e-mail or report")
    ids = [c.id for c in contacts]
    reports = list(await scope.tickets().filter(reporter_contact_id__in=ids).order_by("id"))
    return Person(contacts, reports)


def _contact(contact: ReporterContact) -> dict[str, Any]:
    return {"id": contact.id, "name": contact.name, "email": contact.email, "phone": contact.phone,
            "locale": contact.locale, "created_at": contact.created_at,
            "email_confirmed_at": contact.email_confirmed_at, "erased_at": contact.erased_at}


def _report(ticket: Ticket) -> dict[str, Any]:
    return {"number": ticket.number, "category": ticket.category, "state": ticket.state,
            "public_status": ticket.public_status, "created_at": ticket.created_at, "closed_at": ticket.closed_at,
            "description": ticket.description, "address": ticket.address, "lat": ticket.lat, "lon": ticket.lon}


async def export(
    scope: TenantScope, *, email: str | None = None, ticket: str | None = None, actor: UserView | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything held on the person (see the module's docstring), as plain data.

    With `actor` and `now`, the export itself is audited (who read whose data).
    """
    person = await find(scope, email=email, ticket=ticket)
    ids = [c.id for c in person.contacts]
    if actor is not None and now is not None:
        await audit(scope, None, actor, "gdpr_export", {}, {"reporter_contacts": ids}, now)
    followed_ids = await scope.followers().filter(contact_id__in=ids).values_list("ticket_id", flat=True)
    followed = await scope.tickets().filter(id__in=list(followed_ids)).order_by("id").values_list("number", flat=True)
    return {"contacts": [_contact(c) for c in person.contacts], "reports": [_report(t) for t in person.reports],
            "follows": list(followed)}


@dataclass(frozen=True)
class ErasurePreview:
    """What `erase` would do to the person now, counted before asking for a confirmation (nothing changes)."""

    contacts: int
    already_erased: int
    reports: tuple[str, ...]
    pending_messages: int
    active_links: int


async def preview(scope: TenantScope, *, email: str | None = None, ticket: str | None = None) -> ErasurePreview:
    """What `erase` would erase for the same lookup (404 and 422 as `find`); reads only."""
    person = await find(scope, email=email, ticket=ticket)
    fresh = [c.id for c in person.contacts if c.erased_at is None]
    theirs = [t for t in person.reports if t.reporter_contact_id in fresh]  # type: ignore[attr-defined]
    pending = 0
    for report in theirs:
        pending += len(await _pending_for_reporter(scope, report))
    links = await scope.query(ReporterLink).filter(contact_id__in=fresh, revoked_at=None).count() if fresh else 0
    return ErasurePreview(len(fresh), len(person.contacts) - len(fresh), tuple(t.number for t in person.reports),
                          pending, links)


async def erase(
    scope: TenantScope, actor: UserView, legal_basis: str, now: datetime, *, email: str | None = None,
    ticket: str | None = None,
) -> dict[str, Any]:
    """Erase the person's contacts (see the module's docstring); what was done."""
    basis = legal_basis.strip()
    if not basis:
        raise invalid("name the legal basis (e.g. art. 17(1)(a) RODO, the request of …)", "legal_basis")
    if len(basis) > MAX_LEGAL_BASIS:
        raise invalid(f"the legal basis is longer than {MAX_LEGAL_BASIS} characters", "legal_basis")
    person = await find(scope, email=email, ticket=ticket)
    fresh = [c for c in person.contacts if c.erased_at is None]
    dropped = revoked = 0
    async with transaction():
        if fresh:
            ids = [c.id for c in fresh]
            await scope.reporter_contacts().filter(id__in=ids).update(
                name=None, email=None, phone=None, confirm_token=None, erased_at=now)
            revoked = await revoke_for_contacts(scope, ids, now)  # their reporter links stop working
            theirs = [t for t in person.reports if t.reporter_contact_id in ids]  # type: ignore[attr-defined]
            for report in theirs:
                dropped += await _drop_pending(scope, report)
            after = {"erased": ids, "legal_basis": basis}
            targets: list[Ticket | None] = [*theirs] or [None]  # one row without a report when there is none
            for target in targets:
                await audit(scope, target, actor, "gdpr_erase", {"reporter_contacts": ids}, after, now, basis)
    return {"erased_contacts": len(fresh), "already_erased": len(person.contacts) - len(fresh),
            "dropped_messages": dropped, "revoked_links": revoked,
            "reports_to_review": [t.number for t in person.reports]}


async def _drop_pending(scope: TenantScope, ticket: Ticket) -> int:
    """Delete the report's pending outbox rows addressed to its reporter alone; how many."""
    doomed = await _pending_for_reporter(scope, ticket)
    if doomed:
        await scope.outbox().filter(id__in=doomed).delete()
    return len(doomed)


async def _pending_for_reporter(scope: TenantScope, ticket: Ticket) -> list[int]:
    """The report's pending outbox rows addressed to its reporter alone."""
    rows = await scope.outbox().filter(ticket_id=ticket.id, status="pending")
    return [row.id for row in rows if set(map(str, row.payload.get("recipients", []))) <= {"reporter"}
            and row.payload.get("recipients")]
