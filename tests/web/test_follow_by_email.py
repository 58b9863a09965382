"""Following a report with only an e-mail address, over HTTP on both databases, mail through a real SMTP server:
the address gets one e-mail with a confirmation link (the city's words only), nothing else until it is opened,
and the report's public status changes after that."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import Api, report

from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.store.scope import TenantScope, ensure_tenant

sys.path.insert(0, str(Path(__file__).parent.parent / "delivery"))
from delivery_helpers import SmtpSink  # tests/delivery, as tests/plugins does

pytestmark = [pytest.mark.anyio, pytest.mark.db]
FOLLOWER = "sasiad@example.pl"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    try:
        yield server
    finally:
        server.stop()


def _text(mail: object) -> str:
    return str(mail.mail.get_body(("plain",)).get_content())  # type: ignore[attr-defined]


def _to_follower(sink: SmtpSink) -> list[object]:
    return [m for m in sink.received if m.recipients == [FOLLOWER]]


async def _deliver(api: Api, sink: SmtpSink) -> None:
    await deliver_pending(api.app.state.tenants, now=api.clock.now, channels=sink.channels())


async def test_an_e_mail_follower_confirms_then_hears_of_status_changes(api: Api, sink: SmtpSink) -> None:
    client = api.client("zgierz")
    number = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    page = await client.get(f"/zgloszenia/{number}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:300]
    for _ in range(2):  # following twice is one follow: one request to confirm
        done = await client.post(f"/zgloszenia/{number}/obserwuj", data={"csrf_token": token.group(1),
                                 "email": FOLLOWER}, headers={"Origin": "http://zgierz.localhost"})
        assert done.status_code == 303, done.text
    await _deliver(api, sink)
    sink.wait_for(1)
    (ask,) = _to_follower(sink)
    text = _text(ask)
    assert number in text and "obserwować" in text and "Dziura w jezdni" in text
    link = re.search(r"https://[a-z.]+(/potwierdz-adres/[A-Za-z0-9_-]+)", text)
    assert link, text

    # unconfirmed: the status change reaches the follower not
    dispatcher = await api.staff("zgierz", "bom@zgierz.pl", "bom:dispatcher")
    verified = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert verified.status_code == 200, verified.text
    await _deliver(api, sink)
    assert len(_to_follower(sink)) == 1

    # the link is a page with a button (opening it changes nothing); another city's host does not know it
    assert (await api.client("nieporet").get(link.group(1))).status_code == 404
    form = await client.get(link.group(1))
    assert form.status_code == 200 and "<form" in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    confirmed = await client.post(link.group(1), data={"csrf_token": csrf.group(1)},
                                  headers={"Origin": "http://zgierz.localhost"})
    assert confirmed.status_code == 200 and number in confirmed.text, confirmed.text[:500]
    again = await client.post(link.group(1), data={"csrf_token": csrf.group(1)},
                              headers={"Origin": "http://zgierz.localhost"})
    assert again.status_code == 404  # a link works once
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    ticket = await scope.get_ticket(number)
    assert await scope.audit_events().filter(ticket_id=ticket.id, action="email_confirmed").count() == 1

    # confirmed: the next public status change reaches the follower
    before = len(sink.received)
    status = ticket.public_status
    worker = await api.staff("zgierz", "drogi@zgierz.pl", "drogi:worker")
    for action in ("take", "complete"):  # the roads unit does the job: the report is fixed
        done = await client.post(f"/api/v1/tickets/{number}/tasks/T1/{action}", json={}, headers=worker)
        assert done.status_code == 200, done.text
    assert (await scope.get_ticket(number)).public_status != status
    await _deliver(api, sink)
    sink.wait_for(before + 1)
    news = _to_follower(sink)
    assert len(news) == 2 and number in _text(news[1]) and "potwierdz-adres" not in _text(news[1])
