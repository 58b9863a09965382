"""Api keys of Open311 client applications: random, stored as SHA-256, per city, revocable, audited.

Operators issue them with `komunikator open311 keys create CITY NAME`; the raw
key is printed once. A POST carries it as `api_key`; a key of another city, a
revoked or unknown key is the same 403.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from komunikator.engine.open311.errors import Open311Error, forbidden
from komunikator.engine.runtime.views import SYSTEM
from komunikator.engine.service.accounts.passwords import new_secret, secret_hash
from komunikator.engine.service.apply import audit
from komunikator.engine.store.models import Open311Client
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: How stale `last_used_at` may get before a POST refreshes it (one write a minute at most).
LAST_USED_PRECISION = timedelta(minutes=1)
#: Longest api_key looked up (ours are 43 characters); anything longer is refused unread.
MAX_KEY_LENGTH = 200


async def create_key(
    scope: TenantScope, name: str, now: datetime, contact: str | None = None
) -> tuple[str, Open311Client]:
    """A new client application and its api key: the raw key (shown once) and the row."""
    label = name.strip()
    if not label or len(label) > 200:
        raise Open311Error(400, "the application name must have 1 to 200 characters")
    if contact is not None and (len(contact) > 254 or "@" not in contact):
        raise Open311Error(400, "the contact must be an e-mail address")
    raw, digest = new_secret()
    async with transaction():
        client = await scope.create(Open311Client, name=label, contact=contact, key_hash=digest, created_at=now)
        await audit(scope, None, SYSTEM, "open311_key_create", {"open311_client": None},
                    {"open311_client": client.id, "name": label}, now)
    return raw, client


async def list_keys(scope: TenantScope) -> list[Open311Client]:
    """Every client application of the city (revoked ones too), oldest first."""
    return await scope.query(Open311Client).order_by("id")


async def revoke_key(scope: TenantScope, client_id: int, now: datetime) -> Open311Client:
    """Revoke a client's key; 404 for an id that is not this city's or already revoked."""
    async with transaction():
        updated = await scope.query(Open311Client).filter(id=client_id, revoked_at=None).update(revoked_at=now)
        if not updated:
            raise Open311Error(404, f"no active Open311 key {client_id} in this city")
        await audit(scope, None, SYSTEM, "open311_key_revoke", {"open311_client": client_id, "revoked_at": None},
                    {"open311_client": client_id, "revoked_at": now}, now)
    return await scope.get(Open311Client, id=client_id)


async def authenticate(scope: TenantScope, raw: str | None, now: datetime) -> Open311Client:
    """The active client application `raw` is the key of, in this city; 403 otherwise (nothing written)."""
    if not raw:
        raise forbidden("api_key is required to post a request")
    if len(raw) > MAX_KEY_LENGTH:
        raise forbidden()
    client = await scope.query(Open311Client).get_or_none(key_hash=secret_hash(raw), revoked_at=None)
    if client is None:
        raise forbidden()
    return client


async def touch(scope: TenantScope, client: Open311Client, now: datetime) -> None:
    """Record that `client` posted (to the minute), after the post succeeded: a refused one writes nothing."""
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_PRECISION:
        await scope.query(Open311Client).filter(id=client.id).update(last_used_at=now)
