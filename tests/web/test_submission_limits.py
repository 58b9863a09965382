"""The city's mailer is no relay (issue #12, 5), over HTTP on both databases, mail through a real SMTP server.

- an anonymous report's unconfirmed e-mail address gets only the city's own
  words (number, category, links) and a confirmation link; nothing else is
  sent to it until the link is opened;
- anonymous reports are limited per client address and per e-mail address
  (429 with Retry-After), counted in the database, so every web process
  counts the same.
"""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from web_helpers import Api, Clock, make_api, report

from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.store.scope import TenantScope, ensure_tenant

sys.path.insert(0, str(Path(__file__).parent.parent / "delivery"))
from delivery_helpers import SmtpSink  # tests/delivery, as tests/plugins does

PHISHING = "Twoje konto wygaslo: zaloguj sie na http://evil.example/login"
From = Callable[[str], httpx.AsyncClient]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def from_address(api: Api) -> AsyncIterator[From]:
    """`from_address(ip)`: a Zgierz client whose requests come from that address."""
    made: list[httpx.AsyncClient] = []

    def new(address: str, app: object = None) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app or api.app, client=(address, 40000)),
                                   base_url="http://zgierz.localhost")
        made.append(client)
        return client

    try:
        yield new
    finally:
        for client in made:
            await client.aclose()


def _text(mail: object) -> str:
    body = mail.mail.get_body(("plain",))  # type: ignore[attr-defined]
    return str(body.get_content())


async def _deliver(api: Api, sink: SmtpSink) -> int:
    report_ = await deliver_pending(api.app.state.tenants, now=api.clock.now, channels=sink.channels())
    return report_.messages


async def test_an_unconfirmed_address_gets_only_the_citys_words_and_a_link(api: Api, sink: SmtpSink) -> None:
    client = api.client("zgierz")
    body = report(address=PHISHING, description=PHISHING,
                  reporter={"name": PHISHING[:100], "email": "ofiara@example.pl"})
    made = await client.post("/api/v1/tickets", json=body)
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    await _deliver(api, sink)
    (mail,) = sink.wait_for(1)
    assert mail.recipients == ["ofiara@example.pl"]
    whole = mail.mail.as_string()
    assert "evil.example" not in whole and "wygaslo" not in whole, whole  # nothing the sender typed
    text = _text(mail)
    assert number in text and number in str(mail.mail["Subject"])
    assert "Dziura w jezdni" in text  # the category's name: the city's words
    found = re.search(r"https://[a-z.]+/potwierdz-adres/([A-Za-z0-9_-]+)", text)
    assert found, text
    confirm_path = f"/api/v1/public/email-confirmations/{found.group(1)}"  # the JSON twin of the link's page

    # nothing more goes there while unconfirmed: a message to the reporter is held back
    dispatcher = await api.staff("zgierz", "bom@zgierz.pl", "bom:dispatcher")
    to_reporter = {"body": "Prosimy o zdjęcie", "visibility": "to_reporter"}
    sent = await client.post(f"/api/v1/tickets/{number}/comments", json=to_reporter, headers=dispatcher)
    assert sent.status_code == 201, sent.text
    await _deliver(api, sink)
    assert len(sink.received) == 1

    # the link confirms (once); then the city's messages flow
    confirmed = await client.get(confirm_path)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"confirmed": True, "number": number}
    assert (await client.get(confirm_path)).status_code == 404
    again = await client.post(f"/api/v1/tickets/{number}/comments", json=to_reporter, headers=dispatcher)
    assert again.status_code == 201, again.text
    await _deliver(api, sink)
    assert len(sink.wait_for(2)) == 2
    assert sink.received[1].recipients == ["ofiara@example.pl"] and "zdjęcie" in _text(sink.received[1])
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    assert await scope.audit_events().filter(action="email_confirmed").count() == 1


async def test_a_made_up_confirmation_link_is_404(api: Api) -> None:
    r = await api.client("zgierz").get("/api/v1/public/email-confirmations/" + "x" * 43)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


async def test_staff_typing_in_an_address_confirms_it(api: Api, sink: SmtpSink) -> None:
    dispatcher = await api.staff("zgierz", "bom@zgierz.pl", "bom:dispatcher")
    made = await api.client("zgierz").post("/api/v1/tickets", json=report(address="Długa 5"), headers=dispatcher)
    assert made.status_code == 201, made.text
    await _deliver(api, sink)
    (mail,) = sink.wait_for(1)
    assert "potwierdz-adres" not in _text(mail) and "Długa 5" in _text(mail)  # the full receipt


async def test_anonymous_reports_are_limited_per_address(api: Api, from_address: From,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_SUBMIT_MAX_PER_ADDRESS", "3")
    flood = from_address("203.0.113.9")
    for n in range(3):
        r = await flood.post("/api/v1/tickets", json=report(reporter={"email": f"a{n}@example.pl"}))
        assert r.status_code == 201, r.text
    refused = await flood.post("/api/v1/tickets", json=report(reporter={"email": "a9@example.pl"}))
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.json()["details"]["retry_after"] == int(refused.headers["Retry-After"])
    # another address is not affected; the limit passes with the window
    assert (await from_address("198.51.100.4").post("/api/v1/tickets", json=report())).status_code == 201
    api.clock.advance(hours=1, seconds=1)
    assert (await flood.post("/api/v1/tickets", json=report())).status_code == 201


async def test_anonymous_reports_are_limited_per_email_across_web_processes(
    api: Api, from_address: From, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two apps (two web processes) on one database count the same e-mail together."""
    monkeypatch.setenv("KOMUNIKATOR_SUBMIT_MAX_PER_EMAIL", "2")
    other = make_api(Clock(api.clock.now))
    try:
        first = from_address("203.0.113.10")
        second = from_address("203.0.113.11", other.app)
        victim = {"email": "Ofiara@Example.pl"}
        assert (await first.post("/api/v1/tickets", json=report(reporter=victim))).status_code == 201
        assert (await second.post("/api/v1/tickets", json=report(reporter=victim))).status_code == 201
        refused = await first.post("/api/v1/tickets", json=report(reporter={"email": "ofiara@example.pl"}))
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert (await second.post("/api/v1/tickets", json=report(reporter=victim))).status_code == 429
    finally:
        for client in other.clients.values():
            await client.aclose()
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    assert await scope.tickets().count() == 2
