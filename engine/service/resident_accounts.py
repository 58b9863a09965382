"""Residents' own accounts: sign up, verify by link, sign in, reset the password, change the e-mail, claim a report.

Built on `accounts` (argon2id hashes, sessions, refused-login throttling);
what is added here is the resident's side:

- **Links by e-mail** (`account_tokens`): a random secret whose SHA-256 is
  stored; the link goes out through the outbox (template `account_verify`,
  `account_reset`, `account_email_change` or `account_claim`, recipient
  `account_token:ID`, the link in the payload until it is used: then it is
  blanked). A link works once, within `LINK_LIFE[purpose]`; a new link of
  the same purpose retires the older ones.
- **Sign-up** makes an unverified resident who cannot sign in until the
  verification link is opened. The answer is the same whether or not the
  address had an account (nobody learns who lives in the city's records).
- **Sign-in** is `accounts.login` (its throttling: 429 with `retry_after`);
  a staff account or an unverified one is refused here with the same 401
  wording, the session it made deleted at once.
- **Rate limits** (`AccountLimits`, counted in the database like anonymous
  reports): sign-ups per client address, and e-mails sent per address
  (verification, reset, change, claim) and per client address — 429
  `too_many_requests` with `retry_after`.
- **Claiming** a report made without an account: the link goes to the
  address the report was made with, so only who reads that mailbox can
  attach it to their account.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.render import tenant_host
from komunikator.engine.service import accounts, rate_limits
from komunikator.engine.service.accounts.passwords import hash_password, secret_hash, verify
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.settings import env_int
from komunikator.engine.store.models import AccountToken, OutboxMessage, Session, Ticket, User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: How long each kind of link works.
LINK_LIFE: Mapping[str, timedelta] = {
    "verify": timedelta(hours=48), "reset": timedelta(hours=1), "email": timedelta(hours=24),
    "claim": timedelta(hours=48),
}
#: The page each link opens (web/portal/account_pages.py), by purpose.
LINK_PATH: Mapping[str, str] = {
    "verify": "/konto/potwierdz/", "reset": "/konto/haslo/nowe/", "email": "/konto/email/potwierdz/",
    "claim": "/konto/przypisz/",
}
TEMPLATE: Mapping[str, str] = {
    "verify": "account_verify", "reset": "account_reset", "email": "account_email_change", "claim": "account_claim",
}


@dataclass(frozen=True)
class AccountLimits:
    """Sign-ups per client address and link e-mails per address and per client address, per window."""

    signups_per_address: int = 5
    mails_per_email: int = 3
    mails_per_address: int = 10
    window: timedelta = timedelta(hours=1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AccountLimits:
        """`KOMUNIKATOR_SIGNUP_MAX_PER_ADDRESS` (5), `KOMUNIKATOR_ACCOUNT_MAIL_MAX_PER_EMAIL` (3),
        `…_MAX_PER_ADDRESS` (10), `KOMUNIKATOR_ACCOUNT_WINDOW_SECONDS` (3600)."""
        return cls(
            env_int("KOMUNIKATOR_SIGNUP_MAX_PER_ADDRESS", 5, minimum=1, env=env),
            env_int("KOMUNIKATOR_ACCOUNT_MAIL_MAX_PER_EMAIL", 3, minimum=1, env=env),
            env_int("KOMUNIKATOR_ACCOUNT_MAIL_MAX_PER_ADDRESS", 10, minimum=1, env=env),
            timedelta(seconds=env_int("KOMUNIKATOR_ACCOUNT_WINDOW_SECONDS", 3600, minimum=1, env=env)),
        )


async def _take(scope: TenantScope, buckets: list[tuple[str, int]], window: timedelta, now: datetime,
                what: str) -> None:
    """`rate_limits.take`, its 429 naming what was counted."""
    try:
        await rate_limits.take(scope, buckets, window, now)
    except ServiceError as error:
        if error.status != 429:
            raise
        wait = int((error.details or {}).get("retry_after", 60))
        raise ServiceError(429, "too_many_requests", f"too many {what} from here: try again in "
                           f"{-(-wait // 60)} min", details={"retry_after": wait}) from None


async def _limit_mail(scope: TenantScope, limits: AccountLimits, email: str, address: str | None,
                      now: datetime) -> None:
    buckets = [(f"account-mail:email:{email[:254]}", limits.mails_per_email)]
    if address:
        buckets.append((f"account-mail:address:{address[:64]}", limits.mails_per_address))
    await _take(scope, buckets, limits.window, now, "e-mails")


async def _send_link(
    scope: TenantScope, tenant: CompiledTenant, base_domain: str, user: User, purpose: str, email: str,
    now: datetime, ticket: Ticket | None = None,
) -> AccountToken:
    """A new one-time link of `purpose` (older ones retired) and the outbox row that mails it."""
    raw = secrets.token_urlsafe(32)
    await scope.query(AccountToken).filter(user_id=user.id, purpose=purpose, used_at=None).update(used_at=now)
    token = await scope.create(AccountToken, user_id=user.id, purpose=purpose, token_hash=secret_hash(raw),
                               email=email, ticket_id=ticket.id if ticket else None,
                               expires_at=now + LINK_LIFE[purpose])
    url = f"https://{tenant_host(tenant, base_domain)}{LINK_PATH[purpose]}{raw}"
    hours = int(LINK_LIFE[purpose].total_seconds() // 3600)
    await scope.create(
        OutboxMessage, ticket_id=ticket.id if ticket else None, kind=TEMPLATE[purpose], channel="email",
        dedupe_key=f"account:{token.id}",
        payload={"template": TEMPLATE[purpose], "recipients": [f"account_token:{token.id}"],
                 "ticket": ticket.number if ticket else None, "task": None, "locale": user.locale,
                 "account": {"url": url, "email": email, "valid_hours": hours}},
    )
    return token


async def _use(scope: TenantScope, raw: str, purpose: str, now: datetime) -> AccountToken:
    """The live link with this secret, marked used (its e-mail's copy of the link blanked); 404 otherwise."""
    token = await scope.find(AccountToken, token_hash=secret_hash(raw), purpose=purpose)
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise ServiceError(404, "not_found", "this link is unknown, used or expired")
    marked = await scope.query(AccountToken).filter(id=token.id, used_at=None).update(used_at=now)
    if not marked:  # used meanwhile
        raise ServiceError(404, "not_found", "this link is unknown, used or expired")
    for row in await scope.outbox().filter(dedupe_key=f"account:{token.id}"):
        account = dict(row.payload.get("account") or {})
        account["url"] = ""
        await scope.outbox().filter(id=row.id).update(payload={**row.payload, "account": account})
    return token


async def peek(scope: TenantScope, raw: str, purpose: str, now: datetime) -> AccountToken | None:
    """The live link with this secret, without using it (a page showing its confirm button), or None."""
    token = await scope.find(AccountToken, token_hash=secret_hash(raw), purpose=purpose)
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    return token


# -- signing up and in ----------------------------------------------------------------------------


async def sign_up(
    scope: TenantScope, tenant: CompiledTenant, base_domain: str, email: str, name: str, password: str,
    now: datetime, *, locale: str | None = None, address: str | None = None, limits: AccountLimits | None = None,
) -> User | None:
    """A new unverified resident and their verification e-mail; None when the address has an account already.

    422 for a malformed e-mail, name or password; 429 past the limits. An
    unverified resident signing up again gets a fresh link (and the password
    given now).
    """
    limits = limits or AccountLimits.from_env()
    cleaned = accounts.normalize_email(email)
    accounts.check_password(password)
    accounts.check_locale(tenant, locale)
    if address:
        await _take(scope, [(f"signup:address:{address[:64]}", limits.signups_per_address)], limits.window,
                    now, "sign-ups")
    await _limit_mail(scope, limits, cleaned, address, now)
    existing = await accounts.find_user(scope, cleaned)
    if existing is not None and (existing.kind != "resident" or existing.email_verified_at is not None):
        return None  # the same answer as a new sign-up: nothing to learn here
    async with transaction():
        if existing is None:
            user = await accounts.create_user(scope, cleaned, name, password, kind="resident", locale=locale)
        else:
            user = existing
            user.password_hash = await hash_password(password)
            await user.save(update_fields=["password_hash", "updated_at"])
        await _send_link(scope, tenant, base_domain, user, "verify", cleaned, now)
        await audit(scope, None, accounts.audit_actor(user), "resident_sign_up", {"user": None},
                    {"user": user.id}, now)
    return user


async def verify_email(scope: TenantScope, raw: str, now: datetime) -> User:
    """Open the verification link: the account may sign in from now on; 404 for a bad link."""
    async with transaction():
        token = await _use(scope, raw, "verify", now)
        user = await scope.users().get(id=token.user_id)  # type: ignore[attr-defined]
        if user.email != token.email:
            raise ServiceError(404, "not_found", "this link is for an address the account no longer has")
        await scope.users().filter(id=user.id).update(email_verified_at=now)
        user.email_verified_at = now
        await audit(scope, None, accounts.audit_actor(user), "resident_verified", {"email_verified_at": None},
                    {"email_verified_at": now}, now)
    return user


async def sign_in(
    scope: TenantScope, email: str, password: str, now: datetime, *, address: str | None = None,
) -> tuple[str, Session]:
    """A resident's session (raw token, row); 401 for wrong credentials, a staff or unverified account."""
    raw, session = await accounts.login(scope, email, password, now, address=address)
    user = await scope.users().get(id=session.user_id)  # type: ignore[attr-defined]
    if user.kind != "resident" or user.email_verified_at is None:
        await scope.sessions().filter(id=session.id).delete()
        if user.kind != "resident":
            raise ServiceError(401, "invalid_credentials", "wrong e-mail or password")
        raise ServiceError(403, "unverified", "open the link in the e-mail we sent to verify the address first")
    return raw, session


async def sign_out_everywhere(scope: TenantScope, user: User, now: datetime) -> int:
    """End every session of the account (all browsers and devices); how many."""
    async with transaction():
        ended = await scope.sessions().filter(user_id=user.id).delete()
        await audit(scope, None, accounts.audit_actor(user), "logout_everywhere", {"sessions": ended},
                    {"sessions": 0}, now)
    return int(ended)


# -- passwords ------------------------------------------------------------------------------------


async def request_reset(
    scope: TenantScope, tenant: CompiledTenant, base_domain: str, email: str, now: datetime, *,
    address: str | None = None, limits: AccountLimits | None = None,
) -> None:
    """Mail a reset link if a resident has this address (the same answer either way); 429 past the limits."""
    limits = limits or AccountLimits.from_env()
    typed = email.strip().lower()[:254]
    if not typed:
        raise invalid("give the e-mail address of the account", "email")
    await _limit_mail(scope, limits, typed, address, now)
    user = await accounts.find_user(scope, typed)
    if user is None or user.kind != "resident" or not user.active:
        return
    async with transaction():
        await _send_link(scope, tenant, base_domain, user, "reset", user.email, now)


async def reset_password(scope: TenantScope, raw: str, password: str, now: datetime) -> User:
    """Set a new password with a reset link: every session ends; the address counts as verified (the link
    reached it). 404 for a bad link, 422 for a weak password."""
    accounts.check_password(password)
    async with transaction():
        token = await _use(scope, raw, "reset", now)
        user = await scope.users().get(id=token.user_id)  # type: ignore[attr-defined]
        await accounts.set_password(scope, user, password)
        if user.email_verified_at is None and user.email == token.email:
            await scope.users().filter(id=user.id).update(email_verified_at=now)
        await audit(scope, None, accounts.audit_actor(user), "password_reset", {}, {"user": user.id}, now)
    return user


async def change_password(scope: TenantScope, user: User, current: str, new: str, now: datetime) -> None:
    """Change the password knowing the current one (every session ends); 401 for a wrong current one."""
    if user.password_hash is None or not await verify(user.password_hash, current):
        raise ServiceError(401, "invalid_credentials", "the current password is wrong", field="current_password")
    accounts.check_password(new)
    async with transaction():
        await accounts.set_password(scope, user, new)
        await audit(scope, None, accounts.audit_actor(user), "password_change", {}, {"user": user.id}, now)


# -- e-mail change and claiming -------------------------------------------------------------------


async def request_email_change(
    scope: TenantScope, tenant: CompiledTenant, base_domain: str, user: User, new_email: str, password: str,
    now: datetime, *, address: str | None = None, limits: AccountLimits | None = None,
) -> None:
    """Mail a confirmation link to the new address (the account keeps the old one until it is opened).

    401 for a wrong password, 409 if the address has an account, 429 past the limits.
    """
    limits = limits or AccountLimits.from_env()
    cleaned = accounts.normalize_email(new_email)
    if user.password_hash is None or not await verify(user.password_hash, password):
        raise ServiceError(401, "invalid_credentials", "the password is wrong", field="password")
    if cleaned == user.email:
        raise invalid("this is the account's address already", "email")
    if await accounts.find_user(scope, cleaned) is not None:
        raise ServiceError(409, "conflict", "another account has this address", field="email")
    await _limit_mail(scope, limits, cleaned, address, now)
    async with transaction():
        await _send_link(scope, tenant, base_domain, user, "email", cleaned, now)


async def confirm_email_change(scope: TenantScope, raw: str, now: datetime) -> User:
    """Open the link sent to the new address: the account's e-mail becomes it (verified); 404/409."""
    async with transaction():
        token = await _use(scope, raw, "email", now)
        user = await scope.users().get(id=token.user_id)  # type: ignore[attr-defined]
        if await accounts.find_user(scope, token.email) is not None:
            raise ServiceError(409, "conflict", "another account has this address meanwhile", field="email")
        await scope.users().filter(id=user.id).update(email=token.email, email_verified_at=now)
        user.email, user.email_verified_at = token.email, now
        # the addresses themselves stay out of the append-only audit trail (erasure must reach them)
        await audit(scope, None, accounts.audit_actor(user), "email_change", {"user": user.id, "account_token": None},
                    {"user": user.id, "account_token": token.id}, now)
    return user


async def request_claim(
    scope: TenantScope, tenant: CompiledTenant, base_domain: str, user: User, number: str, now: datetime, *,
    address: str | None = None, limits: AccountLimits | None = None,
) -> None:
    """Mail a claim link to the address report `number` was made with, if it was made with one and is nobody's.

    The answer is the same whether or not a link went out (the address is not
    shown to anyone); 429 past the limits.
    """
    limits = limits or AccountLimits.from_env()
    ticket = await scope.tickets().get_or_none(number=number.strip().upper())
    if ticket is None or ticket.reporter_user_id is not None:  # type: ignore[attr-defined]
        return
    contact = await scope.reporter_contacts().get_or_none(id=ticket.reporter_contact_id)  # type: ignore[attr-defined]
    if contact is None or not contact.email or contact.erased_at is not None:
        return
    await _limit_mail(scope, limits, contact.email.lower(), address, now)
    async with transaction():
        await _send_link(scope, tenant, base_domain, user, "claim", contact.email.lower(), now, ticket)


async def claim(scope: TenantScope, user: User, raw: str, now: datetime) -> Ticket:
    """Open a claim link signed in as the account that asked: the report becomes theirs; 404 otherwise."""
    async with transaction():
        token = await peek(scope, raw, "claim", now)
        if token is None or token.user_id != user.id or token.ticket_id is None:  # type: ignore[attr-defined]
            raise ServiceError(404, "not_found", "this link is unknown, used, expired or another account's")
        await _use(scope, raw, "claim", now)
        ticket = await scope.tickets().get(id=token.ticket_id)  # type: ignore[attr-defined]
        if ticket.reporter_user_id is not None:  # type: ignore[attr-defined]
            raise ServiceError(409, "conflict", "the report has been claimed meanwhile")
        await scope.tickets().filter(id=ticket.id).update(reporter_user_id=user.id)
        ticket.reporter_user_id = user.id
        await audit(scope, ticket, accounts.audit_actor(user), "report_claimed", {"reporter_user": None},
                    {"reporter_user": user.id}, now)
    return ticket
