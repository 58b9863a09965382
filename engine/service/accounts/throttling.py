"""Slowing down password guessing: refused logins counted per (e-mail, address), per address and per e-mail."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from komunikator.engine.service.errors import ServiceError
from komunikator.engine.settings import env_int, env_number
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import LoginFailure, OutboxMessage, User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: The template (definitions/templates/staff.yaml) telling a user their account's logins are being refused.
LOGIN_THROTTLED_TEMPLATE = "login_throttled"


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
        pair = env_int("KOMUNIKATOR_LOGIN_MAX_FAILURES", 5, minimum=1, env=env)
        address = env_int("KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ADDRESS", 30, minimum=1, env=env)
        account = env_int("KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ACCOUNT", 100, minimum=1, env=env)
        window = env_number("KOMUNIKATOR_LOGIN_WINDOW_SECONDS", 900, minimum=1, env=env)
        return cls(pair, address, timedelta(seconds=window), account)

def _counted(limits: LoginLimits, email: str, address: str | None) -> list[tuple[dict[str, object], int]]:
    """The failure counts that may refuse a login: filters and their limits."""
    pair: dict[str, object] = {"email": email, "address": address} if address else {"email": email,
                                                                                      "address__isnull": True}
    counts: list[tuple[dict[str, object], int]] = [(pair, limits.per_pair), ({"email": email}, limits.per_account)]
    if address:
        counts.append(({"address": address}, limits.per_address))
    return counts

async def refuse_when_throttled(
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

async def record_failure(
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
        with contextlib.suppress(Duplicate):  # a concurrent failure queued it in the same instant
            async with transaction():
                await scope.create(
                    OutboxMessage, ticket=None, kind=LOGIN_THROTTLED_TEMPLATE, channel="email",
                    dedupe_key=f"login-throttled:{user.id}:{now.isoformat()}",
                    payload={"template": LOGIN_THROTTLED_TEMPLATE, "recipients": [f"user:{user.id}"], "ticket": None,
                             "task": None, "locale": user.locale},
                )
