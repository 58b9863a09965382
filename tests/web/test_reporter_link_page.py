"""The reporter's page `/odpowiedz/{link}` (#11 item 8), on both databases: the form, its errors, the clear
pages for links that do not work, Polish first and English, no inline script or style."""

from __future__ import annotations

import re

import httpx
import pytest
from web_helpers import Api, registry, report

from komunikator.engine.service import reporter_links
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
ZG, NP = "zgierz", "nieporet"
ORIGIN = {"Origin": "http://zgierz.localhost"}


async def _waiting_link(api: Api) -> tuple[str, str, dict[str, str]]:
    """A pothole waiting for its reporter, its link and the dispatcher."""
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    number = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    for action, inputs in (("verify", {}), ("ask_resident", {"public_comment": "Czy dziura jest na jezdni?"})):
        r = await client.post(f"/api/v1/tickets/{number}/actions/{action}", json=inputs, headers=dispatcher)
        assert r.status_code == 200, r.text
    scope = TenantScope((await ensure_tenant(ZG)).id)
    link = await reporter_links.mint(scope, registry().tenants[ZG], await scope.get_ticket(number), api.clock.now)
    assert link is not None
    return number, link, dispatcher


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found is not None, name
    return found.group(1)


def _strict(response: httpx.Response) -> None:
    """The page's own CSP, and nothing it would block: no inline script, no style attribute."""
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)
    assert not re.search(r"<[^>]+\s(style|on[a-z]+)=", response.text)


async def test_the_page_answers_in_polish_and_english(api: Api, db: str) -> None:
    number, link, _ = await _waiting_link(api)
    page = await api.client(ZG).get(f"/odpowiedz/{link}")
    assert page.status_code == 200, page.text
    _strict(page)
    assert '<html lang="pl">' in page.text
    assert f"<title>Zgłoszenie {number} – Urząd Miasta Zgierza</title>" in page.text
    assert "Czy dziura jest na jezdni?" in page.text and "Wiadomości w sprawie zgłoszenia" in page.text
    assert "<h2>Odpowiedz</h2>" in page.text  # the transition's label from the YAML
    assert '<label for="public_comment-resident_answered">Odpowiedź</label>' in page.text
    english = await api.client(ZG).get(f"/odpowiedz/{link}?lang=en")
    assert '<html lang="en">' in english.text and f"Your report {number}" in english.text
    assert "<h2>Answer</h2>" in english.text and "Messages about the report" in english.text


async def test_an_empty_answer_comes_back_with_the_error_and_changes_nothing(api: Api, db: str) -> None:
    number, link, dispatcher = await _waiting_link(api)
    client = api.client(ZG)
    page = await client.get(f"/odpowiedz/{link}")
    form = {"csrf_token": _hidden(page.text, "csrf_token"), "action": "resident_answered",
            "submission": _hidden(page.text, "submission"), "public_comment": "   "}
    r = await client.post(f"/odpowiedz/{link}", data=form, headers=ORIGIN)
    assert r.status_code == 422, r.text
    _strict(r)
    assert "<title>Błąd: Zgłoszenie" in r.text
    assert 'class="error-summary" role="alert"' in r.text
    assert '<a href="#public_comment-resident_answered">Wpisz odpowiedź.</a>' in r.text
    assert 'aria-describedby="public_comment-resident_answered-hint public_comment-resident_answered-error"' in r.text
    detail = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
    assert detail.json()["state"] == "waiting_for_resident"

    form["public_comment"] = "Tak, na prawym pasie."
    r = await client.post(f"/odpowiedz/{link}", data=form, headers=ORIGIN)
    assert (r.status_code, r.headers["location"]) == (303, f"/odpowiedz/{link}?wyslano=1")
    done = await client.get(r.headers["location"])
    assert "Dziękujemy, odpowiedź została wysłana" in done.text
    assert "Tak, na prawym pasie." in done.text  # now among the public messages
    assert 'name="action"' not in done.text
    detail = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
    assert detail.json()["state"] == "in_progress"


async def test_a_form_without_its_token_is_refused(api: Api, db: str) -> None:
    number, link, dispatcher = await _waiting_link(api)
    client = api.client(ZG)
    await client.get(f"/odpowiedz/{link}")  # the form token's cookie
    r = await client.post(f"/odpowiedz/{link}", data={"action": "resident_answered", "public_comment": "x"},
                          headers=ORIGIN)
    assert r.status_code == 403
    r = await client.post(f"/odpowiedz/{link}", data={"action": "resident_answered", "public_comment": "x",
                                                      "csrf_token": client.cookies.get("komunikator_portal_csrf")},
                          headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    detail = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
    assert detail.json()["state"] == "waiting_for_resident"


async def test_links_that_do_not_work_get_a_clear_page(api: Api, db: str) -> None:
    number, link, _ = await _waiting_link(api)
    zg = api.client(ZG)
    unknown = await zg.get(f"/odpowiedz/{'x' * 43}")
    assert unknown.status_code == 404
    _strict(unknown)
    assert "<h1>Nieznany link</h1>" in unknown.text
    for odd in ("%00", "a" * 300, "..%2F..%2Fetc", "Zażółć"):
        assert (await zg.get(f"/odpowiedz/{odd}")).status_code in (404, 422), odd
    theirs = await api.client(NP).get(f"/odpowiedz/{link}")  # Zgierz's link on Nieporęt's host
    nowhere = await api.client(NP).get(f"/odpowiedz/{'x' * 43}")
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.text == nowhere.text and number not in theirs.text

    api.clock.advance(days=31)
    expired = await zg.get(f"/odpowiedz/{link}")
    assert expired.status_code == 410
    assert "<h1>Ten link już nie działa</h1>" in expired.text and "Ten link wygasł." in expired.text
    assert number not in expired.text
    english = await zg.get(f"/odpowiedz/{link}?lang=en")
    assert "This link has expired." in english.text
