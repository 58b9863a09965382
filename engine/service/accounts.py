"""Staff accounts: users, passwords, memberships, sessions and API tokens.

Everything goes through a `TenantScope`: an account, its session and its
tokens exist in one tenant only, so a token of one city is simply unknown
in another.

- Passwords are hashed with argon2id (`argon2.PasswordHasher` defaults); a
  hash made with older parameters is replaced at the next successful login.
  An unknown e-mail costs the same work as a wrong password (a dummy hash is
  verified) and gets the same answer.
- Sessions (browser cookies) and API tokens are random
  (`secrets.token_urlsafe(32)`); only their SHA-256 is stored, so a copy of
  the database logs no one in.
- A session lasts `SESSION_TTL` from login (fixed, not sliding: activity does
  not extend it). Changing a password or deactivating a user ends all of
  their sessions; deactivating also revokes their tokens.

- Refused logins are counted per (e-mail, client address), per address and
  per e-mail (`LoginLimits`): past a limit, logging in is refused (429) for
  a while — a stranger's guesses lock out only the stranger until the much
  higher per-account ceiling, which is e-mailed to the account holder.

Errors are `ServiceError`s: 401 `invalid_credentials`, 404 `not_found`,
409 `conflict`, 422 `invalid_input`, 429 `too_many_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.store import db
from komunikator.engine.store.models import (
    USER_KINDS,
    ApiToken,
    LoginFailure,
    Membership,
    OutboxMessage,
    Session,
    User,
)
from komunikator.engine.store.scope import TenantScope

#: How long a browser session lasts after login (fixed expiry).
SESSION_TTL = timedelta(hours=12)
#: How stale an API token's `last_used_at` may get before a request refreshes it.
LAST_USED_PRECISION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 8
#: The template (definitions/templates/staff.yaml) telling a user their account's logins are being refused.
LOGIN_THROTTLED_TEMPLATE = "login_throttled"
MAX_PASSWORD_LENGTH = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HASHER = PasswordHasher()


# -- passwords and secrets ----------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """The e-mail as stored (trimmed, lower-cased); 422 if it does not look like one."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise invalid(f"{email!r} is not an e-mail address", "email")
    return cleaned


def check_password(password: str) -> None:
    """422 unless the password is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(f"the password must have at least {MIN_PASSWORD_LENGTH} characters", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise invalid(f"the password must have at most {MAX_PASSWORD_LENGTH} characters", "password")


async def hash_password(password: str) -> str:
    """An argon2id hash of `password` (computed off the event loop)."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_HASHER.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    # verified for unknown users, so they cost as much as a wrong password
    return _HASHER.hash(secrets.token_urlsafe(16))


def secret_hash(raw: str) -> str:
    """The stored form of a session or API token: SHA-256, hex."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _new_secret() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, secret_hash(raw)


def _invalid_credentials() -> ServiceError:
    return ServiceError(401, "invalid_credentials", "wrong e-mail or password")


# -- users --------------------------------------------------------------------------------------


async def find_user(scope: TenantScope, email: str) -> User | None:
    """The user with this e-mail (any case), or None (also for text that is no e-mail)."""
    cleaned = email.strip().lower()
    return await scope.users().get_or_none(email=cleaned) if cleaned else None


async def get_user(scope: TenantScope, email: str) -> User:
    """The user with this e-mail; 404 otherwise."""
    user = await find_user(scope, email)
    if user is None:
        raise ServiceError(404, "not_found", f"no user {email.strip().lower()!r}", field="email")
    return user


async def list_users(scope: TenantScope) -> list[User]:
    """Every user of the tenant, by e-mail."""
    return await scope.users().order_by("email")


async def create_user(
    scope: TenantScope, email: str, display_name: str, password: str | None = None, kind: str = "staff",
    locale: str | None = None,
) -> User:
    """A new account; without a password it cannot log in until one is set.

    `locale`: the language of messages to them, checked by the caller against
    the tenant's (`check_locale`); None: the tenant's own. 409 if the e-mail
    (compared lower-cased) is taken in this tenant.
    """
    address = normalize_email(email)
    name = display_name.strip()
    if not name:
        raise invalid("the display name is empty", "display_name")
    if len(name) > 200:
        raise invalid("the display name is longer than 200 characters", "display_name")
    if kind not in USER_KINDS:
        raise invalid(f"unknown kind {kind!r}; use one of: {', '.join(USER_KINDS)}", "kind")
    if password is not None:
        check_password(password)
    if await scope.users().filter(email=address).exists():
        raise _taken(address)
    password_hash = await hash_password(password) if password is not None else None
    try:
        return await scope.create(User, email=address, display_name=name, kind=kind, password_hash=password_hash,
                                  locale=locale)
    except IntegrityError:  # created meanwhile
        raise _taken(address) from None


def _taken(address: str) -> ServiceError:
    return ServiceError(409, "conflict", f"a user with e-mail {address!r} already exists", field="email")


async def set_password(scope: TenantScope, user: User, password: str | None) -> None:
    """Set (or, with None, remove) the user's password and end all their sessions."""
    if password is not None:
        check_password(password)
    user.password_hash = await hash_password(password) if password is not None else None
    await user.save(update_fields=["password_hash", "updated_at"])
    await scope.sessions().filter(user_id=user.id).delete()


