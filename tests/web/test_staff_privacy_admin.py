"""Erasure by post in the administration (`/staff/admin/privacy`, issue #15), on both databases.

An administrator finds a reporter by e-mail address (any case) or by a report's number, sees what the
erasure would do (`gdpr.preview`, counted), and runs `gdpr.erase` — the CLI's and the API's function —
only with a legal basis, the request's reference and a confirmation; the audit names the administrator
and the legal basis with the reference; another reporter is untouched. Non-administrators get the
administration's 404, a form without the session's CSRF token is refused; the page is in Polish and English.
"""

from __future__ import annotations

import html
import re

import httpx
import pytest
from web_helpers import Api, report, staff_member, staff_session

from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import gdpr
from komunikator.engine.store.models import Follower, User
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
ZG = "zgierz"
BASIS = "art. 17 ust. 1 lit. a RODO"
REFERENCE = "pismo KW.0123.4.2026 z 1.12.2026"
ORIGIN = {"Origin": "http://zgierz.localhost"}


async def _scope() -> TenantScope:
    return TenantScope((await ensure_tenant(ZG)).id)


async def _reports(api: Api) -> tuple[str, str, str]:
    """Two reports of Jan (one address, two cases of it) and one of Ewa."""
    client = api.client(ZG)
    numbers = []
    for description, email in (("Dziura przy szkole", "Jan@Example.pl"), ("Znowu dziura", "jan@example.pl")):
        jan = {"name": "Jan Kowalski", "email": email, "phone": "600100200"}
        r = await client.post("/api/v1/tickets", json=report(description=description, reporter=jan))
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    other = await client.post("/api/v1/tickets", json=report(reporter={"name": "Ewa Nowak", "email": "ewa@example.pl"}))
    return numbers[0], numbers[1], other.json()["number"]


