"""The delivery job: claim pending outbox rows with a lease, send them, mark them.

    report = await deliver_pending(registry)          # Celery task, embedded runner, CLI
    report.claimed, report.sent, report.failed, report.retried

1. **Claim** (`queue.claim`, one short transaction): `UPDATE outbox SET
   claimed_until = now + lease, attempts = attempts + 1 WHERE id IN (SELECT …
   pending, lease free, due … ORDER BY id LIMIT n [FOR UPDATE SKIP LOCKED])
   RETURNING …`. Two workers never hold the same row; a worker that dies
   leaves leases that expire, and the rows are claimed again (`attempts`
   counts every claim).
2. **Render** the whole batch outside any transaction: resolve the
   recipients (`recipients.py`), render per recipient and locale
   (`render.py`). A row's Message-ID for a recipient derives from the tenant,
   the row's `dedupe_key` and the address: a resend after a crash carries the
   same one, so receivers can drop it.
3. **Send and mark**, row after row: each row is marked before the next one
   reaches the server (the SMTP channel sends the next envelope while the
   mark commits, the content only after it), so a crash leaves at most one
   sent-but-unmarked row — at most one duplicate per crash:
   - `sent` (with `sent_at`); a row that reaches nobody is `sent` with a note
     in `last_error` (no error loop);
   - a temporary failure (4xx) backs off exponentially (`backoff_base × 2^(attempts-1)`,
     capped) and becomes `failed` after `max_attempts` claims;
   - the channel being unreachable (SMTP down, login refused) backs off the
     same way but never gives the row up: it goes out when the server returns;
   - a permanent failure (5xx for every recipient, a template that does not
     render, an unknown reference) is `failed` at once, with the reason;
   - recipients already reached are remembered (`payload.delivered`, their
     Message-IDs) and skipped when a partly delivered row is retried;
   - rows of a channel this process has no `Channel` for (`push` without
     VAPID keys) stay `pending` with `last_error` "push channel not
     configured", looked at again after `unconfigured_delay` (attempts not counted).
4. **Push** rows become one message per Web Push subscription of each
   recipient with an account (`push_subscriptions`); a subscription the push
   service calls gone (404/410) is deleted; a 429 makes the row wait at least
   its `Retry-After`. Residents who switched a channel off
   (`resident_settings`) get nothing on it, except account messages
   (`resident_settings.ESSENTIAL_TEMPLATES`).

Payload keys read (written by `engine/service/apply.py` and by jobs):
`template`, `recipients`, `ticket` (number), `task` (key), `locale`, and
optionally `comment` (text), `message` ({text, sender_name}), `digest`
(the digest's variables), `delivered` (kept by this module).

Settings (`DeliverySettings.from_env`): `KOMUNIKATOR_OUTBOX_MAX_ATTEMPTS`
(default 8), `KOMUNIKATOR_OUTBOX_BACKOFF_SECONDS` (60),
`KOMUNIKATOR_OUTBOX_BACKOFF_CAP_SECONDS` (3600).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import (
    Channel,
    ChannelUnavailable,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    channels_from_env,
    send_after,
)
from komunikator.engine.delivery.push import PushTarget, RetryLater, SubscriptionGone
from komunikator.engine.delivery.recipients import Addressee, RecipientResolver, UnknownReference
from komunikator.engine.delivery.render import (
    MessageSubject,
    RenderError,
    build_context,
    render_message,
    reporter_url,
    tenant_host,
    uses_field,
)
from komunikator.engine.open311.handover import CHANNEL as OPEN311_CHANNEL
from komunikator.engine.schema.base import text_for
from komunikator.engine.service import resident_settings
from komunikator.engine.service.reporter_links import mint as mint_reporter_link
from komunikator.engine.settings import env_int, env_number
from komunikator.engine.store.models import PushSubscription, Task, Ticket
from komunikator.engine.store.outbox_queue import ClaimedRow, claim, dialect, mark_sent, unflushed_commit
from komunikator.engine.store.outbox_queue import claim_sql as claim_sql  # part of this module's interface
from komunikator.engine.store.scope import TenantScope, list_tenants
from komunikator.engine.tenants import TenantRegistry

log = logging.getLogger(__name__)

#: `last_error` of rows whose channel this process cannot deliver through.
NOT_CONFIGURED = "{channel} channel not configured"


@dataclass(frozen=True)
class DeliverySettings:
    """Retry policy."""

    max_attempts: int = 8
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=1)
    #: when rows of a channel without a `Channel` are looked at again
    unconfigured_delay: timedelta = timedelta(hours=1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliverySettings:
        """Settings from `KOMUNIKATOR_OUTBOX_*` (module docstring); ValueError if malformed."""
        attempts = env_int("KOMUNIKATOR_OUTBOX_MAX_ATTEMPTS", 8, minimum=1, env=env)
        base = env_number("KOMUNIKATOR_OUTBOX_BACKOFF_SECONDS", 60, minimum=0.001, env=env)
        cap = env_number("KOMUNIKATOR_OUTBOX_BACKOFF_CAP_SECONDS", 3600, minimum=base, env=env)
        return cls(attempts, timedelta(seconds=base), timedelta(seconds=cap))

    def backoff(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed claim."""
        return min(self.backoff_base * (1 << min(max(attempts - 1, 0), 30)), self.backoff_cap)


