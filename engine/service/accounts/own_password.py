"""A signed-in person changes their own password (after an administrator gave them a temporary one).

The current password is checked first (a session left open on a shared computer is not enough
to take the account over), the new one must differ from it and meet `check_password`; every
session of the person ends — including the one they changed it from — and a new session is
returned, so they stay signed in where they are. Audited as `password_change`.
"""

from __future__ import annotations

from datetime import datetime

from komunikator.engine.service.accounts.passwords import check_password, verify
from komunikator.engine.service.accounts.sessions import login
from komunikator.engine.service.accounts.users import audit_actor, set_password
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.store.models import User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction


async def change_own_password(scope: TenantScope, user: User, current: str, new: str, now: datetime, *,
                              address: str | None = None) -> str:
    """Replace `user`'s password; the raw token of their new session.

    422 `wrong_password` (field `current_password`) when `current` is not their password;
    422 on `new_password` when it is too short, too long or the same as the current one.
    """
    if user.password_hash is None or not await verify(user.password_hash, current):
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