def _text(page: httpx.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


async def _admin(api: Api, email: str = "admin@zgierz.localhost", *memberships: str) -> tuple[httpx.AsyncClient, str]:
    await staff_member(ZG, email, *(memberships or ("bom:admin",)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://test",
                               headers={"Host": "zgierz.localhost"})
    return client, await staff_session(client, email)


async def test_the_preview_counts_what_the_erasure_then_does(api: Api) -> None:
    """`gdpr.preview` reads only, and its counts are what `gdpr.erase` reports afterwards."""
    first, second, _ = await _reports(api)
    scope = await _scope()
    found = await gdpr.preview(scope, email="JAN@example.pl")
    assert (found.contacts, found.already_erased, found.reports) == (2, 0, (first, second))
    assert found.pending_messages >= 2  # each report's receipt, waiting in the outbox
    assert await gdpr.preview(scope, email="jan@example.pl") == found  # nothing changed by looking
    by_number = await gdpr.preview(scope, ticket=second.lower())
    assert (by_number.contacts, by_number.reports) == (1, (second,))
    done = await gdpr.erase(scope, UserView("operator", (), "system", "test"), BASIS, api.clock(),
                            email="jan@example.pl")
    assert (done["erased_contacts"], done["dropped_messages"], done["revoked_links"]) == (
        found.contacts, found.pending_messages, found.active_links)
    again = await gdpr.preview(scope, ticket=first)  # the address is gone: found by the report's number now
    assert (again.contacts, again.already_erased, again.pending_messages, again.active_links) == (0, 1, 0, 0)
    with pytest.raises(gdpr.ServiceError) as missing:
        await gdpr.preview(scope, email="nikt@example.pl")
    assert missing.value.status == 404
    with pytest.raises(gdpr.ServiceError) as bad:
        await gdpr.preview(scope, email="to nie adres")
    assert bad.value.status == 422


async def test_an_admin_erases_a_reporter_by_post_with_the_legal_basis(api: Api) -> None:
    first, second, ewas = await _reports(api)
    scope = await _scope()
    client, token = await _admin(api)
    try:
        inbox = await client.get("/staff/admin/users")
        assert 'href="/staff/admin/privacy"' in inbox.text  # the administration's own navigation
        form = await client.get("/staff/admin/privacy")
        assert form.status_code == 200 and 'name="person"' in form.text
        found = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": " JAN@example.pl "},
                                  headers=ORIGIN)
        assert found.status_code == 200, found.text
        text = _text(found)
        assert "Kontakty do usunięcia 2" in text and f"{first}, {second}" in text
        assert 'action="/staff/admin/privacy/erase"' in found.text
        assert "jan@example.pl" not in str(found.url)  # the address never travels in a URL

        refused = await client.post("/staff/admin/privacy/erase", data={
            "csrf_token": token, "person": "jan@example.pl", "legal_basis": " ", "reference": ""}, headers=ORIGIN)
        assert refused.status_code == 422
        assert refused.text.count('class="field__error"') == 3  # basis, reference, confirmation
        assert "<title>Błąd:" in refused.text and "Wpisz podstawę prawną" in refused.text
        assert all(c.erased_at is None for c in await scope.reporter_contacts().filter(email__iexact="jan@example.pl"))

        done = await client.post("/staff/admin/privacy/erase", data={
            "csrf_token": token, "person": "jan@example.pl", "legal_basis": BASIS, "reference": REFERENCE,
            "confirm": "yes"}, headers=ORIGIN)
        assert done.status_code == 200, done.text
        text = _text(done)
        assert "Usunięto dane 2 kontaktów." in text
        assert f'href="/staff/tickets/{first}"' in done.text and f'href="/staff/tickets/{second}"' in done.text

        contacts = {t.number: await scope.reporter_contacts().get(id=t.reporter_contact_id)  # type: ignore[attr-defined]
                    for t in await scope.tickets().filter(number__in=[first, second, ewas])}
        for number in (first, second):
            assert contacts[number].erased_at is not None
            assert (contacts[number].name, contacts[number].email, contacts[number].phone) == (None, None, None)
        assert contacts[ewas].email == "ewa@example.pl" and contacts[ewas].erased_at is None
        admin = await scope.users().get(email="admin@zgierz.localhost")
        rows = await scope.audit_events().filter(action="gdpr_erase").order_by("id")
        assert len(rows) == 2  # one per report
        for row in rows:
            assert row.actor_user_id == admin.id  # type: ignore[attr-defined]
            assert row.reason == f"{BASIS} — {REFERENCE}"
            assert row.after["legal_basis"] == f"{BASIS} — {REFERENCE}"

        again = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": first},
                                  headers=ORIGIN)
        assert "Nie ma nic do usunięcia" in _text(again)
        assert 'action="/staff/admin/privacy/erase"' not in again.text
    finally:
        await client.aclose()


async def test_wrong_lookups_say_so_beside_the_field(api: Api) -> None:
    await _reports(api)
    client, token = await _admin(api)
    try:
        nobody = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": "nikt@example.pl"},
                                   headers=ORIGIN)
        assert nobody.status_code == 404
        assert "Nie znaleziono zgłaszającego" in _text(nobody) and 'aria-invalid="true"' in nobody.text
        bad = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": "to nie adres"},
                                headers=ORIGIN)
        assert bad.status_code == 422 and "Wpisz adres e-mail" in _text(bad)
        hostile = '<script>alert(1)</script>@example.pl'
        shown = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": hostile},
                                  headers=ORIGIN)
        assert "<script>alert(1)" not in shown.text
    finally:
        await client.aclose()


async def test_only_administrators_and_only_with_the_token(api: Api) -> None:
    first, _, _ = await _reports(api)
    scope = await _scope()
    clerk, clerk_token = await _admin(api, "bom@zgierz.localhost", "bom:dispatcher")
    try:
        for response in (await clerk.get("/staff/admin/privacy"),
                         await clerk.post("/staff/admin/privacy", data={"csrf_token": clerk_token, "person": first},
                                          headers=ORIGIN),
                         await clerk.post("/staff/admin/privacy/erase", data={
                             "csrf_token": clerk_token, "person": first, "legal_basis": BASIS,
                             "reference": REFERENCE, "confirm": "yes"}, headers=ORIGIN)):
            assert response.status_code == 404
            assert "Nie znaleziono" in _text(response)
        assert 'href="/staff/admin/privacy"' not in (await clerk.get("/staff/")).text
    finally:
        await clerk.aclose()
    admin, _ = await _admin(api)
    try:
        forged = await admin.post("/staff/admin/privacy/erase", data={
            "csrf_token": "not-the-token", "person": first, "legal_basis": BASIS, "reference": REFERENCE,
            "confirm": "yes"}, headers=ORIGIN)
        assert forged.status_code == 403
    finally:
        await admin.aclose()
    assert await scope.audit_events().filter(action="gdpr_erase").count() == 0
    assert all(c.erased_at is None for c in await scope.reporter_contacts().all())


