"""From the e-mail to the transition (#11 item 8): the office asks the reporter, the mail (real SMTP) carries the
reporter's link, and following it the reporter answers on the page `/odpowiedz/{link}`, as a resident would."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from delivery_helpers import NOW, SmtpSink, dispatcher, registry, submit_report

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import close_channels
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.service import tickets
from komunikator.engine.store.models import ReporterLink
from komunikator.engine.store.scope import TenantScope
from komunikator.web.app import create_app

pytestmark = pytest.mark.anyio
Zgierz = tuple[TenantScope, CompiledTenant]
LINK = re.compile(r"https://zgierz\.example\.pl/odpowiedz/[A-Za-z0-9_-]{40,}")


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found is not None, name
    return found.group(1)


async def test_the_reporter_answers_from_the_link_in_the_mail(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    anna = await dispatcher(scope, tenant)
    channels = sink.channels()
    await deliver_pending(registry(), now=NOW, channels=channels)  # the receipt: its template has no link
    assert await scope.query(ReporterLink).count() == 0

    await tickets.act(scope, tenant, ticket.number, "verify", anna, {}, NOW)
    await tickets.act(scope, tenant, ticket.number, "ask_resident", anna,
                      {"public_comment": "Prosimy o zdjęcie z drugiej strony ulicy."}, NOW)
    await deliver_pending(registry(), now=NOW + timedelta(minutes=1), channels=channels)
    mails = [m for m in sink.wait_for(3) if m.mail["Subject"].startswith("Prosimy o informacje")]
    assert [m.recipients for m in mails] == [["jan@example.pl"]]
    text = mails[0].mail.get_body(("plain",)).get_content()
    html = mails[0].mail.get_body(("html",)).get_content()
    [url] = LINK.findall(text)
    assert f'href="{url}"' in html
    assert "Prosimy o zdjęcie z drugiej strony ulicy." in text
    assert f"/t/{ticket.number}" not in text  # the link replaces "answer on the report's page"
    [row] = await scope.query(ReporterLink).all()
    token = urlsplit(url).path.rsplit("/", 1)[1]
    assert row.token_hash != token and token not in str(row.token_hash)

    app = create_app(registry(), init_database=False, clock=lambda: NOW + timedelta(hours=2))
    host = urlsplit(url).netloc
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as browser:
        page = await browser.get(urlsplit(url).path)
        assert page.status_code == 200, page.text
        assert ticket.number in page.text and "Prosimy o zdjęcie z drugiej strony ulicy." in page.text
        assert 'name="action" value="resident_answered"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        form = {"csrf_token": _field(page.text, "csrf_token"), "action": "resident_answered",
                "submission": _field(page.text, "submission"), "public_comment": "Zdjęcie wyślę jutro; to przy nr 5."}
        sent = await browser.post(urlsplit(url).path, data=form, headers={"Origin": f"http://{host}"})
        assert sent.status_code == 303, sent.text
        again = await browser.post(urlsplit(url).path, data=form, headers={"Origin": f"http://{host}"})
        assert again.status_code == 303, again.text  # a double submit is answered, not acted on twice
        done = await browser.get(sent.headers["location"])
        assert done.status_code == 200
        assert 'name="action"' not in done.text  # nothing more to do while the unit works
    fresh = await scope.get_ticket(ticket.number)
    assert fresh.state == "in_progress"
    answers = await scope.audit_events().filter(ticket_id=fresh.id, action="resident_answered")
    assert [(e.actor_kind, e.reporter_contact_id) for e in answers] == [  # type: ignore[attr-defined]
        ("reporter", fresh.reporter_contact_id)]  # type: ignore[attr-defined]
    # the unit hears of the answer; its mail carries no reporter's link, and none is made for it
    await deliver_pending(registry(), now=NOW + timedelta(hours=3), channels=channels)
    await close_channels(channels)
    unit_mails = [m for m in sink.received if "jan@example.pl" not in m.recipients]
    assert unit_mails and all("/odpowiedz/" not in m.mail.get_body(("plain",)).get_content() for m in unit_mails)
    assert await scope.query(ReporterLink).count() == 1
