"""A resident's own data (GDPR art. 15, 17 and 20): everything about their account as JSON, and deleting it.

    data = await resident_privacy.export(scope, tenant, user, now)            # plain data (JSON-ready)
    blob = await resident_privacy.export_zip(scope, tenant, user, now, storage) # data.json + their photos
    done = await resident_privacy.delete_account(scope, tenant, user, password, now, storage)
    done = await resident_privacy.erase_account(scope, tenant, user, admin, basis, now, storage)  # by post

**Export** — the account (e-mail, name, language, dates), the settings
(channels, topics, areas), the push devices, the reports made from the
account or with its e-mail address (through `gdpr.export` for the contacts),
the reports followed, the comments written, the messages sent to the
account (outbox rows naming it: template, channel, status, dates) and the
account's history (audit rows where it acted: what, when). The ZIP adds the
photos the resident uploaded.

**Delete** (the password confirms it) — in one transaction:

- the reporter contacts of their reports and of their address go through the
  one audited erase path (`gdpr.erase`, legal basis: the resident's own
  request), which also drops mail waiting for those reports' reporter;
- their comments (written from the account or as the reporter of their
  reports) are anonymised (author cleared, text replaced by `ERASED_COMMENT`,
  the search index rewritten), the photos they uploaded deleted (rows and
  files);
- follows, push subscriptions, settings, one-time links, sessions, API
  tokens, refused-login records and rate-limit counters naming the address
  are removed; the account's e-mails (links, notices addressed to the
  account) are deleted from the outbox whatever their state, and delivery
  errors quoting the address are blanked;
- the account row stays (the audit trail refers to it) but holds nothing
  personal: e-mail `erased-<id>@invalid`, no name, no password, inactive;
  an `account_erase` audit row records who did it and on what legal basis.

**Erase on the office's decision** (`erase_account`: a request by post, the
administrator's privacy page) does the same with the administrator as the
actor and the request's legal basis and reference in the audit trail.

The reports stay in the city's archive without personal data; their own
free text (description, address) is kept for the office to review, as with
any erasure (`gdpr.erase` lists them).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.media.storage import Storage
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts, gdpr, resident_settings, search
from komunikator.engine.service.accounts.passwords import verify
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store import extras
from komunikator.engine.store.db import connection
from komunikator.engine.store.expressions import Q
from komunikator.engine.store.models import (
    AccountToken,
    Attachment,
    OutboxMessage,
    PushSubscription,
    ResidentSettings,
    User,
)
from komunikator.engine.store.outbox_queue import dialect
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: What an erased resident's comment says instead of its text.
ERASED_COMMENT = "[treść usunięta na prośbę autora / removed at the author's request]"
#: The legal basis recorded for a resident's own deletion.
LEGAL_BASIS = "art. 17(1)(a) RODO: the account holder deleted their account"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _report_numbers(scope: TenantScope, user: User) -> list[str]:
    rows = await scope.tickets().filter(reporter_user_id=user.id).order_by("id").values_list("number", flat=True)
    return [str(n) for n in rows]


async def export(scope: TenantScope, tenant: CompiledTenant, user: User, now: datetime) -> dict[str, Any]:
    """Everything held about the account (see the module docstring), audited as a GDPR export."""
    try:
        contacts = await gdpr.export(scope, email=user.email, actor=accounts.audit_actor(user), now=now)
    except ServiceError as error:
        if error.status != 404:
            raise
        contacts = {"contacts": [], "reports": [], "follows": []}
    mine = await scope.tickets().filter(reporter_user_id=user.id).order_by("id")
    reports = {r["number"]: r for r in contacts["reports"]}
    for ticket in mine:
        reports.setdefault(ticket.number, {
            "number": ticket.number, "category": ticket.category, "state": ticket.state,
            "public_status": ticket.public_status, "created_at": ticket.created_at, "closed_at": ticket.closed_at,
            "description": ticket.description, "address": ticket.address, "lat": ticket.lat, "lon": ticket.lon})
    follow_ids = await scope.followers().filter(user_id=user.id).values_list("ticket_id", flat=True)
    follows = await scope.tickets().filter(id__in=list(follow_ids)).order_by("id").values_list("number", flat=True)
    comments = await scope.comments().filter(author_id=user.id).order_by("id")
    ticket_ids = [c.ticket_id for c in comments]  # type: ignore[attr-defined]
    pairs = await scope.tickets().filter(id__in=ticket_ids).values_list("id", "number")
    numbers: dict[int, str] = {int(i): str(n) for i, n in pairs}
    devices = await scope.query(PushSubscription).filter(user_id=user.id).order_by("id")
    sent = await _outbox_for(scope, user)
    history = await scope.audit_events().filter(actor_user_id=user.id).order_by("id")
    return {
        "exported_at": now.isoformat(),
        "city": tenant.slug,
        "account": {"email": user.email, "display_name": user.display_name, "locale": user.locale,
                    "created_at": _iso(user.created_at), "email_verified_at": _iso(user.email_verified_at)},
        "settings": await resident_settings.export(scope, user.id),
        "push_devices": [{"label": d.label, "endpoint": d.endpoint, "created_at": _iso(d.created_at),
                          "last_sent_at": _iso(d.last_sent_at)} for d in devices],
        "reporter_contacts": contacts["contacts"],
        "reports": [_plain(r) for r in reports.values()],
        "follows": sorted({*map(str, follows), *map(str, contacts["follows"])}),
        "comments": [{"report": numbers.get(c.ticket_id), "visibility": c.visibility,  # type: ignore[attr-defined]
                      "text": c.body, "created_at": _iso(c.created_at)} for c in comments],
        "messages": [{"template": row.kind, "channel": row.channel, "status": row.status,
                      "created_at": _iso(row.created_at), "sent_at": _iso(row.sent_at)} for row in sent],
        "history": [{"action": a.action, "at": _iso(a.at)} for a in history],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _outbox_for(scope: TenantScope, user: User) -> list[OutboxMessage]:
    """Outbox rows addressed to the account: by `user:ID` or through one of its one-time links."""
    token_ids = await scope.query(AccountToken).filter(user_id=user.id).values_list("id", flat=True)
    keys = [f"account:{t}" for t in token_ids]
    by_link = list(await scope.outbox().filter(dedupe_key__in=keys)) if keys else []
    candidates = await scope.outbox().filter(ticket_id=None).exclude(dedupe_key__startswith="account:")
    named = [row for row in candidates if f"user:{user.id}" in map(str, row.payload.get("recipients", []))]
    return sorted(by_link + named, key=lambda row: row.id)


async def export_zip(
    scope: TenantScope, tenant: CompiledTenant, user: User, now: datetime, storage: Storage
) -> bytes:
    """The export as a ZIP: `data.json` and, under `photos/`, the photos the resident uploaded."""
    data = await export(scope, tenant, user, now)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for photo in await scope.query(Attachment).filter(uploaded_by_id=user.id).order_by("id"):
            extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(photo.content_type, "bin")
            try:
                archive.writestr(f"photos/{photo.id}.{extension}", storage.get(photo.storage_key))
            except (FileNotFoundError, KeyError):
                continue  # a file already gone (media gc): the JSON still lists the report
    return buffer.getvalue()


async def delete_account(
    scope: TenantScope, tenant: CompiledTenant, user: User, password: str, now: datetime, storage: Storage
) -> dict[str, Any]:
    """Delete the account as the module docstring says; 401 for a wrong password. What was done."""
    if user.kind != "resident":
        raise ServiceError(403, "forbidden", "only a resident's own account is deleted here")
    if user.password_hash is None or not await verify(user.password_hash, password):
        raise ServiceError(401, "invalid_credentials", "the password is wrong", field="password")
    return await _erase_account(scope, tenant, user, accounts.audit_actor(user), LEGAL_BASIS, now, storage)


async def resident_account(scope: TenantScope, email: str) -> User | None:
    """The resident account (not yet deleted) with this e-mail address, any case; None if there is none."""
    address = email.strip()
    if not address or "@" not in address:
        return None
    return await scope.users().filter(kind="resident", email__iexact=address, active=True).first()


async def erase_account(
    scope: TenantScope, tenant: CompiledTenant, user: User, actor: UserView, legal_basis: str, now: datetime,
    storage: Storage,
) -> dict[str, Any]:
    """Delete a resident's account on the office's decision (a request by post: the administrator's privacy
    page), exactly as the resident's own deletion does, with `legal_basis` and `actor` in the audit trail."""
    if user.kind != "resident":
        raise ServiceError(403, "forbidden", "only a resident's account is deleted here")
    basis = legal_basis.strip()
    if not basis or len(basis) > gdpr.MAX_LEGAL_BASIS:
        raise ServiceError(422, "invalid", f"name the legal basis (at most {gdpr.MAX_LEGAL_BASIS} characters)",
                           field="legal_basis")
    return await _erase_account(scope, tenant, user, actor, basis, now, storage)


