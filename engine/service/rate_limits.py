"""Rate limits whose counters live in the database, so every web process counts the same requests.

A bucket names what is counted (`submit:address:203.0.113.7`); each
counted request is a `RateEvent` row. `take` records the request first and
then counts the bucket's rows within the window, so two processes racing
for the last place cannot both get it (at worst both are refused); a
refused request removes its own row again, so retrying while refused does
not push the wait further out.

    await take(scope, [("submit:address:" + ip, limits.per_address)], limits.window, now)   # 429 past it

Anonymous reports (`submission_buckets`): per client address and per
reporter e-mail (which also bounds the receipts one address is sent),
`KOMUNIKATOR_SUBMIT_MAX_PER_ADDRESS` (10), `…_MAX_PER_EMAIL` (5) per
`…_WINDOW_SECONDS` (3600).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from komunikator.engine.service.errors import ServiceError
from komunikator.engine.settings import env_int
from komunikator.engine.store.models import RateEvent
from komunikator.engine.store.scope import TenantScope


@dataclass(frozen=True)
class SubmitLimits:
    """How many anonymous reports one client address, and one reporter e-mail, may send per window."""

    per_address: int = 10
    per_email: int = 5
    window: timedelta = timedelta(hours=1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SubmitLimits:
        """`KOMUNIKATOR_SUBMIT_MAX_PER_ADDRESS` (10), `…_MAX_PER_EMAIL` (5), `…_WINDOW_SECONDS` (3600)."""
        return cls(
            per_address=env_int("KOMUNIKATOR_SUBMIT_MAX_PER_ADDRESS", 10, minimum=1, env=env),
            per_email=env_int("KOMUNIKATOR_SUBMIT_MAX_PER_EMAIL", 5, minimum=1, env=env),
            window=timedelta(seconds=env_int("KOMUNIKATOR_SUBMIT_WINDOW_SECONDS", 3600, minimum=1, env=env)),
        )


def submission_buckets(limits: SubmitLimits, address: str | None, email: str | None) -> list[tuple[str, int]]:
    """The buckets an anonymous report counts in, with their limits."""
    buckets = []
    if address:
        buckets.append((f"submit:address:{address[:64]}", limits.per_address))
    if email:
        buckets.append((f"submit:email:{email.strip().lower()[:254]}", limits.per_email))
    return buckets


async def take(scope: TenantScope, buckets: Sequence[tuple[str, int]], window: timedelta, now: datetime,
               what: str = "reports") -> None:
    """Count one request in each bucket; 429 `too_many_requests` (with `retry_after`) if one is past its limit.

    `what` names the requests in the message ("too many reports from here").
    """
    since = now - window
    made: list[RateEvent] = []
    for bucket, _ in buckets:
        await scope.rate_events().filter(bucket=bucket, at__lte=since).delete()  # forget the old ones
        made.append(await scope.create(RateEvent, bucket=bucket, at=now))
    for bucket, limit in buckets:
        recent: list[datetime] = await scope.rate_events().filter(  # type: ignore[assignment]
            bucket=bucket, at__gt=since).order_by("at", "id").values_list("at", flat=True)
        if len(recent) > limit:
            await scope.rate_events().filter(id__in=[row.id for row in made]).delete()
            oldest = recent[len(recent) - limit - 1]  # the one whose leaving the window frees a place
            wait = max(1, math.ceil((oldest + window - now).total_seconds()))
            raise ServiceError(429, "too_many_requests",
                               f"too many {what} from here: try again in {math.ceil(wait / 60)} min",
                               details={"retry_after": wait})
