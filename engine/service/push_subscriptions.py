"""Residents' Web Push subscriptions: one per browser or device, what `PushManager.subscribe` returned.

    await push_subscriptions.subscribe(scope, user, {"endpoint": …, "keys": {"p256dh": …, "auth": …}}, "Telefon")
    await push_subscriptions.unsubscribe(scope, user, endpoint)
    subs = await push_subscriptions.of_user(scope, user.id)

The endpoint is where the server will POST: it must be `https://` on a
host name (no IP literal, no `localhost`), so that a subscription cannot
point the city's workers at its own network. `KOMUNIKATOR_PUSH_ALLOW_LOCAL=1`
lifts that for tests and a local push service. The same endpoint subscribed
again (the same browser, perhaps another account) replaces the old row.
Delivery deletes a subscription the push service calls gone (404/410).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from komunikator.engine.service.accounts import audit_actor
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import PushSubscription, User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

MAX_ENDPOINT = 2000
MAX_PER_USER = 20


def endpoint_hash(endpoint: str) -> str:
    """The unique key of a subscription: SHA-256 of its endpoint, hex."""
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


def _allow_local(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get("KOMUNIKATOR_PUSH_ALLOW_LOCAL") == "1"


def check_endpoint(endpoint: str, env: Mapping[str, str] | None = None) -> str:
    """The endpoint if the server may POST to it; 422 otherwise (see the module docstring)."""
    endpoint = endpoint.strip()
    if not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise invalid("the push endpoint is empty or too long", "endpoint")
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if _allow_local(env) and parts.scheme in ("http", "https") and host:
        return endpoint
    if parts.scheme != "https" or not host or parts.username or parts.password:
        raise invalid("the push endpoint must be an https:// URL", "endpoint")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise invalid("the push endpoint must name a host, not an address", "endpoint")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or "." not in host:
        raise invalid("the push endpoint must be a public push service", "endpoint")
    return endpoint


def _key(value: Any, field: str, size: int) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise invalid(f"keys.{field} is missing", f"keys.{field}")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise invalid(f"keys.{field} is not base64url", f"keys.{field}") from None
    if len(raw) != size or (field == "p256dh" and raw[0] != 4):
        raise invalid(f"keys.{field} is not a {'P-256 public key' if size == 65 else '16-byte secret'}",
                      f"keys.{field}")
    return value.rstrip("=")


async def subscribe(
    scope: TenantScope, user: User, info: Mapping[str, Any], label: str, now: datetime
) -> PushSubscription:
    """Store (or move to `user`) the subscription a browser gave; audited. 422 for a malformed one."""
    endpoint = check_endpoint(str(info.get("endpoint") or ""))
    keys = info.get("keys")
    if not isinstance(keys, Mapping):
        raise invalid("the subscription has no keys", "keys")
    p256dh, auth = _key(keys.get("p256dh"), "p256dh", 65), _key(keys.get("auth"), "auth", 16)
    digest = endpoint_hash(endpoint)
    name = " ".join(label.split())[:200]
    async with transaction():
        existing = await scope.find(PushSubscription, endpoint_hash=digest)
        if existing is not None:
            await scope.query(PushSubscription).filter(id=existing.id).update(
                user_id=user.id, p256dh=p256dh, auth=auth, label=name or existing.label)
            row = await scope.get(PushSubscription, id=existing.id)
        else:
            if await scope.query(PushSubscription).filter(user_id=user.id).count() >= MAX_PER_USER:
                raise ServiceError(409, "conflict", f"at most {MAX_PER_USER} devices; remove one first")
            try:
                row = await scope.create(PushSubscription, user_id=user.id, endpoint=endpoint, endpoint_hash=digest,
                                         p256dh=p256dh, auth=auth, label=name)
            except Duplicate:
                raise ServiceError(409, "conflict", "this device was subscribed at the same moment") from None
        await audit(scope, None, audit_actor(user), "push_subscribe", {"push_subscription": None},
                    {"push_subscription": row.id}, now)
    return row


async def of_user(scope: TenantScope, user_id: int) -> list[PushSubscription]:
    """The account's subscriptions, oldest first."""
    return list(await scope.query(PushSubscription).filter(user_id=user_id).order_by("id"))


async def remove(scope: TenantScope, user: User, subscription_id: int, now: datetime) -> None:
    """Remove one of the user's subscriptions; 404 when it is not theirs."""
    async with transaction():
        removed = await scope.query(PushSubscription).filter(id=subscription_id, user_id=user.id).delete()
        if not removed:
            raise ServiceError(404, "not_found", "no such device")
        await audit(scope, None, audit_actor(user), "push_unsubscribe", {"push_subscription": subscription_id},
                    {"push_subscription": None}, now)


async def unsubscribe(scope: TenantScope, user: User, endpoint: str, now: datetime) -> bool:
    """Remove the user's subscription with this endpoint (the browser unsubscribed); whether there was one."""
    row = await scope.find(PushSubscription, endpoint_hash=endpoint_hash(endpoint.strip()), user_id=user.id)
    if row is None:
        return False
    await remove(scope, user, row.id, now)
    return True
