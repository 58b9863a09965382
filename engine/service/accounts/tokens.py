"""API tokens: random, only their SHA-256 stored, revocable, their last use recorded to the minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.accounts.passwords import new_secret, secret_hash
from komunikator.engine.service.accounts.users import audit_actor
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.store.models import ApiToken, User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: How stale an API token's `last_used_at` may get before a request refreshes it.
LAST_USED_PRECISION = timedelta(minutes=1)


async def create_token(
    scope: TenantScope, user: User, name: str, now: datetime | None = None, actor: UserView | None = None
) -> tuple[str, ApiToken]:
    """A new API token for `user`: the raw token (shown once) and its row.

    Audited `token_create` as done by `actor` (default: `user` themselves; the CLI names its operator).
    """
    label = name.strip()
    if not label:
        raise invalid("the token name is empty", "name")
    if len(label) > 200:
        raise invalid("the token name is longer than 200 characters", "name")
    raw, digest = new_secret()
    async with transaction():
        token = await scope.create(ApiToken, user_id=user.id, token_hash=digest, name=label)
        await audit(scope, None, actor or audit_actor(user), "token_create", {"token": None},
                    {"token": token.id, "name": label}, now or datetime.now(UTC))
    return raw, token

async def tokens_of(scope: TenantScope, user: User) -> list[ApiToken]:
    """The user's API tokens (revoked ones too), oldest first."""
    return await scope.api_tokens().filter(user_id=user.id).order_by("id")

async def revoke_token(scope: TenantScope, user: User, token_id: int, now: datetime) -> None:
    """Revoke one of `user`'s tokens; 404 for a token that is not theirs or already revoked."""
    async with transaction():
        revoked = await scope.api_tokens().filter(id=token_id, user_id=user.id, revoked_at=None).update(
            revoked_at=now
        )
        if not revoked:
            raise ServiceError(404, "not_found", "token not found")
        await audit(scope, None, audit_actor(user), "token_revoke", {"token": token_id, "revoked_at": None},
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
