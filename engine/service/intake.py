"""Submitting a report: validate against the category, number it, start its process."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import start
from komunikator.engine.runtime.effects import Notify
from komunikator.engine.runtime.views import TicketView, UserView
from komunikator.engine.service.accounts import check_locale
from komunikator.engine.service.apply import apply_outcome, audit, write_outbox
from komunikator.engine.service.errors import ServiceError, database_gone, invalid, unavailable
from komunikator.engine.service.faults import checkpoint
from komunikator.engine.service.report_checks import check_attributes, check_location, district_of
from komunikator.engine.service.row_views import pack_attribute
from komunikator.engine.service.search import index_new_ticket
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import IdempotencyKey, ReporterContact, Ticket, TicketAttribute
from komunikator.engine.store.numbering import next_ticket_number
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

Channel = Literal["public", "staff", "open311"]


class ReporterIn(BaseModel):
    """How to reach a reporter who has no account."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=32, pattern=r"^\+?[0-9 ()-]{5,32}$")


class Submission(BaseModel):
    """A new report, from a resident or from staff taking a phone call."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(max_length=64)
    description: str = Field(min_length=1, max_length=5000)
    attributes: dict[str, Any] = Field(default_factory=dict)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=300)
    reporter: ReporterIn | None = None
    #: the language of the reporter's messages: one of the tenant's locales (default: the tenant's own)
    locale: str | None = Field(None, max_length=16)

    def fingerprint(self) -> str:
        """A hash of the body, to recognise a retried request."""
        data = self.model_dump(mode="json")
        if data.get("locale") is None:  # as before the field existed: keys stored then still match
            data.pop("locale", None)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def validate_submission(tenant: CompiledTenant, sub: Submission, channel: Channel, has_account: bool) -> None:
    """Check a submission against the tenant's category; raise a 422 on the first problem."""
    category = tenant.categories.get(sub.category)
    if category is None:
        raise invalid(f"unknown category {sub.category!r}", "category", "unknown_category")
    intake = "staff" if channel == "staff" else "public"
    if intake not in category.spec.intake:
        raise invalid(f"category {sub.category!r} cannot be reported through the {intake} channel", "category",
                      "category_closed")
    if not sub.description.strip():
        raise invalid("the description is empty", "description")
    check_locale(tenant, sub.locale)
    check_attributes(tenant, sub.category, sub.attributes, staff=intake == "staff", complete=True)
    check_location(tenant, sub.lat, sub.lon, sub.address)
    reachable = has_account or (sub.reporter is not None and (sub.reporter.email or sub.reporter.phone))
    if not category.spec.anonymous and not reachable:
        raise invalid(f"category {sub.category!r} needs the reporter's e-mail or phone", "reporter",
                      "contact_required")


def initial_view(tenant: CompiledTenant, sub: Submission, ticket_id: str, reporter_user_id: int | None,
                 now: datetime) -> TicketView:
    """The engine's view of a ticket just made from `sub` (before its process starts)."""
    category = tenant.categories[sub.category]
    process = tenant.processes[category.process]
    return TicketView(
        id=ticket_id, category=category.name, process=process.name, state=process.entry,
        responsible_unit=category.unit, priority=category.spec.priority,
        reporter_id=str(reporter_user_id) if reporter_user_id else None,
        reporter_has_contact=sub.reporter is not None and bool(sub.reporter.email or sub.reporter.phone),
        attributes=dict(sub.attributes), state_entered_at=now,
    )


def _confirmation(channel: Channel, email: str | None, now: datetime) -> dict[str, Any]:
    """A new contact's confirmation state: staff typed the address in (confirmed), else a link is due.

    Until the reporter opens the link (`confirm_email`), mail to the address
    carries only the city's own text (`engine/delivery/jobs.py`).
    """
    if not email:
        return {}
    if channel == "staff":
        return {"email_confirmed_at": now}
    return {"confirm_token": secrets.token_urlsafe(32)}


async def confirmation_pending(scope: TenantScope, token: str) -> bool:
    """Whether `token` is a live confirmation link (an unconfirmed, unerased address): nothing changes."""
    return bool(token) and await scope.reporter_contacts().filter(confirm_token=token, erased_at=None).exists()


async def confirm_email(scope: TenantScope, token: str, now: datetime) -> Ticket:
    """Mark the reporter's (or a follower's) address whose link carries `token` as confirmed; its report.

    404 for a token that is unknown, already used, or of an erased contact
    (one answer for all: the link says nothing else). Audited on the report.
    """
    contact = await scope.reporter_contacts().get_or_none(confirm_token=token, erased_at=None) if token else None
    ticket = await scope.tickets().filter(reporter_contact_id=contact.id).first() if contact else None
    if contact is not None and ticket is None:  # an address typed in to follow a report
        follow = await scope.followers().filter(contact_id=contact.id).first()
        ticket = await scope.tickets().get_or_none(id=follow.ticket_id) if follow else None  # type: ignore[attr-defined]
    if contact is None or ticket is None:
        raise ServiceError(404, "not_found", "this confirmation link is unknown or was already used")
    async with transaction():
        updated = await scope.reporter_contacts().filter(id=contact.id, confirm_token=token).update(
            confirm_token=None, email_confirmed_at=now)
        if not updated:  # confirmed meanwhile
            raise ServiceError(404, "not_found", "this confirmation link is unknown or was already used")
        await audit(scope, ticket, ANONYMOUS_REPORTER, "email_confirmed", {"reporter_contact": contact.id,
                    "email_confirmed_at": None}, {"reporter_contact": contact.id, "email_confirmed_at": now}, now)
    return ticket


