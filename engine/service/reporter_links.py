"""The reporter's link: a secret URL in the e-mails to a reporter that lets them act on their report.

A process lets the reporter fire a transition with `by: [reporter]` (the
library's `resident_answered`, while the ticket waits for the resident). A
reporter without an account has only an e-mail address, so every e-mail to
them whose template uses `ticket.reporter_url` carries a fresh link
(`mint`, called at delivery). Whoever holds it acts as that reporter
(`UserView` `contact:<id>`, or the resident's account) and may do exactly what
`allowed_actions` offers the reporter now: the one permission rule of the
API and the staff pages, nothing more (no built-in actions, no internal
comments).

- Stored, not signed: the link carries 32 random bytes; the table keeps only
  their SHA-256 (as for API tokens and sessions), so a database dump holds
  no usable link, a link can be revoked, and no deployment secret needs
  managing or rotating.
- It expires after the city's `reporter_link_days` (tenant.yaml, default 30),
  and stops working at once when revoked (`revoke`, staff API), when the
  ticket closes, when the reporter contact is erased (GDPR) or the ticket's
  reporter is no longer the one it was made for. Unknown links answer 404;
  links that worked once answer 410 `link_gone` with the reason.
- Acting through it is counted like other anonymous input
  (`rate_limits`: per client address and per link), audited with actor kind
  `reporter` (the contact referenced, not copied), and idempotent: a form's
  `submission` key (or the API's `Idempotency-Key`) answered once is
  answered again without a second action.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.actions import BUILTIN_ACTIONS, allowed_actions
from komunikator.engine.runtime.configured import unconfigured
from komunikator.engine.runtime.outcome import Action
from komunikator.engine.runtime.views import TicketView, UserView, contact_actor_id
from komunikator.engine.service import known, rate_limits, tickets
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.service.read_models import PublicUpdate, ReadModel
from komunikator.engine.service.row_views import ticket_view, user_view
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import IdempotencyKey, ReporterLink, Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: The inputs a reporter may give an action (a reporter writes only public text).
REPORTER_INPUTS = ("public_comment",)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_UNKNOWN = "this link is unknown: check that the whole address was copied from the e-mail"
_GONE = {
    "expired": "this link has expired",
    "revoked": "this link was revoked by the office",
    "closed": "the report is closed: the link no longer acts on it",
    "erased": "the reporter's contact data were erased: the link no longer works",
}


def token_hash(token: str) -> str:
    """How a link's secret is stored: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Whether `token` could be a link's secret (anything else is refused before the database is asked)."""
    return bool(_TOKEN.match(token))


def gone(reason: str) -> ServiceError:
    """The 410 of a link that worked once (`expired`, `revoked`, `closed`, `erased`)."""
    return ServiceError(410, "link_gone", _GONE[reason], details={"reason": reason})


def unknown() -> ServiceError:
    """The single 404 of a link that does not exist here (never made, mistyped, another city's)."""
    return ServiceError(404, "not_found", _UNKNOWN)


def is_closed(tenant: CompiledTenant, view: TicketView) -> bool:
    """Whether the ticket sits in a final state (as stored, for a state the configuration lost)."""
    if unconfigured(tenant, view) is not None:
        return view.closed_at is not None
    return tenant.processes[view.process].states[view.state].final


async def mint(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, now: datetime) -> str | None:
    """A new link for the ticket's reporter (its secret, to put in the e-mail); None when there is nobody to act as.

    The reporter is the contact the report was made with (unless erased), else
    the resident's account. Only the secret's hash is stored.
    """
    contact_id = ticket.reporter_contact_id  # type: ignore[attr-defined]
    user_id = ticket.reporter_user_id  # type: ignore[attr-defined]
    if contact_id is not None:
        contact = await scope.reporter_contacts().get_or_none(id=contact_id)
        if contact is None or contact.erased_at is not None:
            contact_id = None
    if contact_id is not None:
        user_id = None  # the contact is who the report was made as, and where the mail goes
    elif user_id is None:
        return None
    token = secrets.token_urlsafe(32)
    await scope.create(ReporterLink, ticket_id=ticket.id, contact_id=contact_id, user_id=user_id,
                       token_hash=token_hash(token), created_at=now,
                       expires_at=now + timedelta(days=tenant.config.reporter_link_days))
    return token


@dataclass(frozen=True)
class OpenLink:
    """A link that works now: its row, its ticket, the ticket's view and who the holder acts as."""

    link: ReporterLink
    ticket: Ticket
    view: TicketView
    actor: UserView


async def open_link(scope: TenantScope, tenant: CompiledTenant, token: str, now: datetime) -> OpenLink:
    """The link whose secret is `token`; 404 if there is none here, 410 (`link_gone`) if it no longer works."""
    link = await scope.query(ReporterLink).get_or_none(token_hash=token_hash(token)) if well_formed(token) else None
    if link is None:
        raise unknown()
    if link.revoked_at is not None:
        raise gone("revoked")
    if link.expires_at <= now:
        raise gone("expired")
    ticket = await scope.tickets().get(id=link.ticket_id)  # type: ignore[attr-defined]
    actor = await _actor(scope, link, ticket)
    view = await ticket_view(scope, ticket)
    if is_closed(tenant, view):
        raise gone("closed")
    return OpenLink(link, ticket, view, actor)


async def _actor(scope: TenantScope, link: ReporterLink, ticket: Ticket) -> UserView:
    """Who the holder acts as; 410 when that is no longer the ticket's reporter (erased, changed)."""
    contact_id = link.contact_id  # type: ignore[attr-defined]
    if contact_id is not None:
        contact = await scope.reporter_contacts().get_or_none(id=contact_id)
        if contact is None or contact.erased_at is not None:
            raise gone("erased")
        if ticket.reporter_contact_id != contact_id:  # type: ignore[attr-defined]
            raise gone("revoked")
        return UserView(contact_actor_id(contact_id), (), "resident", contact.name or "")
    user = await scope.users().get_or_none(id=link.user_id, active=True)  # type: ignore[attr-defined]
    if user is None or user.kind != "resident" or ticket.reporter_user_id != user.id:  # type: ignore[attr-defined]
        raise gone("revoked")
    return await user_view(scope, user)


def reporter_actions(tenant: CompiledTenant, opened: OpenLink, now: datetime) -> list[Action]:
    """The transitions the reporter may fire on the ticket now (the process's `by: [reporter]` ones that apply)."""
    return [a for a in allowed_actions(tenant, opened.view, opened.actor, now) if a.kind == "transition"]


class LinkAction(ReadModel):
    """A transition the reporter may fire through the link now, with the inputs it needs and its label."""

    name: str
    label: dict[str, str]
    requires: list[str]


class LinkedReport(ReadModel):
    """What the link shows its holder: the report's public side, and what they may do now."""

    number: str
    category: str
    category_name: dict[str, str]
    state_label: dict[str, str]
    public_status: str
    address: str | None
    created_at: str
    expires_at: str
    updates: list[PublicUpdate]
    actions: list[LinkAction]


async def describe(scope: TenantScope, tenant: CompiledTenant, opened: OpenLink, now: datetime) -> LinkedReport:
    """The report as its reporter sees it through the link, with the actions open to them now."""
    ticket = opened.ticket
    updates = await scope.comments().filter(ticket_id=ticket.id, visibility="public").order_by("created_at", "id")
    return LinkedReport(
        number=ticket.number, category=ticket.category, category_name=known.category_name(tenant, ticket.category),
        state_label=known.state_label(tenant, ticket.process, ticket.state), public_status=ticket.public_status,
        address=ticket.address, created_at=ticket.created_at.isoformat(), expires_at=opened.link.expires_at.isoformat(),
        updates=[PublicUpdate(at=c.created_at.isoformat(), body=c.body) for c in updates],
        actions=[LinkAction(name=a.name, label=dict(a.label or {"pl": a.name, "en": a.name}), requires=list(a.requires))
                 for a in reporter_actions(tenant, opened, now)],
    )


@dataclass(frozen=True)
class LinkLimits:
    """How often one client address, and one link, may act through reporter links per window."""

    per_address: int
    per_link: int
    window: timedelta

    @classmethod
    def from_env(cls) -> LinkLimits:
        """The anonymous reports' limits (`KOMUNIKATOR_SUBMIT_MAX_PER_ADDRESS`, `…_MAX_PER_EMAIL` per link)."""
        submit = rate_limits.SubmitLimits.from_env()
        return cls(submit.per_address, submit.per_email, submit.window)


def _fingerprint(action: str, inputs: dict[str, Any]) -> str:
    blob = json.dumps({"action": action, "inputs": inputs}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


async def act(
    scope: TenantScope, tenant: CompiledTenant, token: str, action: str, inputs: dict[str, Any], now: datetime, *,
    submission: str | None = None, address: str | None = None, limits: LinkLimits | None = None,
) -> tuple[OpenLink, bool]:
    """Fire `action` as the link's reporter; the link on the ticket as it is now, and whether this was a replay.

    Through `tickets.act` (the API's service: the engine decides). Refused:
    404/410 for the link, 403 for an action the reporter may not fire, 409 for
    one the ticket does not take now, 422 for missing or unknown inputs, 429
    past the rate limit. With `submission`, the same key and body answered
    before is answered again without acting (a double submit); with another
    body, 422.
    """
    opened = await open_link(scope, tenant, token, now)
    _check_reporters(tenant, opened.view, action)
    extra = sorted(set(inputs) - set(REPORTER_INPUTS))
    if extra:
        raise invalid(f"a reporter gives only {', '.join(REPORTER_INPUTS)}, not {', '.join(extra)}", extra[0])
    cleaned = {k: str(v).strip() for k, v in inputs.items() if v is not None and str(v).strip()}
    key = f"reporter-link:{opened.link.id}:{submission}" if submission else None
    if key is not None:
        replayed = await _replay(scope, key, _fingerprint(action, cleaned))
        if replayed:
            return opened, True
    limits = limits or LinkLimits.from_env()
    buckets = [(f"reporter_link:link:{opened.link.id}", limits.per_link)]
    if address:
        buckets.insert(0, (f"reporter_link:address:{address[:64]}", limits.per_address))
    await rate_limits.take(scope, buckets, limits.window, now, what="answers")
    try:
        async with transaction():
            if key is not None:
                await scope.create(IdempotencyKey, key=key, request_hash=_fingerprint(action, cleaned),
                                   response={"action": action}, status_code=200)
            ticket = await tickets.act(scope, tenant, opened.ticket.number, action, opened.actor, cleaned, now)
            await scope.query(ReporterLink).filter(id=opened.link.id).update(last_used_at=now)
    except Duplicate:  # the same submission committed meanwhile (two clicks racing)
        if key is not None and await _replay(scope, key, _fingerprint(action, cleaned)):
            return opened, True
        raise
    return OpenLink(opened.link, ticket, await ticket_view(scope, ticket), opened.actor), False


def _check_reporters(tenant: CompiledTenant, view: TicketView, action: str) -> None:
    """Refuse (403) anything but a transition the process gives `reporter`; 422 for a name it does not know."""
    process = tenant.processes.get(view.process)
    transition = process.transitions.get(action) if process is not None else None
    if transition is None and action not in BUILTIN_ACTIONS:
        raise ServiceError(422, "unknown_action", f"the process has no action {action!r}", field="action")
    if transition is None or not any(actor.scope == "reporter" for actor in transition.actors):
        raise ServiceError(403, "forbidden", f"the reporter's link does not do {action!r}: only what the process "
                                             "lets the reporter do")


async def _replay(scope: TenantScope, key: str, fingerprint: str) -> bool:
    row = await scope.idempotency_keys().get_or_none(key=key)
    if row is None:
        return False
    if row.request_hash != fingerprint:
        raise ServiceError(422, "idempotency_key_reused", "this submission was already sent with other contents",
                           field="submission")
    return True


async def revoke(scope: TenantScope, ticket: Ticket, actor: UserView, now: datetime, reason: str | None = None) -> int:
    """Revoke every live link of the ticket (audited); how many were live."""
    async with transaction():
        count = await scope.query(ReporterLink).filter(ticket_id=ticket.id, revoked_at=None,
                                                       expires_at__gt=now).update(revoked_at=now)
        await audit(scope, ticket, actor, "reporter_links_revoked", {}, {"revoked": count}, now, reason)
    return count


async def revoke_for_contacts(scope: TenantScope, contact_ids: list[int], now: datetime) -> int:
    """Revoke the links of these reporter contacts (GDPR erasure), in the caller's transaction; how many."""
    if not contact_ids:
        return 0
    return await scope.query(ReporterLink).filter(contact_id__in=contact_ids, revoked_at=None).update(
        revoked_at=now)


__all__ = ["REPORTER_INPUTS", "LinkAction", "LinkLimits", "LinkedReport", "OpenLink", "act", "describe", "gone",
           "is_closed", "mint", "open_link",
           "reporter_actions", "revoke", "revoke_for_contacts", "token_hash", "unknown", "well_formed"]