async def deactivate(scope: TenantScope, user: User, now: datetime) -> None:
    """Lock the user out: no login, their sessions ended and API tokens revoked."""
    user.active = False
    await user.save(update_fields=["active", "updated_at"])
    await scope.sessions().filter(user_id=user.id).delete()
    await scope.api_tokens().filter(user_id=user.id, revoked_at=None).update(revoked_at=now)


# -- memberships --------------------------------------------------------------------------------


def check_membership(tenant: CompiledTenant, unit: str, role: str) -> None:
    """422 unless `unit` and `role` exist in the tenant's YAML and the unit has accounts."""
    if unit not in tenant.units:
        raise invalid(f"unknown unit {unit!r}; known units: {', '.join(tenant.units)}", "unit")
    if role not in tenant.roles:
        raise invalid(f"unknown role {role!r}; known roles: {', '.join(tenant.roles)}", "role")
    if not tenant.units[unit].accounts:
        raise invalid(f"unit {unit!r} has no accounts (its tasks go to its e-mail)", "unit")


async def grant(scope: TenantScope, tenant: CompiledTenant, user: User, unit: str, role: str) -> Membership:
    """Give `user` `role` in `unit` (idempotent: an existing membership is returned)."""
    check_membership(tenant, unit, role)
    if user.kind != "staff":
        raise invalid(f"{user.email} is a {user.kind} account; only staff hold roles", "user")
    existing = await scope.memberships().get_or_none(user_id=user.id, unit=unit, role=role)
    if existing is not None:
        return existing
    try:
        return await scope.create(Membership, user_id=user.id, unit=unit, role=role)
    except IntegrityError:  # granted meanwhile
        return await scope.get(Membership, user_id=user.id, unit=unit, role=role)


async def revoke(scope: TenantScope, user: User, unit: str, role: str) -> None:
    """Take `role` in `unit` away from `user`; 404 if they do not hold it."""
    removed = await scope.memberships().filter(user_id=user.id, unit=unit, role=role).delete()
    if not removed:
        raise ServiceError(404, "not_found", f"{user.email} holds no role {role!r} in unit {unit!r}")


async def memberships_of(scope: TenantScope, user: User) -> list[Membership]:
    """The user's memberships, by unit and role."""
    return await scope.memberships().filter(user_id=user.id).order_by("unit", "role")


# -- sessions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginLimits:
    """How many refused logins `window` allows.

    - `per_pair`: for one e-mail from one client address — the guesser is
      slowed down, the account holder elsewhere is not locked out;
    - `per_address`: from one client address, whatever the e-mails;
    - `per_account`: for one e-mail from all addresses together, a higher
      ceiling against a guesser with many addresses; reaching it tells the
      account holder by e-mail (template `login_throttled`).
    """

    per_pair: int = 5
    per_address: int = 30
    window: timedelta = timedelta(minutes=15)
    per_account: int = 100

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LoginLimits:
        """`KOMUNIKATOR_LOGIN_MAX_FAILURES` (5), `…_PER_ADDRESS` (30), `…_PER_ACCOUNT` (100), `…_WINDOW_SECONDS`
        (900)."""
        env = os.environ if env is None else env
        try:
            pair = int(env.get("KOMUNIKATOR_LOGIN_MAX_FAILURES", "5"))
            address = int(env.get("KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ADDRESS", "30"))
            account = int(env.get("KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ACCOUNT", "100"))
            window = float(env.get("KOMUNIKATOR_LOGIN_WINDOW_SECONDS", "900"))
        except ValueError as error:
            raise ValueError(f"KOMUNIKATOR_LOGIN_*: {error}") from None
        if pair < 1 or address < 1 or account < 1 or window <= 0:
            raise ValueError("KOMUNIKATOR_LOGIN_*: the limits and the window must be positive")
        return cls(pair, address, timedelta(seconds=window), account)