@dataclass
class DeliveryReport:
    """What one `deliver_pending` call did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    #: rows put back untouched: no channel for them in this process
    deferred: int = 0
    #: messages handed to channels (one row may reach several recipients)
    messages: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(*(getattr(self, f) + getattr(other, f) for f in _REPORT_FIELDS))


_REPORT_FIELDS = ("claimed", "sent", "failed", "retried", "deferred", "messages")


# -- the job ------------------------------------------------------------------------------------

_default_channels: dict[str, Channel] | None = None


def default_channels() -> dict[str, Channel]:
    """The process-wide channels (`channels_from_env`), made on first use and kept (SMTP stays connected)."""
    global _default_channels
    if _default_channels is None:
        _default_channels = channels_from_env()
    return _default_channels


async def deliver_pending(
    registry: TenantRegistry,
    *,
    now: datetime | None = None,
    limit: int = 100,
    lease: timedelta = timedelta(minutes=5),
    worker: str = "",
    channels: Mapping[str, Channel] | None = None,
    settings: DeliverySettings | None = None,
) -> DeliveryReport:
    """Claim up to `limit` due outbox rows, deliver them, mark each; return the counts.

    `channels` defaults to `default_channels()`; `settings` to `DeliverySettings.from_env()`.
    Call it again while `claimed == limit` to drain a backlog.
    """
    now = now or datetime.now(UTC)
    channels = default_channels() if channels is None else channels
    settings = settings or DeliverySettings.from_env()
    rows = await claim(now, limit, lease)
    report = DeliveryReport(claimed=len(rows))
    if not rows:
        return report
    slugs = {t.id: t.slug for t in await list_tenants()}
    batches: dict[int, _TenantBatch] = {}
    work: list[tuple[ClaimedRow, _TenantBatch, _Prepared | _HandOver | _Outcome]] = []
    for row in rows:  # render the whole batch first: nothing but marks between two sends
        batch = batches.get(row.tenant_id)
        if batch is None:
            slug = slugs.get(row.tenant_id, "")
            batch = batches[row.tenant_id] = _TenantBatch(
                TenantScope(row.tenant_id), slug, registry.tenants.get(slug), registry.base_domain, now=now
            )
        work.append((row, batch, await batch.prepare(row, channels)))
    # Each row is marked before the next one reaches the server (the SMTP channel sends the next
    # envelope meanwhile, the content only after the mark): a crash leaves at most one
    # sent-but-unmarked row, so at most one duplicate per crash.
    marking: asyncio.Future[None] | None = None
    waiting: dict[str, tuple[str, int]] = {}  # channel → (why it is unreachable, rows that wait for it)
    try:
        for row, batch, prepared in work:
            if isinstance(prepared, _Outcome):
                outcome = prepared
            else:
                outcome = await batch.send(row, prepared, report, after=marking)
            if marking is not None:
                await marking
            marking = asyncio.ensure_future(_mark(batch.scope, row, outcome, now, settings, report))
            if outcome.unavailable:  # one line per channel, not one per row waiting for it
                why, count = waiting.get(row.channel, (outcome.error or "", 0))
                waiting[row.channel] = (why, count + 1)
            elif outcome.kind in ("retry", "failed"):
                log.warning("outbox %s (%s, %s) %s: %s [worker %s]", row.id, batch.slug, row.channel,
                            outcome.kind, outcome.error, worker or "-")
    finally:
        if marking is not None:
            await marking
        for batch in batches.values():
            await batch.record_pushes(now)
    for channel, (why, count) in waiting.items():
        log.warning("outbox: %d %s row(s) wait, the channel is unreachable: %s [worker %s]", count, channel,
                    why, worker or "-")
    return report


@dataclass
class _Outcome:
    kind: Literal["sent", "retry", "failed", "deferred"]
    error: str | None = None
    #: Message-IDs reached before this attempt and during it
    delivered: list[str] = field(default_factory=list)
    #: whether the failure lies with the channel (never gives the row up)
    unavailable: bool = False
    #: the least wait the receiving service asked for (429 Retry-After), seconds
    retry_after: float = 0.0


@dataclass(frozen=True)
class _Prepared:
    channel: Channel
    messages: list[OutgoingMessage]


@dataclass(frozen=True)
class _HandOver:
    """A task for a unit's own Open311 server: posted by `engine/open311/remote.py`, not rendered."""