async def _erase_account(scope: TenantScope, tenant: CompiledTenant, user: User, actor: Any, basis: str,
                         now: datetime, storage: Storage) -> dict[str, Any]:
    email = user.email
    files: list[str] = []
    async with transaction():
        contact_ids = await _contact_ids(scope, user)
        erased = await _erase_contacts(scope, user, actor, basis, now)
        theirs = scope.comments().filter(Q(author_id=user.id) | Q(author_contact_id__in=contact_ids or [0]))
        touched = set(await theirs.values_list("ticket_id", flat=True))
        await theirs.update(body=ERASED_COMMENT, author_id=None, author_contact_id=None)
        for ticket in await scope.tickets().filter(id__in=list(touched)):
            await search.index_ticket(scope, tenant, ticket)  # public comments are searchable
        for photo in await scope.query(Attachment).filter(uploaded_by_id=user.id):
            files += [k for k in (photo.storage_key, photo.thumb_key) if k]
        await scope.query(Attachment).filter(uploaded_by_id=user.id).delete()
        messages = [row.id for row in await _outbox_for(scope, user)]
        if messages:
            await scope.outbox().filter(id__in=messages).delete()
        await scope.outbox().filter(last_error__icontains=email).update(last_error="(erased)")
        await scope.followers().filter(user_id=user.id).delete()
        await scope.query(PushSubscription).filter(user_id=user.id).delete()
        await scope.query(ResidentSettings).filter(user_id=user.id).delete()
        await scope.query(AccountToken).filter(user_id=user.id).delete()
        await scope.sessions().filter(user_id=user.id).delete()
        await scope.api_tokens().filter(user_id=user.id).delete()
        await scope.login_failures().filter(email=email).delete()
        await scope.rate_events().filter(bucket__endswith=f":{email}").delete()
        await scope.users().filter(id=user.id).update(
            email=f"erased-{user.id}@invalid", display_name="", password_hash=None, active=False, locale=None,
            email_verified_at=None)
        await audit(scope, None, actor, "account_erase", {"user": user.id},
                    {"user": user.id, "legal_basis": basis}, now, basis)
    await extras.forget_deleted_search_text(connection(), dialect())  # the erased comments' words
    for key in files:  # after the commit: a failed transaction keeps its files
        try:
            storage.delete(key)
        except FileNotFoundError:
            continue
    return {**erased, "account_deleted": True, "deleted_messages": len(messages), "deleted_files": len(files)}


