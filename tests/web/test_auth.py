"""Logging in, sessions and API tokens over HTTP, per tenant host (SQLite and PostgreSQL).

A minimal app: the error handlers, the tenant registry and `auth_router`,
plus two probe routes guarded by the dependencies other routes use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from web_helpers import Clock, registry  # tests/web/web_helpers.py

from komunikator.engine.service import accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.web import errors
from komunikator.web.auth import SESSION_COOKIE, Principal, Staff, auth_router, current_user

PASSWORD = "correct horse battery"
ANNA = "anna@zgierz.pl"

Browser = Callable[..., httpx.AsyncClient]


def make_app(clock: Clock) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.state.tenants = registry()
    app.state.tenant_ids = {}
    app.state.clock = clock
    app.include_router(auth_router)

    @app.get("/probe/staff")
    async def staff_only(me: Staff) -> dict[str, Any]:
        return {"email": me.user.email, "via": me.via, "memberships": [[m.unit, m.role] for m in me.view.memberships]}

    @app.get("/probe/anyone")
    async def anyone(me: Annotated[Principal | None, Depends(current_user)]) -> dict[str, Any]:
        return {"email": me.user.email if me else None}

    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def browser(db: str, clock: Clock) -> AsyncIterator[Browser]:
    """`browser(slug, https=False)`: a new client (own cookie jar) on the tenant's host."""
    app = make_app(clock)
    made: list[httpx.AsyncClient] = []

    def new(slug: str = "zgierz", https: bool = False) -> httpx.AsyncClient:
        scheme = "https" if https else "http"
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"{scheme}://{slug}.localhost")
        made.append(client)
        return client

    try:
        yield new
    finally:
        for client in made:
            await client.aclose()


async def _scope(slug: str) -> TenantScope:
    return TenantScope((await ensure_tenant(slug)).id)


@pytest.fixture
async def anna(db: str) -> int:
    """A Zgierz dispatcher and worker with a password; her id."""
    scope = await _scope("zgierz")
    user = await accounts.create_user(scope, ANNA, "Anna Nowak", PASSWORD)
    tenant = registry().tenants["zgierz"]
    await accounts.grant(scope, tenant, user, "bom", "dispatcher")
    await accounts.grant(scope, tenant, user, "drogi", "worker")
    return user.id


