"""A signed-in person changes their own password (after an administrator gave them a temporary one).

The current password is checked first (a session left open on a shared computer is not enough
to take the account over), the new one must differ from it and meet `check_password`; every
session of the person ends — including the one they changed it from — and a new session is
returned, so they stay signed in where they are. Audited as `password_change`.

A wrong current password counts like a refused login (`throttling.record_failure`, under the
person's e-mail and the client address), so a session left open is no way around the login
throttling: past `LoginLimits` both the sign-in form and this change answer 429 `too_many_attempts`.
"""

from __future__ import annotations

from datetime import datetime

from komunikator.engine.service.accounts.passwords import check_password, verify
from komunikator.engine.service.accounts.sessions import login
from komunikator.engine.service.accounts.throttling import LoginLimits, record_failure, refuse_when_throttled
from komunikator.engine.service.accounts.users import audit_actor, set_password
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.store.models import User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction


async def change_own_password(scope: TenantScope, user: User, current: str, new: str, now: datetime, *,
                              address: str | None = None, limits: LoginLimits | None = None) -> str:
    """Replace `user`'s password; the raw token of their new session.

    422 `wrong_password` (field `current_password`) when `current` is not their password;
    422 on `new_password` when it is too short, too long or the same as the current one;
    429 `too_many_attempts` (`details.retry_after`, seconds) once `limits` (default
    `LoginLimits.from_env()`) of refused logins and wrong current passwords are reached.
    """
    limits = limits or LoginLimits.from_env()
    email = user.email.strip().lower()[:254]
    await refuse_when_throttled(scope, email, address, now, limits)
    if user.password_hash is None or not await verify(user.password_hash, current):
        await record_failure(scope, email, address, now, limits, user)
        raise invalid("the current password is wrong", "current_password", "wrong_password")
    try:
        check_password(new)
    except ServiceError as error:
        raise invalid(error.message, "new_password") from None
    if new == current:
        raise invalid("the new password is the same as the current one", "new_password", "same_password")
    async with transaction():
        await set_password(scope, user, new)
        await audit(scope, None, audit_actor(user), "password_change", {"user": user.id}, {"user": user.id}, now)
    raw, _session = await login(scope, user.email, new, now, address=address)
    return raw