async def login(
    scope: TenantScope, email: str, password: str, now: datetime, *, address: str | None = None,
    limits: LoginLimits | None = None,
) -> tuple[str, Session]:
    """Check e-mail and password; a new session and its raw token (shown once).

    401 `invalid_credentials`, with the same message, for an unknown e-mail,
    a wrong password, an account without a password or a deactivated one.
    Each is recorded; once `limits` (default `LoginLimits.from_env()`) are
    reached for the e-mail or for the client `address`, every attempt — even
    with the right password — is 429 `too_many_attempts` until the oldest
    counted failure leaves the window (`details.retry_after`, seconds): per
    (e-mail, address), per address, and per e-mail from everywhere (a higher
    ceiling, whose reaching is e-mailed to the account holder). Unknown
    e-mails count like known ones, so the answer says nothing about who has an
    account. A successful login clears the e-mail's failures.
    """
    limits = limits or LoginLimits.from_env()
    typed = email.strip().lower()[:254]
    await _refuse_when_throttled(scope, typed, address, now, limits)
    user = await find_user(scope, email)
    if user is None or user.password_hash is None:
        await _verify(await asyncio.to_thread(_dummy_hash), password)
        await _record_failure(scope, typed, address, now, limits, user)
        raise _invalid_credentials()
    if not await _verify(user.password_hash, password) or not user.active:
        await _record_failure(scope, typed, address, now, limits, user)
        raise _invalid_credentials()
    await scope.login_failures().filter(email=typed).delete()
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
        await user.save(update_fields=["password_hash", "updated_at"])
    await scope.sessions().filter(user_id=user.id, expires_at__lte=now).delete()
    raw, digest = _new_secret()
    async with in_transaction(db.CONNECTION):
        session = await scope.create(Session, user_id=user.id, token_hash=digest, expires_at=now + SESSION_TTL)
        await audit(scope, None, _actor(user), "login", {"session": None},
                    {"session": session.id, "expires_at": session.expires_at}, now)
    return raw, session


def _counted(limits: LoginLimits, email: str, address: str | None) -> list[tuple[dict[str, object], int]]:
    """The failure counts that may refuse a login: filters and their limits."""
    pair: dict[str, object] = {"email": email, "address": address} if address else {"email": email,
                                                                                      "address__isnull": True}
    counts: list[tuple[dict[str, object], int]] = [(pair, limits.per_pair), ({"email": email}, limits.per_account)]
    if address:
        counts.append(({"address": address}, limits.per_address))
    return counts


async def _refuse_when_throttled(
    scope: TenantScope, email: str, address: str | None, now: datetime, limits: LoginLimits
) -> None:
    since = now - limits.window
    for filters, limit in _counted(limits, email, address[:64] if address else None):
        recent: list[datetime] = await scope.login_failures().filter(  # type: ignore[assignment]
            **filters, failed_at__gt=since).order_by("-failed_at").limit(limit).values_list(
            "failed_at", flat=True)
        if len(recent) >= limit:
            wait = max(1, math.ceil((recent[-1] + limits.window - now).total_seconds()))
            raise ServiceError(429, "too_many_attempts",
                               f"too many failed logins: try again in {math.ceil(wait / 60)} min",
                               details={"retry_after": wait})


async def _record_failure(
    scope: TenantScope, email: str, address: str | None, now: datetime, limits: LoginLimits, user: User | None
) -> None:
    """Count a refused login (its own commit: the 401 that follows must not undo it); forget old ones.

    The failure that brings the e-mail to `limits.per_account` queues a
    message to the account holder (if there is one): someone is trying many
    passwords for their account from many places.
    """
    await scope.login_failures().filter(failed_at__lte=now - limits.window).delete()
    await scope.create(LoginFailure, email=email, address=address[:64] if address else None, failed_at=now)
    if user is None or not user.active:
        return
    count = await scope.login_failures().filter(email=email, failed_at__gt=now - limits.window).count()
    if count == limits.per_account:
        with contextlib.suppress(IntegrityError):  # a concurrent failure queued it in the same instant
            await scope.create(
                OutboxMessage, ticket=None, kind=LOGIN_THROTTLED_TEMPLATE, channel="email",
                dedupe_key=f"login-throttled:{user.id}:{now.isoformat()}",
                payload={"template": LOGIN_THROTTLED_TEMPLATE, "recipients": [f"user:{user.id}"], "ticket": None,
                         "task": None, "locale": user.locale},
            )


