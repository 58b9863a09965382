"""Following a report: a resident (signed in) or an e-mail address is told when its public status changes.

A follow is a `Follower` row on the ticket — an account, or a `ReporterContact` holding
the e-mail (kept apart so it can be erased like a reporter's). It is audited on the
ticket (`follow`), without the address. Following twice is one follow. Only reports
the public may see can be followed (`public_reports.load_public`: the same 404 otherwise).

An address typed in by a visitor is unconfirmed: like a reporter's, it gets nothing
from the city but one e-mail (`follow_confirmation`, through the outbox) with the
confirmation link, until its owner opens that link (`intake.confirm_email`).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.jobs import FOLLOW_CONFIRMATION_TEMPLATE, FOLLOW_EVENT
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import invalid
from komunikator.engine.service.public_reports import load_public
from komunikator.engine.store.models import Follower, OutboxMessage, ReporterContact, Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


async def follow(scope: TenantScope, tenant: CompiledTenant, number: str, actor: UserView, now: datetime, *,
                 user_id: int | None = None, email: str | None = None,
                 locale: str | None = None) -> tuple[Ticket, Follower, bool]:
    """Follow report `number` as account `user_id` or as `email`; (ticket, follower, whether it is new).

    An e-mail already following this report (an unerased contact with the same address)
    is the same follow. A new e-mail contact carries a confirmation token.
    """
    ticket = await load_public(scope, tenant, number)
    if user_id is None:
        address = (email or "").strip()
        if not address or len(address) > 254 or not re.match(EMAIL_PATTERN, address):
            raise invalid("give an e-mail address like name@example.pl", "email", "invalid_email")
    async with transaction():
        if user_id is not None:
            existing = await scope.followers().filter(ticket_id=ticket.id, user_id=user_id).first()
            if existing is not None:
                return ticket, existing, False
            row = await scope.create(Follower, ticket=ticket, user_id=user_id)
        else:
            for candidate in await scope.followers().filter(ticket_id=ticket.id, contact_id__isnull=False):
                contact = await scope.reporter_contacts().get_or_none(
                    id=candidate.contact_id)  # type: ignore[attr-defined]
                same = contact is not None and (contact.email or "").lower() == address.lower()
                if same and contact is not None and contact.erased_at is None:
                    return ticket, candidate, False
            contact = await scope.create(ReporterContact, email=address, locale=locale,
                                         confirm_token=secrets.token_urlsafe(32))
            row = await scope.create(Follower, ticket=ticket, contact=contact)
            await _ask_to_confirm(scope, tenant, ticket, contact, row, locale)
        await audit(scope, ticket, actor, "follow", {}, {"follower": row.id, "by": "account" if user_id else "email"},
                    now)
    return ticket, row, True


async def _ask_to_confirm(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, contact: ReporterContact,
                          row: Follower, locale: str | None) -> None:
    """The one e-mail an address typed in gets before anything else: the link that confirms it."""
    await scope.create(
        OutboxMessage, ticket=ticket, kind=FOLLOW_CONFIRMATION_TEMPLATE, channel="email",
        dedupe_key=f"follow:{row.id}",
        payload={"template": FOLLOW_CONFIRMATION_TEMPLATE, "event": FOLLOW_EVENT,
                 "recipients": [f"contact:{contact.id}"], "ticket": ticket.number, "task": None,
                 "locale": locale or tenant.config.locale},
    )


async def is_following(scope: TenantScope, ticket: Ticket, user_id: int) -> bool:
    """Whether account `user_id` follows `ticket`."""
    return await scope.followers().filter(ticket_id=ticket.id, user_id=user_id).exists()


#: Who follows without an account: whoever typed the address in (the audit names no one).
ANONYMOUS_FOLLOWER = UserView("anonymous", (), "resident", "anonymous")