class _TenantBatch:
    """One tenant's rows within a call: caches its tickets, tasks and people."""

    def __init__(self, scope: TenantScope, slug: str, tenant: CompiledTenant | None, base_domain: str,
                 now: datetime | None = None) -> None:
        self.scope = scope
        self.now = now or datetime.now(UTC)  # when reporter links made for this batch start
        self.slug = slug
        self.tenant = tenant
        self.base_domain = base_domain
        self.resolver = RecipientResolver(scope, tenant) if tenant is not None else None
        self._tickets: dict[int, Ticket | None] = {}
        self._tasks: dict[tuple[int, str], Task | None] = {}
        #: channels found unreachable in this call: their remaining rows wait without trying
        self.down: dict[str, str] = {}
        self._subscriptions: dict[int, list[PushTarget]] = {}
        self._accepting: dict[tuple[str, int], bool] = {}
        #: subscriptions a push reached in this call (their `last_sent_at` is set once, at the end)
        self.pushed: set[int] = set()

    async def prepare(self, row: ClaimedRow, channels: Mapping[str, Channel]) -> _Prepared | _HandOver | _Outcome:
        """The row's messages, rendered; or its outcome when there is nothing to send."""
        if row.channel == OPEN311_CHANNEL:
            return _HandOver()
        channel = channels.get(row.channel)
        if channel is None:
            return _Outcome("deferred", NOT_CONFIGURED.format(channel=row.channel))
        if self.tenant is None or self.resolver is None:
            return _Outcome("retry", f"tenant {self.slug or row.tenant_id!r} is not configured in this process")
        try:
            messages = await self._messages(row, self.tenant, self.resolver)
        except (RenderError, UnknownReference) as error:
            return _Outcome("failed", str(error))
        if messages is None:
            return _Outcome("failed", f"the ticket of outbox row {row.id} no longer exists")
        if not messages:
            return _Outcome("sent", "no recipients: " + ", ".join(map(str, row.payload.get("recipients", []))))
        return _Prepared(channel, messages)

    async def send(
        self, row: ClaimedRow, prepared: _Prepared | _HandOver, report: DeliveryReport,
        after: Awaitable[object] | None = None,
    ) -> _Outcome:
        """Hand each message to the channel (the first once `after` is done); the row's outcome."""
        if isinstance(prepared, _HandOver):
            if after is not None:
                await after
            from komunikator.engine.open311.remote import deliver  # the HTTP client is loaded only when needed

            result = await deliver(self.scope, self.tenant, row.payload, self.now)
            report.messages += result.kind == "sent"
            return _Outcome(result.kind, result.error, unavailable=result.unavailable)
        if row.channel in self.down:
            return _Outcome("retry", self.down[row.channel], unavailable=True)
        delivered = list(row.payload.get("delivered", []))
        refused: list[str] = []
        for message in prepared.messages:
            if message.message_id in delivered:
                continue
            try:
                await send_after(prepared.channel, message, after)
                after = None
            except ChannelUnavailable as error:
                self.down[row.channel] = str(error)
                return _Outcome("retry", str(error), delivered, unavailable=True)
            except RetryLater as error:
                return _Outcome("retry", f"{message.to}: {error}", delivered, retry_after=error.retry_after)
            except TemporaryFailure as error:
                return _Outcome("retry", f"{message.to}: {error}", delivered)
            except SubscriptionGone as error:
                await self.scope.query(PushSubscription).filter(id=error.subscription_id).delete()
                refused.append(f"{message.to}: {error}")
                continue
            except PermanentFailure as error:
                refused.append(f"{message.to}: {error}")
                continue
            report.messages += 1
            delivered.append(message.message_id)
            if message.push is not None:
                self.pushed.add(message.push.subscription_id)
        if refused and len(refused) == len(prepared.messages):
            return _Outcome("failed", "; ".join(refused), delivered)
        return _Outcome("sent", "; ".join(refused) or None, delivered)

    async def _messages(
        self, row: ClaimedRow, tenant: CompiledTenant, resolver: RecipientResolver
    ) -> list[OutgoingMessage] | None:
        ticket = await self._ticket(row)
        if ticket is None and row.payload.get("ticket"):
            return None
        task = await self._task(ticket, row.payload.get("task"))
        refs = [str(r) for r in row.payload.get("recipients", [])]
        people = await resolver.resolve(refs, ticket, task)
        assignee_name = ""
        if task is not None and task.assignee_id is not None:  # type: ignore[attr-defined]
            user = await resolver.user(task.assignee_id)  # type: ignore[attr-defined]
            assignee_name = (user.display_name or user.email) if user is not None else ""
        about = MessageSubject(ticket, task, assignee_name, row.payload)
        template = str(row.payload.get("template") or row.kind)
        messages = []
        for person in people:
            if not person.unconfirmed and not await self._accepts(person, row.channel, template):
                continue
            if row.channel == "push":
                if not person.unconfirmed and person.user_id is not None:
                    messages += [self._message(row, tenant, template, person, about, push=target)
                                 for target in await self._targets(person.user_id)]
                continue  # no account, no device: nothing to push to
            if not person.unconfirmed:
                link = await self._reporter_url(row, tenant, template, person, ticket)
                messages.append(self._message(row, tenant, template, person, about, reporter_url=link))
            elif confirmation_due(row, person, ticket):  # the receipt: only the city's text and the link
                asks = FOLLOW_CONFIRMATION_TEMPLATE if row.payload.get("event") == FOLLOW_EVENT else \
                    CONFIRMATION_TEMPLATE
                messages.append(self._message(row, tenant, asks, person, about, confirm=True))
            # else: nothing goes to an address nobody has confirmed
        return messages

    def _message(
        self, row: ClaimedRow, tenant: CompiledTenant, template: str, person: Addressee, about: MessageSubject,
        *, confirm: bool = False, push: PushTarget | None = None, reporter_url: str = "",
    ) -> OutgoingMessage:
        locale = _locale(row, tenant, person)
        context = build_context(tenant, self.base_domain, locale, person.name, about)
        if reporter_url and isinstance(context.get("ticket"), dict):
            context["ticket"]["reporter_url"] = reporter_url
        if confirm:
            context = confirmation_context(context, tenant, self.base_domain, person.confirm_token or "")
        rendered = render_message(tenant, template, locale, context)
        host = tenant_host(tenant, self.base_domain)
        to = person.address if push is None else f"push subscription {push.subscription_id}"
        ticket_context = context.get("ticket")
        url = ticket_context["public_url"] if isinstance(ticket_context, dict) else context["tenant"]["portal_url"]
        return OutgoingMessage(
            channel=row.channel, to=to, subject=rendered.subject, text=rendered.text,
            html=rendered.html, short=rendered.short or rendered.subject, kind=template, url=str(url), push=push,
            message_id=message_id(tenant.slug, row.dedupe_key, person.address if push is None else to, host),
            recipient_name="" if person.unconfirmed else person.name,
            sender_name=text_for(dict(tenant.config.name), locale, tenant.config.locale),
            reply_to=tenant.config.contact.email, locale=locale, tenant=tenant.slug, outbox_id=row.id,
        )

    async def _reporter_url(
        self, row: ClaimedRow, tenant: CompiledTenant, template: str, person: Addressee, ticket: Ticket | None
    ) -> str:
        """A fresh reporter's link for an e-mail to the ticket's reporter whose template uses `ticket.reporter_url`.

        Each such e-mail gets its own link (only its hash is stored, so an
        earlier one cannot be put in again); a resend after a crash makes
        another, and both work. Nothing is made for a closed ticket.
        """
        if not person.reporter or ticket is None or row.channel != "email":
            return ""
        if not uses_field(tenant, template, _locale(row, tenant, person), "ticket", "reporter_url"):
            return ""
        process = tenant.processes.get(ticket.process)
        state = process.states.get(ticket.state) if process is not None else None
        if state is None or state.final:
            return ""
        token = await mint_reporter_link(self.scope, tenant, ticket, self.now)
        return reporter_url(tenant, self.base_domain, token) if token else ""

    async def _accepts(self, person: Addressee, channel: str, template: str) -> bool:
        """Whether a resident left `channel` on (account messages always go; staff have no switches)."""
        if person.user_id is None or channel not in resident_settings.CHANNELS:
            return True
        if template in resident_settings.ESSENTIAL_TEMPLATES:
            return True
        key = (channel, person.user_id)
        if key not in self._accepting:
            self._accepting[key] = bool(await resident_settings.accepting(self.scope, [person.user_id], channel))
        return self._accepting[key]

    async def _targets(self, user_id: int) -> list[PushTarget]:
        """The account's push subscriptions (cached for the call)."""
        if user_id not in self._subscriptions:
            rows = await self.scope.query(PushSubscription).filter(user_id=user_id).order_by("id")
            self._subscriptions[user_id] = [PushTarget(r.id, r.endpoint, r.p256dh, r.auth) for r in rows]
        return self._subscriptions[user_id]

    async def record_pushes(self, now: datetime) -> None:
        """Note when each subscription reached in this call last got a push."""
        if self.pushed:
            await self.scope.query(PushSubscription).filter(id__in=sorted(self.pushed)).update(last_sent_at=now)
            self.pushed.clear()

    async def _ticket(self, row: ClaimedRow) -> Ticket | None:
        if row.ticket_id is None:
            return None
        if row.ticket_id not in self._tickets:
            self._tickets[row.ticket_id] = await self.scope.tickets().get_or_none(id=row.ticket_id)
        return self._tickets[row.ticket_id]

    async def _task(self, ticket: Ticket | None, key: Any) -> Task | None:
        if ticket is None or not key:
            return None
        cache_key = (ticket.id, str(key))
        if cache_key not in self._tasks:
            self._tasks[cache_key] = await self.scope.tasks().get_or_none(ticket_id=ticket.id, key=str(key))
        return self._tasks[cache_key]