async def _login(client: httpx.AsyncClient, email: str = ANNA, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


def _set_cookie(response: httpx.Response) -> str:
    [header] = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return header


async def test_login_sets_a_strict_cookie_and_returns_the_user(browser: Browser, anna: int, clock: Clock) -> None:
    client = browser()
    r = await _login(client, email=" Anna@Zgierz.PL")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == {
        "id": anna, "email": ANNA, "display_name": "Anna Nowak", "kind": "staff", "locale": None,
        "memberships": [{"unit": "bom", "role": "dispatcher"}, {"unit": "drogi", "role": "worker"}],
    }
    assert body["expires_at"].startswith((clock.now + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"))
    cookie = _set_cookie(r)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert {"httponly", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes and "domain" not in attributes  # http; host-only
    # the browser now carries the cookie
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json() == body["user"]
    probe = await client.get("/probe/staff")
    assert probe.json() == {"email": ANNA, "via": "session",
                            "memberships": [["bom", "dispatcher"], ["drogi", "worker"]]}


async def test_the_cookie_is_secure_over_https(browser: Browser, anna: int) -> None:
    r = await _login(browser(https=True))
    assert r.status_code == 200
    assert "secure" in {part.strip().lower() for part in _set_cookie(r).split(";")}


async def test_wrong_password_and_unknown_email_get_the_same_answer(browser: Browser, anna: int) -> None:
    client = browser()
    wrong = await _login(client, password="not the password")
    unknown = await _login(client, email="nobody@zgierz.pl")
    elsewhere = await _login(browser("nieporet"))  # right password, another city
    for r in (wrong, unknown, elsewhere):
        assert r.status_code == 401
        assert r.json() == {"error": "invalid_credentials", "message": "wrong e-mail or password"}
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "set-cookie" not in r.headers
    malformed = await client.post("/api/v1/auth/login", json={"email": ANNA})
    assert malformed.status_code == 422 and malformed.json()["field"] == "password"


async def test_no_credentials_is_401_with_a_challenge(browser: Browser, anna: int) -> None:
    client = browser()
    for path in ("/api/v1/auth/me", "/probe/staff", "/api/v1/auth/tokens"):
        r = await client.get(path)
        assert r.status_code == 401, path
        assert r.json()["error"] == "unauthorized"
        assert r.headers["www-authenticate"] == 'Bearer realm="komunikator"'
    assert (await client.get("/probe/anyone")).json() == {"email": None}
    unknown_host = await client.get("/api/v1/auth/me", headers={"Host": "warszawa.localhost"})
    assert unknown_host.status_code == 404 and unknown_host.json()["error"] == "unknown_host"


async def test_sessions_expire_and_logout_ends_them(browser: Browser, anna: int, clock: Clock) -> None:
    client = browser()
    await _login(client)
    cookie = client.cookies[SESSION_COOKIE]
    clock.advance(hours=11, minutes=59)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    clock.advance(minutes=1)
    expired = await client.get("/api/v1/auth/me")
    assert expired.status_code == 401 and expired.json()["error"] == "unauthorized"
    # an expired cookie is no credential at all: open routes still answer
    assert (await client.get("/probe/anyone")).json() == {"email": None}

    await _login(client)
    fresh = client.cookies[SESSION_COOKIE]
    assert fresh != cookie
    out = await client.post("/api/v1/auth/logout")
    assert out.status_code == 204
    assert 'max-age=0' in _set_cookie(out).lower()
    replay = browser()
    replay.cookies.set(SESSION_COOKIE, fresh)
    assert (await replay.get("/api/v1/auth/me")).status_code == 401
    assert (await browser().post("/api/v1/auth/logout")).status_code == 204  # without a session too


async def test_token_round_trip(browser: Browser, anna: int, clock: Clock) -> None:
    client = browser()
    await _login(client)
    created = await client.post("/api/v1/auth/tokens", json={"name": "nightly export"})
    assert created.status_code == 201, created.text
    token = created.json()
    assert token["name"] == "nightly export" and token["revoked_at"] is None and len(token["token"]) >= 43
    bearer = {"Authorization": f"Bearer {token['token']}"}

    script = browser()  # no cookies: the token alone
    me = await script.get("/probe/staff", headers=bearer)
    assert me.status_code == 200 and me.json()["via"] == "token" and me.json()["email"] == ANNA
    listed = await script.get("/api/v1/auth/tokens", headers=bearer)
    assert [t["id"] for t in listed.json()] == [token["id"]]
    assert "token" not in listed.json()[0]
    assert listed.json()[0]["last_used_at"] is not None

    gone = await script.delete(f"/api/v1/auth/tokens/{token['id']}", headers=bearer)
    assert gone.status_code == 204
    revoked = await script.get("/probe/staff", headers=bearer)
    assert revoked.status_code == 401
    assert revoked.json() == {"error": "invalid_token", "message": "the API token is invalid or revoked"}
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]
    # a bad token is refused even when a good session cookie comes along
    assert (await client.get("/probe/staff", headers=bearer)).status_code == 401
    assert (await client.delete(f"/api/v1/auth/tokens/{token['id']}")).status_code == 404
    assert (await client.post("/api/v1/auth/tokens", json={"name": ""})).status_code == 422


async def test_a_token_of_one_city_is_invalid_on_another(browser: Browser, anna: int) -> None:
    scope = await _scope("zgierz")
    raw, _ = await accounts.create_token(scope, await accounts.get_user(scope, ANNA), "script")
    nieporet = browser("nieporet")
    foreign = await nieporet.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    made_up = await nieporet.get("/api/v1/auth/me", headers={"Authorization": "Bearer made-up-token"})
    assert foreign.status_code == made_up.status_code == 401
    assert foreign.json() == made_up.json()
    # the same token on its own city's host
    assert (await browser().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})).status_code == 200
    # a session cookie of Zgierz presented on Nieporęt's host is no credential there
    zgierz = browser()
    await _login(zgierz)
    nieporet.cookies.set(SESSION_COOKIE, zgierz.cookies[SESSION_COOKIE])
    assert (await nieporet.get("/api/v1/auth/me")).status_code == 401


async def test_residents_are_not_staff(browser: Browser, anna: int) -> None:
    scope = await _scope("zgierz")
    await accounts.create_user(scope, "jan@example.pl", "Jan", PASSWORD, kind="resident")
    client = browser()
    assert (await _login(client, email="jan@example.pl")).status_code == 200
    assert (await client.get("/api/v1/auth/me")).json()["kind"] == "resident"
    for r in (await client.get("/probe/staff"), await client.post("/api/v1/auth/tokens", json={"name": "x"})):
        assert r.status_code == 403 and r.json()["error"] == "forbidden"


async def test_a_deactivated_user_is_locked_out(browser: Browser, anna: int, clock: Clock) -> None:
    scope = await _scope("zgierz")
    user = await accounts.get_user(scope, ANNA)
    raw, _ = await accounts.create_token(scope, user, "script")
    client = browser()
    await _login(client)
    await accounts.deactivate(scope, user, clock.now)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await browser().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})).status_code == 401
    assert (await _login(browser())).status_code == 401


async def test_a_page_of_another_origin_cannot_write_with_the_session(browser: Browser, anna: int) -> None:
    client = browser()
    await _login(client)
    tokens = "/api/v1/auth/tokens"
    forged = await client.post(tokens, json={"name": "x"}, headers={"Origin": "http://nieporet.localhost"})
    assert forged.status_code == 403 and forged.json()["error"] == "cross_origin"
    assert (await client.get(tokens)).json() == []  # nothing was created
    # the city's own pages, and clients that send no Origin, may
    own = await client.post(tokens, json={"name": "x"}, headers={"Origin": "http://zgierz.localhost"})
    assert own.status_code == 201
    assert (await client.post(tokens, json={"name": "y"})).status_code == 201
    # reading is not a forgery risk; a bearer token is never sent by the browser on its own
    assert (await client.get(tokens, headers={"Origin": "http://evil.example"})).status_code == 200
    bearer = {"Authorization": f"Bearer {own.json()['token']}", "Origin": "http://evil.example"}
    assert (await browser().get(tokens, headers=bearer)).status_code == 200