async def _contact_ids(scope: TenantScope, user: User) -> list[int]:
    """The reporter contacts with the account's address and those of its reports."""
    by_mail = await scope.reporter_contacts().filter(email__iexact=user.email).values_list("id", flat=True)
    by_report = await scope.tickets().filter(reporter_user_id=user.id, reporter_contact_id__isnull=False).values_list(
        "reporter_contact_id", flat=True)
    return sorted({int(str(i)) for i in [*by_mail, *by_report]})


async def _erase_contacts(scope: TenantScope, user: User, actor: Any, basis: str, now: datetime) -> dict[str, Any]:
    """Erase, through `gdpr.erase`, the contacts with the account's address and those of its reports; the
    counts summed over them (as `gdpr.erase` gives them)."""
    total: dict[str, Any] = {"erased_contacts": 0, "already_erased": 0, "dropped_messages": 0, "revoked_links": 0}
    numbers = await _report_numbers(scope, user)
    reports = set(numbers)
    for lookup in [{"email": user.email}, *({"ticket": number} for number in numbers)]:
        try:
            done = await gdpr.erase(scope, actor, basis, now, **lookup)
        except ServiceError as error:
            if error.status != 404:
                raise
            continue
        for key in total:
            total[key] += int(done[key])
        reports.update(done["reports_to_review"])
    return {**total, "reports_to_review": sorted(reports)}