def _locale(row: ClaimedRow, tenant: CompiledTenant, person: Addressee) -> str:
    """The language of a message to `person`: theirs, else the row's, else the city's (one the city offers)."""
    locale = person.locale or str(row.payload.get("locale") or tenant.config.locale)
    return locale if locale in tenant.config.locales else tenant.config.locale


#: What an unconfirmed reporter's address gets instead of the receipt (definitions/templates/tickets.yaml).
CONFIRMATION_TEMPLATE = "email_confirmation"
#: What an address typed in to follow a report gets first (engine/service/following.py), and its row's event.
FOLLOW_CONFIRMATION_TEMPLATE = "follow_confirmation"
FOLLOW_EVENT = "follow_requested"


def confirmation_due(row: ClaimedRow, person: Addressee, ticket: Ticket | None) -> bool:
    """Whether this row is the one that asks `person` to confirm their address: the e-mailed receipt,
    or the request sent when the address was typed in to follow a report."""
    return (row.channel == "email" and ticket is not None and bool(person.confirm_token)
            and row.payload.get("event") in ("ticket_created", FOLLOW_EVENT))


def confirmation_context(
    context: Mapping[str, Any], tenant: CompiledTenant, base_domain: str, token: str
) -> dict[str, Any]:
    """Only the city's own words: the number, the category, links. Nothing the reporter typed.

    The address is unconfirmed, so anyone may have typed it: what the mail
    quotes must not be theirs to choose (no name, no address, no description).
    """
    ticket = context["ticket"]
    base = f"https://{tenant_host(tenant, base_domain)}"
    return {
        "tenant": context["tenant"],
        "recipient": {"name": ""},
        "ticket": {"number": ticket["number"], "category_name": ticket["category_name"],
                   "public_url": ticket["public_url"], "created_at": ticket["created_at"]},
        "comment": {"text": ""},
        "confirm": {"url": f"{base}/potwierdz-adres/{token}"},  # the portal's page (web/portal/)
    }