#: Who confirms an address: whoever holds the link (the reporter, not an account).
ANONYMOUS_REPORTER = UserView("anonymous", (), "resident")


def _summary(tenant: CompiledTenant) -> dict[str, Any]:
    return {
        "processes": {name: sorted(p.states) for name, p in tenant.processes.items()},
        "categories": sorted(tenant.categories),
    }


async def submit(
    scope: TenantScope,
    tenant: CompiledTenant,
    sub: Submission,
    *,
    channel: Channel,
    actor: UserView,
    reporter_user_id: int | None,
    now: datetime,
    idempotency_key: str | None = None,
    render: Callable[[Ticket], Awaitable[dict[str, Any]]] | None = None,
) -> tuple[Ticket | None, dict[str, Any] | None]:
    """Create a ticket; with an idempotency key, a retry returns the first response.

    Returns `(ticket, None)` for a new ticket, or `(None, stored_response)`
    when the key was used before with the same body (422 if with another).
    """
    validate_submission(tenant, sub, channel, reporter_user_id is not None)
    fingerprint = sub.fingerprint()
    if idempotency_key is not None:
        stored = await _replay(scope, idempotency_key, fingerprint)
        if stored is not None:
            return None, stored
    category = tenant.categories[sub.category]
    process = tenant.processes[category.process]
    try:
        async with transaction():
            key_row = None
            if idempotency_key is not None:
                key_row = await scope.create(IdempotencyKey, key=idempotency_key, request_hash=fingerprint)
            version = await scope.ensure_definition_version(tenant.version, _summary(tenant))
            contact = None
            if sub.reporter is not None and any(sub.reporter.model_dump().values()):
                contact = await scope.create(ReporterContact, **sub.reporter.model_dump(), locale=sub.locale,
                                             **_confirmation(channel, sub.reporter.email, now))
            await checkpoint("intake.before_ticket")
            # The number is taken last (below): its counter row stays locked until commit, so
            # everything that does not need the number happens before, under a provisional one.
            provisional = f"~{uuid.uuid4().hex[:24]}"
            ticket = await scope.create(
                Ticket, number=provisional, category=category.name, process=process.name, state=process.entry,
                public_status=process.states[process.entry].public, responsible_unit=category.unit,
                priority=category.spec.priority, step=0, description=sub.description.strip(), lat=sub.lat,
                lon=sub.lon, address=sub.address, channel=channel, reporter_user_id=reporter_user_id,
                reporter_contact=contact, definition_version=version, district=district_of(tenant, sub.lat, sub.lon),
                state_entered_at=now, created_at=now,
            )
            await checkpoint("intake.after_ticket")
            for name, value in sub.attributes.items():
                await scope.create(TicketAttribute, ticket=ticket, name=name, value=pack_attribute(value))
            await audit(
                scope, ticket, actor, "submit", {},
                {"category": category.name, "description": ticket.description, "lat": sub.lat, "lon": sub.lon,
                 "address": sub.address, "attributes": sub.attributes, "channel": channel,
                 "reporter_contact": contact.id if contact else None},
                now,
            )
            view = initial_view(tenant, sub, provisional, reporter_user_id, now)
            outcome = start(tenant, view, actor, now)
            notifications: list[tuple[Notify, str, int]] = []
            await apply_outcome(scope, tenant, ticket, view, outcome, actor, now, ticket.version, bump=False,
                                defer_outbox=notifications)
            ticket.number = await next_ticket_number(scope, tenant.config.number_prefix, tenant.config.time_zone,
                                                     now)
            await ticket.save(update_fields=["number"])
            for effect, via, index in notifications:
                await write_outbox(scope, tenant, ticket, effect, via, index)
            await index_new_ticket(scope, tenant, ticket, dict(sub.attributes))
            if key_row is not None and render is not None:
                key_row.response = await render(ticket)
                key_row.status_code = 201
                await key_row.save(update_fields=["response", "status_code"])
    except Duplicate:
        if idempotency_key is not None:
            stored = await _replay(scope, idempotency_key, fingerprint)
            if stored is not None:
                return None, stored
        raise
    except ServiceError:
        raise
    except Exception as exc:
        if database_gone(exc):
            raise unavailable() from exc
        raise
    return ticket, None


async def _replay(scope: TenantScope, key: str, fingerprint: str) -> dict[str, Any] | None:
    row = await scope.idempotency_keys().get_or_none(key=key)
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise ServiceError(422, "idempotency_key_reused",
                           "this Idempotency-Key was used with a different request body", field="Idempotency-Key")
    if row.response is None:
        raise ServiceError(409, "request_in_progress", "a request with this Idempotency-Key is still running")
    return dict(row.response)
