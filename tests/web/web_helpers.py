"""Shared helpers for the API tests: an app on the test database, staff accounts, a clock."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx

from komunikator.engine.service import accounts
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app


@cache
def registry() -> TenantRegistry:
    """The shipped tenants, compiled once per test session."""
    return TenantRegistry.load(Settings.from_env())


@dataclass
class Clock:
    """A clock the test moves."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Api:
    """An app with a client per tenant host."""

    app: Any
    clock: Clock
    clients: dict[str, httpx.AsyncClient]

    def client(self, slug: str) -> httpx.AsyncClient:
        return self.clients[slug]

    async def staff(self, slug: str, email: str, *memberships: str) -> dict[str, str]:
        """Create a staff member with memberships `unit:role`; their auth header."""
        tenant = registry().tenants[slug]
        scope = TenantScope((await ensure_tenant(slug)).id)
        user = await accounts.create_user(scope, email, email.split("@")[0], password=None)
        for membership in memberships:
            unit, role = membership.split(":")
            await accounts.grant(scope, tenant, user, unit, role)
        raw, _ = await accounts.create_token(scope, user, "tests")
        return {"Authorization": f"Bearer {raw}", "X-User-Id": str(user.id)}


def make_api(clock: Clock) -> Api:
    app = create_app(registry(), init_database=False, clock=clock)
    clients = {
        slug: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                headers={"Host": f"{slug}.localhost"})
        for slug in registry().tenants
    }
    return Api(app, clock, clients)


def report(category: str = "pothole", **extra: Any) -> dict[str, Any]:
    """A valid submission body in Zgierz."""
    body: dict[str, Any] = {"category": category, "description": "Duża dziura przy przystanku", "lat": 51.855,
                            "lon": 19.406, "reporter": {"name": "Jan Kowalski", "email": "jan@example.pl"}}
    if category == "pothole":
        body["attributes"] = {"size": "medium"}
    body.update(extra)
    return body


STAFF_PASSWORD = "haslo-testowe-123"


async def staff_session(client: httpx.AsyncClient, email: str, password: str = STAFF_PASSWORD) -> str:
    """Sign in to the staff pages through the form (its token and cookie, same origin); the session's CSRF token."""
    page = await client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    signed = await client.post("/staff/login", data={"csrf_token": token.group(1), "email": email,
                                                      "password": password, "next": "/staff/"},
                               headers={"Origin": f"http://{client.headers['host']}"})
    assert signed.status_code == 303, signed.text
    inbox = await client.get("/staff/", follow_redirects=True)  # a temporary password: the page to change it
    found = re.search(r'name="csrf_token" value="([^"]+)"', inbox.text)
    assert found is not None
    return found.group(1)


async def staff_member(slug: str, email: str, *memberships: str, password: str = STAFF_PASSWORD) -> Any:
    """A staff member who signs in with `password`, with memberships `unit:role`; the user row."""
    tenant = registry().tenants[slug]
    scope = TenantScope((await ensure_tenant(slug)).id)
    user = await accounts.create_user(scope, email, email.split("@")[0], password=password)
    for membership in memberships:
        unit, role = membership.split(":")
        await accounts.grant(scope, tenant, user, unit, role)
    return user