def message_id(tenant: str, dedupe_key: str, address: str, host: str) -> str:
    """The Message-ID of an outbox row's message to `address`: the same on every resend."""
    digest = hashlib.sha256(f"{tenant}\0{dedupe_key}\0{address.strip().lower()}".encode()).hexdigest()[:32]
    return f"<{digest}@{host}>"


# -- marking ------------------------------------------------------------------------------------


async def _mark(
    scope: TenantScope, row: ClaimedRow, outcome: _Outcome, now: datetime, settings: DeliverySettings,
    report: DeliveryReport,
) -> None:
    """Record a row's outcome (its own short transaction)."""
    if outcome.kind == "sent" and outcome.error is None:  # the common case, once per message: one statement
        await mark_sent(row, now)
        report.sent += 1
        return
    if dialect() != "postgres":
        await _write_mark(scope, row, outcome, now, settings, report)
        return
    async with unflushed_commit():  # see `outbox_queue.mark_sent`
        await _write_mark(scope, row, outcome, now, settings, report)


async def _write_mark(
    scope: TenantScope, row: ClaimedRow, outcome: _Outcome, now: datetime, settings: DeliverySettings,
    report: DeliveryReport,
) -> None:
    # `attempts` identifies this claim: a row re-claimed by another worker after our lease
    # expired is theirs to mark, except that "sent" is always right to record.
    mine = scope.outbox().filter(id=row.id, status="pending", attempts=row.attempts)
    if outcome.kind == "sent":
        await scope.outbox().filter(id=row.id).update(
            status="sent", sent_at=now, claimed_until=None, last_error=outcome.error
        )
        report.sent += 1
    elif outcome.kind == "deferred":
        await mine.update(claimed_until=None, attempts=row.attempts - 1, last_error=outcome.error,
                          next_attempt_at=now + settings.unconfigured_delay)
        report.deferred += 1
    elif outcome.kind == "failed" or (not outcome.unavailable and row.attempts >= settings.max_attempts):
        error = outcome.error if outcome.kind == "failed" else f"gave up after {row.attempts} attempts: {outcome.error}"
        await mine.update(status="failed", claimed_until=None, last_error=error,
                          **_delivered(row, outcome))
        report.failed += 1
    else:
        wait = max(settings.backoff(row.attempts), timedelta(seconds=outcome.retry_after))
        await mine.update(claimed_until=None, last_error=outcome.error,
                          next_attempt_at=now + wait, **_delivered(row, outcome))
        report.retried += 1


def _delivered(row: ClaimedRow, outcome: _Outcome) -> dict[str, Any]:
    """The payload update remembering who was reached, if that changed."""
    if outcome.delivered == list(row.payload.get("delivered", [])):
        return {}
    return {"payload": {**row.payload, "delivered": outcome.delivered}}