async def test_the_page_in_english(api: Api) -> None:
    await _reports(api)
    client, token = await _admin(api)
    try:
        scope = await _scope()
        await scope.users().filter(email="admin@zgierz.localhost").update(locale="en")
        found = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": "jan@example.pl"},
                                  headers=ORIGIN)
        text = _text(found)
        assert "What will be erased" in text and "Contacts to erase 2" in text
        assert "I confirm: erase these personal data." in text
    finally:
        await client.aclose()


async def test_an_admin_erases_a_residents_account_by_post_too(api: Api) -> None:
    """The e-mail address is also a resident's portal account: the preview says so, and the erasure deletes
    the account as the resident's own deletion does, audited with the administrator and the legal basis; an
    account that never reported with a contact is found as well; staff accounts are never touched."""
    scope = await _scope()
    marta = await scope.create(User, kind="resident", email="marta@example.pl", display_name="Marta Zielińska",
                               password_hash="x", email_verified_at=api.clock())
    lone = await scope.create(User, kind="resident", email="lone@example.pl", display_name="Samotna",
                              password_hash="x")
    r = await api.client(ZG).post("/api/v1/tickets", json=report(reporter={"name": "Marta Zielińska",
                                                                           "email": "marta@example.pl"}))
    number = r.json()["number"]
    ticket = await scope.tickets().get(number=number)
    await scope.tickets().filter(id=ticket.id).update(reporter_user_id=marta.id)
    await scope.create(Follower, ticket=ticket, user=marta)
    client, token = await _admin(api)
    try:
        found = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": "MARTA@example.pl"},
                                  headers=ORIGIN)
        assert "Kontakty do usunięcia 1" in _text(found) and "Konto mieszkańca do usunięcia tak" in _text(found)
        done = await client.post("/staff/admin/privacy/erase", data={
            "csrf_token": token, "person": "marta@example.pl", "legal_basis": BASIS, "reference": REFERENCE,
            "confirm": "yes"}, headers=ORIGIN)
        assert done.status_code == 200, done.text
        assert "Konto mieszkańca zostało usunięte" in _text(done) and f'href="/staff/tickets/{number}"' in done.text
        erased = await scope.users().get(id=marta.id)
        assert (erased.email, erased.display_name, erased.active, erased.password_hash) == (
            f"erased-{marta.id}@invalid", "", False, None)
        assert not await scope.followers().filter(user_id=marta.id).exists()
        contact = await scope.reporter_contacts().get(id=ticket.reporter_contact_id)  # type: ignore[attr-defined]
        assert contact.erased_at is not None and contact.email is None
        admin = await scope.users().get(email="admin@zgierz.localhost")
        [row] = await scope.audit_events().filter(action="account_erase")
        assert (row.actor_user_id, row.reason, row.after) == (  # type: ignore[attr-defined]
            admin.id, f"{BASIS} — {REFERENCE}", {"user": marta.id, "legal_basis": f"{BASIS} — {REFERENCE}"})

        alone = await client.post("/staff/admin/privacy", data={"csrf_token": token, "person": "lone@example.pl"},
                                  headers=ORIGIN)
        assert alone.status_code == 200 and "Konto mieszkańca do usunięcia tak" in _text(alone)
        assert 'action="/staff/admin/privacy/erase"' in alone.text
        # a staff member's address is not a resident's account: nothing to find
        staff = await client.post("/staff/admin/privacy", data={"csrf_token": token,
                                                                "person": "admin@zgierz.localhost"}, headers=ORIGIN)
        assert staff.status_code == 404
        assert (await scope.users().get(email="admin@zgierz.localhost")).active
        assert (await scope.users().get(id=lone.id)).active
    finally:
        await client.aclose()