def _actor(user: User) -> UserView:
    """The user as the audit trail names them (who did it; their roles do not matter here)."""
    kind = "staff" if user.kind == "staff" else "resident"
    return UserView(str(user.id), (), kind, user.display_name)  # type: ignore[arg-type]


async def logout(scope: TenantScope, raw: str, now: datetime | None = None) -> bool:
    """End the session with this raw token; whether there was one."""
    async with in_transaction(db.CONNECTION):
        session = await scope.sessions().get_or_none(token_hash=secret_hash(raw))
        if session is None:
            return False
        await scope.sessions().filter(id=session.id).delete()
        user = await scope.users().get(id=session.user_id)  # type: ignore[attr-defined]
        await audit(scope, None, _actor(user), "logout", {"session": session.id}, {"session": None},
                    now or datetime.now(UTC))
    return True


async def user_for_session(scope: TenantScope, raw: str, now: datetime) -> User | None:
    """The active user a live session token belongs to, or None."""
    session = await scope.sessions().get_or_none(token_hash=secret_hash(raw), expires_at__gt=now)
    if session is None:
        return None
    return await scope.users().get_or_none(id=session.user_id, active=True)  # type: ignore[attr-defined]


# -- API tokens ---------------------------------------------------------------------------------


async def create_token(
    scope: TenantScope, user: User, name: str, now: datetime | None = None
) -> tuple[str, ApiToken]:
    """A new API token for `user`: the raw token (shown once) and its row."""
    label = name.strip()
    if not label:
        raise invalid("the token name is empty", "name")
    if len(label) > 200:
        raise invalid("the token name is longer than 200 characters", "name")
    raw, digest = _new_secret()
    async with in_transaction(db.CONNECTION):
        token = await scope.create(ApiToken, user_id=user.id, token_hash=digest, name=label)
        await audit(scope, None, _actor(user), "token_create", {"token": None}, {"token": token.id, "name": label},
                    now or datetime.now(UTC))
    return raw, token


def check_locale(tenant: CompiledTenant, locale: str | None) -> str | None:
    """`locale` if the tenant speaks it (None stays None: the tenant's own); a 422 otherwise."""
    if locale is not None and locale not in tenant.config.locales:
        raise invalid(f"locale {locale!r} is not one of this city's: {', '.join(tenant.config.locales)}",
                      "locale", "unsupported_locale")
    return locale


async def set_locale(scope: TenantScope, tenant: CompiledTenant, user: User, locale: str | None,
                     now: datetime | None = None) -> User:
    """Change the language of messages to `user` (None: the tenant's own), audited."""
    check_locale(tenant, locale)
    if user.locale == locale:
        return user
    async with in_transaction(db.CONNECTION):
        before = user.locale
        await scope.users().filter(id=user.id).update(locale=locale)
        user.locale = locale
        await audit(scope, None, _actor(user), "user_locale", {"user": user.id, "locale": before},
                    {"user": user.id, "locale": locale}, now or datetime.now(UTC))
    return user


async def tokens_of(scope: TenantScope, user: User) -> list[ApiToken]:
    """The user's API tokens (revoked ones too), oldest first."""
    return await scope.api_tokens().filter(user_id=user.id).order_by("id")


async def revoke_token(scope: TenantScope, user: User, token_id: int, now: datetime) -> None:
    """Revoke one of `user`'s tokens; 404 for a token that is not theirs or already revoked."""
    async with in_transaction(db.CONNECTION):
        revoked = await scope.api_tokens().filter(id=token_id, user_id=user.id, revoked_at=None).update(
            revoked_at=now
        )
        if not revoked:
            raise ServiceError(404, "not_found", "token not found")
        await audit(scope, None, _actor(user), "token_revoke", {"token": token_id, "revoked_at": None},
                    {"token": token_id, "revoked_at": now}, now)


async def user_for_token(scope: TenantScope, raw: str, now: datetime) -> User | None:
    """The active user a live API token belongs to, or None; records when it was used (to the minute)."""
    token = await scope.api_tokens().get_or_none(token_hash=secret_hash(raw), revoked_at=None)
    if token is None:
        return None
    user = await scope.users().get_or_none(id=token.user_id, active=True)  # type: ignore[attr-defined]
    if user is not None and (token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION):
        # not on every request: a busy integration token would make each read a write
        await scope.api_tokens().filter(id=token.id).update(last_used_at=now)
    return user
