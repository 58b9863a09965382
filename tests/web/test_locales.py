"""The language of a reporter's and a staff member's e-mails, chosen over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from web_helpers import Api, report

from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.web.deps import _weighted_languages

pytestmark = pytest.mark.anyio


def test_accept_language_is_read_by_weight() -> None:
    assert _weighted_languages("pl-PL,pl;q=0.9,en;q=0.8") == ["pl-PL", "pl", "en"]
    assert _weighted_languages("en;q=0.5, de, pl;q=0, *;q=0.1, fr;q=x") == ["de", "en"]
    assert _weighted_languages(" , ;q=1") == []


async def _contact_locale(slug: str, number: str) -> str | None:
    scope = TenantScope((await ensure_tenant(slug)).id)
    ticket = await scope.get_ticket(number)
    contact = await scope.reporter_contacts().get(id=ticket.reporter_contact_id)  # type: ignore[attr-defined]
    return contact.locale


@pytest.mark.parametrize(("header", "body", "stored"), [
    ("en-GB,en;q=0.9,pl;q=0.5", None, "en"),   # the city speaks English
    ("de-DE,de;q=0.9", None, None),            # nothing the city speaks: the city's own
    (None, None, None),
    ("en", "pl", "pl"),                         # the body's choice wins over the header
    ("x" * 5000 + ";q=oops,,;;=", None, None),  # garbage is no reason to refuse a report
    ("en;q=0.1," + "de;q=0.9," * 300, None, "en"),  # overlong: read as far as it makes sense
])
async def test_a_report_is_answered_in_the_language_it_was_made_in(
    api: Api, header: str | None, body: str | None, stored: str | None
) -> None:
    headers = {"Accept-Language": header} if header else {}
    extra = {"locale": body} if body else {}
    response = await api.client("zgierz").post("/api/v1/tickets", json=report(**extra), headers=headers)
    assert response.status_code == 201, response.text
    assert await _contact_locale("zgierz", response.json()["number"]) == stored


async def test_a_city_answers_only_in_its_own_languages(api: Api) -> None:
    response = await api.client("nieporet").post("/api/v1/tickets", json=report(locale="en", lat=52.43, lon=21.03))
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("unsupported_locale", "locale")
    assert "pl" in response.json()["message"]
    # Nieporęt speaks Polish only: an English browser is answered in Polish
    response = await api.client("nieporet").post("/api/v1/tickets", json=report(lat=52.43, lon=21.03),
                                                 headers={"Accept-Language": "en"})
    assert response.status_code == 201, response.text
    assert await _contact_locale("nieporet", response.json()["number"]) is None


async def test_staff_choose_the_language_of_their_mail(api: Api) -> None:
    auth = await api.staff("zgierz", "anna@zgierz.pl", "bom:dispatcher")
    client = api.client("zgierz")
    me = await client.get("/api/v1/auth/me", headers=auth)
    assert me.json()["locale"] is None
    changed = await client.patch("/api/v1/auth/me", json={"locale": "en"}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["locale"] == "en"
    assert (await client.get("/api/v1/auth/me", headers=auth)).json()["locale"] == "en"
    refused = await client.patch("/api/v1/auth/me", json={"locale": "de"}, headers=auth)
    assert refused.status_code == 422
    assert refused.json()["error"] == "unsupported_locale"
    assert (await client.patch("/api/v1/auth/me", json={"locale": None}, headers=auth)).json()["locale"] is None
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    trail = [(e.before, e.after) for e in await scope.audit_events().filter(action="user_locale").order_by("id")]
    user = int(auth["X-User-Id"])
    assert trail == [({"user": user, "locale": None}, {"user": user, "locale": "en"}),
                     ({"user": user, "locale": "en"}, {"user": user, "locale": None})]
