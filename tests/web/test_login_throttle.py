"""Login throttling that slows guessers without handing strangers a lockout (issue #12, 7).

Over HTTP against the app, each client with its own address (the ASGI
transport's `client`), on SQLite and PostgreSQL; the account holder's
warning goes through the outbox to a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from web_helpers import Api

from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.service import accounts
from komunikator.engine.store.scope import TenantScope, ensure_tenant

sys.path.insert(0, str(Path(__file__).parent.parent / "delivery"))
from delivery_helpers import SmtpSink  # tests/delivery, as tests/plugins does

PASSWORD = "correct horse battery"
ANNA = "anna@zgierz.pl"

From = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def anna(api: Api) -> int:
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    user = await accounts.create_user(scope, ANNA, "Anna Nowak", PASSWORD)
    return user.id


@pytest.fixture
async def from_address(api: Api) -> AsyncIterator[From]:
    """`from_address("203.0.113.9")`: a client of Zgierz whose requests come from that address."""
    made: list[httpx.AsyncClient] = []

    def new(address: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app, client=(address, 40000)),
                                   base_url="http://zgierz.localhost")
        made.append(client)
        return client

    try:
        yield new
    finally:
        for client in made:
            await client.aclose()


async def _login(client: httpx.AsyncClient, password: str = PASSWORD, email: str = ANNA) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_a_stranger_guessing_does_not_lock_out_the_account_holder(anna: int, from_address: From) -> None:
    stranger = from_address("203.0.113.66")
    for _ in range(5):
        assert (await _login(stranger, "not her password")).status_code == 401
    refused = await _login(stranger)  # the stranger is slowed down, even with the right password
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_attempts"
    assert int(refused.headers["Retry-After"]) > 0
    office = await _login(from_address("198.51.100.7"))  # Anna, at her desk
    assert office.status_code == 200, office.text


async def test_one_address_trying_many_accounts_is_slowed_down(anna: int, from_address: From) -> None:
    sprayer = from_address("203.0.113.70")
    for n in range(30):
        assert (await _login(sprayer, "Password1!", f"osoba{n}@zgierz.pl")).status_code == 401
    assert (await _login(sprayer, "Password1!", "nowa@zgierz.pl")).status_code == 429
    assert (await _login(from_address("198.51.100.7"))).status_code == 200


async def test_the_per_account_ceiling_refuses_and_tells_the_account_holder(
    api: Api, anna: int, from_address: From, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ACCOUNT", "12")
    for n in range(3):  # a botnet: four guesses from each of three addresses, under the per-address limits
        bot = from_address(f"203.0.113.{100 + n}")
        for _ in range(4):
            assert (await _login(bot, "guess")).status_code == 401
    refused = await _login(from_address("198.51.100.7"))
    assert refused.status_code == 429, refused.text
    assert (await _login(from_address("198.51.100.8"), email="ktos@zgierz.pl")).status_code == 401  # others: fine

    sink = SmtpSink().start()
    try:
        report = await deliver_pending(api.app.state.tenants, now=api.clock.now, channels=sink.channels())
        assert report.sent == 1, report
        (mail,) = sink.wait_for(1)
    finally:
        sink.stop()
    assert mail.recipients == [ANNA]
    assert "nieudanych prób logowania" in str(mail.mail["Subject"])
    body = mail.mail.get_body(("plain",))
    assert body is not None and "Anna Nowak" in body.get_content()
    # reaching the ceiling is told once, not on every further attempt
    assert (await _login(from_address("203.0.113.200"), "guess")).status_code == 429
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    assert await scope.outbox().filter(kind=accounts.LOGIN_THROTTLED_TEMPLATE).count() == 1


def test_login_limits_from_the_environment_per_account() -> None:
    assert accounts.LoginLimits.from_env({}).per_account == 100
    assert accounts.LoginLimits.from_env({"KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ACCOUNT": "7"}).per_account == 7
    with pytest.raises(ValueError, match="KOMUNIKATOR_LOGIN_"):
        accounts.LoginLimits.from_env({"KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ACCOUNT": "0"})
