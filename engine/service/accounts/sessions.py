"""Signing in and out: browser sessions (a random token, only its SHA-256 stored), with a fixed lifetime."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from komunikator.engine.service.accounts.passwords import (
    dummy_hash,
    hash_password,
    needs_rehash,
    new_secret,
    secret_hash,
    verify,
)
from komunikator.engine.service.accounts.throttling import LoginLimits, record_failure, refuse_when_throttled
from komunikator.engine.service.accounts.users import audit_actor, find_user
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.models import Session, User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: How long a browser session lasts after login (fixed expiry).
SESSION_TTL = timedelta(hours=12)


def _invalid_credentials() -> ServiceError:
    return ServiceError(401, "invalid_credentials", "wrong e-mail or password")

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
    await refuse_when_throttled(scope, typed, address, now, limits)
    user = await find_user(scope, email)
    if user is None or user.password_hash is None:
        await verify(await asyncio.to_thread(dummy_hash), password)
        await record_failure(scope, typed, address, now, limits, user)
        raise _invalid_credentials()
    if not await verify(user.password_hash, password) or not user.active:
        await record_failure(scope, typed, address, now, limits, user)
        raise _invalid_credentials()
    await scope.login_failures().filter(email=typed).delete()
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
        await user.save(update_fields=["password_hash", "updated_at"])
    await scope.sessions().filter(user_id=user.id, expires_at__lte=now).delete()
    raw, digest = new_secret()
    async with transaction():
        session = await scope.create(Session, user_id=user.id, token_hash=digest, expires_at=now + SESSION_TTL)
        await audit(scope, None, audit_actor(user), "login", {"session": None},
                    {"session": session.id, "expires_at": session.expires_at}, now)
    return raw, session

async def logout(scope: TenantScope, raw: str, now: datetime | None = None) -> bool:
    """End the session with this raw token; whether there was one."""
    async with transaction():
        session = await scope.sessions().get_or_none(token_hash=secret_hash(raw))
        if session is None:
            return False
        await scope.sessions().filter(id=session.id).delete()
        user = await scope.users().get(id=session.user_id)  # type: ignore[attr-defined]
        await audit(scope, None, audit_actor(user), "logout", {"session": session.id}, {"session": None},
                    now or datetime.now(UTC))
    return True

async def user_for_session(scope: TenantScope, raw: str, now: datetime) -> User | None:
    """The active user a live session token belongs to, or None (one statement: every staff page asks it)."""
    return await scope.users().filter(active=True, sessions__tenant_id=scope.tenant_id,
                                      sessions__token_hash=secret_hash(raw), sessions__expires_at__gt=now).first()