async def test_logging_out_from_a_page_of_another_origin_is_refused(browser: Browser, anna: int) -> None:
    """Issue #12, 8: a foreign page could end the user's session (logout CSRF)."""
    client = browser()
    await _login(client)
    forged = await client.post("/api/v1/auth/logout", headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and forged.json()["error"] == "cross_origin"
    assert (await client.get("/api/v1/auth/me")).status_code == 200  # still logged in
    own = await client.post("/api/v1/auth/logout", headers={"Origin": "http://zgierz.localhost"})
    assert own.status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_the_origin_check_compares_the_scheme(browser: Browser, anna: int) -> None:
    """Issue #12, 8: `https://city` passed as the origin of a write to `http://city` (host and port only)."""
    plain = browser()
    await _login(plain)
    tokens = "/api/v1/auth/tokens"
    other = await plain.post(tokens, json={"name": "x"}, headers={"Origin": "https://zgierz.localhost"})
    assert other.status_code == 403 and other.json()["error"] == "cross_origin"
    secure = browser(https=True)
    await _login(secure)
    down = await secure.post(tokens, json={"name": "x"}, headers={"Origin": "http://zgierz.localhost"})
    assert down.status_code == 403 and down.json()["error"] == "cross_origin"
    same = await secure.post(tokens, json={"name": "x"}, headers={"Origin": "https://zgierz.localhost"})
    assert same.status_code == 201


async def test_an_api_token_cannot_mint_tokens(browser: Browser, anna: int) -> None:
    """Issue #12, 8: a stolen token could make itself a new long-lived one."""
    client = browser()
    await _login(client)
    made = await client.post("/api/v1/auth/tokens", json={"name": "script"})
    assert made.status_code == 201
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    script = browser()
    minted = await script.post("/api/v1/auth/tokens", json={"name": "forever"}, headers=bearer)
    assert minted.status_code == 403, minted.text
    assert minted.json()["error"] == "session_required"
    assert [t["name"] for t in (await script.get("/api/v1/auth/tokens", headers=bearer)).json()] == ["script"]


async def test_guessing_a_password_is_slowed_down_then_allowed_again(browser: Browser, anna: int,
                                                                     clock: Clock) -> None:
    client = browser()
    for _ in range(5):
        assert (await _login(client, password="not her password")).status_code == 401
    locked = await _login(client)  # the right password, but too late
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert locked.json()["details"]["retry_after"] == int(locked.headers["Retry-After"])
    # an unknown address is locked the same way: the answer tells nobody who has an account
    for _ in range(5):
        assert (await _login(client, email="nikt@zgierz.pl")).status_code == 401
    assert (await _login(client, email="nikt@zgierz.pl")).status_code == 429
    # the other city is another set of accounts
    assert (await _login(browser("nieporet"))).status_code == 401
    clock.advance(minutes=15, seconds=1)
    assert (await _login(client)).status_code == 200
    # success forgets the failures: five more are allowed
    for _ in range(4):
        assert (await _login(client, password="still not")).status_code == 401
    assert (await _login(client)).status_code == 200


async def test_one_client_trying_many_accounts_is_slowed_down(db: str, clock: Clock) -> None:
    limits = accounts.LoginLimits(per_pair=5, per_address=3)
    scope = await _scope("zgierz")
    await accounts.create_user(scope, ANNA, "Anna Nowak", PASSWORD)
    for n in range(3):
        with pytest.raises(ServiceError) as refused:
            await accounts.login(scope, f"osoba{n}@zgierz.pl", "x" * 12, clock.now, address="203.0.113.7",
                                 limits=limits)
        assert refused.value.status == 401
    with pytest.raises(ServiceError) as refused:
        await accounts.login(scope, ANNA, PASSWORD, clock.now, address="203.0.113.7", limits=limits)
    assert refused.value.status == 429
    _raw, session = await accounts.login(scope, ANNA, PASSWORD, clock.now, address="198.51.100.2", limits=limits)
    assert session.user_id == (await accounts.get_user(scope, ANNA)).id  # type: ignore[attr-defined]


def test_login_limits_from_the_environment() -> None:
    assert accounts.LoginLimits.from_env({}) == accounts.LoginLimits(5, 30, timedelta(minutes=15))
    assert accounts.LoginLimits.from_env({"KOMUNIKATOR_LOGIN_MAX_FAILURES": "10",
                                          "KOMUNIKATOR_LOGIN_WINDOW_SECONDS": "60"}).window == timedelta(minutes=1)
    for bad in ({"KOMUNIKATOR_LOGIN_MAX_FAILURES": "0"}, {"KOMUNIKATOR_LOGIN_WINDOW_SECONDS": "soon"}):
        with pytest.raises(ValueError, match="KOMUNIKATOR_LOGIN_"):
            accounts.LoginLimits.from_env(bad)
