"""The portal's report form and public pages in-process, on both databases: the form files a ticket through
the same intake as the API (idempotent), refusals come back beside the fields, the public pages show only
what the public may see, following records a follower, and another city's numbers are the same 404."""

from __future__ import annotations

import html
import io
import json
import re
import uuid

import pytest
from PIL import Image
from route_table import fill, page_routes, path_params
from web_helpers import Api, report

from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = [pytest.mark.anyio, pytest.mark.db]
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'


async def _token(client, path: str = "/zglos?category=pothole") -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page = await client.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    key = re.search(r'name="idempotency_key" value="([^"]*)"', page.text)
    assert token, page.text[:500]
    return token.group(1), key.group(1) if key else ""


def _jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(out, "JPEG")
    return out.getvalue()


async def test_a_report_from_the_form_is_one_ticket_however_often_it_is_sent(api: Api) -> None:
    client = api.client("zgierz")
    token, key = await _token(client)
    assert len(key) == 32
    form = {"csrf_token": token, "idempotency_key": key, "category": "pothole", "lat": "51.8561", "lon": "19.4062",
            "address": "", "attr.size": "medium", "description": "Głęboka dziura przy przejściu", "email": "",
            "name": ""}
    files = [("photos", ("dziura.jpg", _jpeg(), "image/jpeg"))]
    headers = {"Origin": "http://zgierz.localhost"}
    first = await client.post("/zglos", data=form, files=files, headers=headers)
    assert first.status_code == 303, first.text[:2000]
    number = first.headers["location"].split("/")[-1].split("?")[0]
    again = await client.post("/zglos", data=form, files=files, headers=headers)  # the offline draft sent twice
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    ticket = await scope.get_ticket(number)
    assert await scope.tickets().filter(description="Głęboka dziura przy przejściu").count() == 1
    assert ticket.channel == "public" and ticket.reporter_contact_id is None  # type: ignore[attr-defined]
    short = await client.get(f"/t/{number.lower()}")  # the e-mails' link
    assert short.status_code == 303 and short.headers["location"] == f"/zgloszenia/{number}"
    page = await client.get(f"/zgloszenia/{number}?wyslane=1")
    assert page.status_code == 200 and number in page.text and "Zgłoszenie zostało wysłane" in page.text
    photo = re.search(r'src="(/api/v1/public/tickets/[^"]+/thumb)"', page.text)
    assert photo and (await client.get(photo.group(1))).status_code == 200
    assert "Głęboka dziura" not in page.text  # the description is not public (reading.public_ticket's rule)


async def test_refusals_come_back_beside_the_fields_with_the_values(api: Api) -> None:
    client = api.client("zgierz")
    token, key = await _token(client)
    form = {"csrf_token": token, "idempotency_key": key, "category": "pothole", "lat": "", "lon": "",
            "address": "", "description": HOSTILE, "email": "nie-adres"}
    refused = await client.post("/zglos", data=form, headers={"Origin": "http://zgierz.localhost"})
    assert refused.status_code == 422
    text = refused.text
    assert "<title>Błąd:" in text and 'class="error-summary"' in text
    assert 'id="email-error"' in text and 'aria-invalid="true"' in text
    # every problem at once: the place, the unanswered question, the address
    assert 'id="location-error"' in text and 'id="attr-size-error"' in text and text.count('<li><a href="#') == 3
    assert HOSTILE not in text and "&lt;script&gt;alert(" in text  # the resident's text comes back as text
    form.update({"email": "jan@example.pl", "lat": "52.3000", "lon": "19.4000", "attr.size": "small"})  # outside
    outside = await client.post("/zglos", data=form, headers={"Origin": "http://zgierz.localhost"})
    assert outside.status_code == 422 and 'id="location-error"' in outside.text
    assert "poza granicami miasta" in outside.text
    form.update({"lat": "51.8561", "lon": "19.4062", "description": "ok", "attr.size": ""})  # an answer missing
    missing = await client.post("/zglos", data=form, headers={"Origin": "http://zgierz.localhost"})
    assert missing.status_code == 422 and 'id="attr-size-error"' in missing.text
    # without the form's token, or from another site: refused
    assert (await client.post("/zglos", data={**form, "csrf_token": "x"},
                              headers={"Origin": "http://zgierz.localhost"})).status_code == 403
    assert (await client.post("/zglos", data=form, headers={"Origin": "http://evil.example"})).status_code == 403


async def test_the_category_chooser_groups_and_searches(api: Api) -> None:
    client = api.client("zgierz")
    page = await client.get("/zglos")
    assert page.status_code == 200 and 'name="category" value="pothole"' in page.text
    assert page.text.count("<fieldset class=\"category-group\"") >= 5
    found = await client.get("/zglos?q=latarnia")
    assert 'value="streetlight_out"' in found.text and 'value="pothole"' not in found.text
    other = await api.client("nieporet").get("/zglos")
    assert 'value="cycle_path_damage"' in page.text and 'value="cycle_path_damage"' not in other.text


async def test_public_pages_show_only_what_the_public_may_see(api: Api) -> None:
    zgierz = api.client("zgierz")
    made = {}
    answers = {"pothole": {"size": "medium"}, "illegal_parking": {"obstruction": "pavement"},
               "construction_noise": {}}
    for category, given in answers.items():  # shown, blurred (parking), hidden (noise)
        body = report(category, attributes=given, lat=51.85612, lon=19.40687)
        answer = await zgierz.post("/api/v1/tickets", json=body)
        assert answer.status_code == 201, answer.text
        made[category] = answer.json()["number"]
    listing = await zgierz.get("/zgloszenia")
    assert made["pothole"] in listing.text and made["construction_noise"] not in listing.text  # hidden category
    assert "jan@example.pl" not in listing.text and "Jan Kowalski" not in listing.text
    mapped = await zgierz.get("/mapa")
    found = re.search(r'data-points="([^"]*)"', mapped.text)
    assert found
    points = {p["n"]: (p["lat"], p["lon"]) for p in json.loads(html.unescape(found.group(1)))}
    assert set(points) == {made["pothole"], made["illegal_parking"]}
    assert points[made["pothole"]] == (51.85612, 19.40687)
    assert points[made["illegal_parking"]] == (51.856, 19.407)  # a blurred category's pin is rounded
    assert "51.85612" not in (await zgierz.get(f"/zgloszenia/{made['illegal_parking']}")).text
    hidden = await zgierz.get(f"/zgloszenia/{made['construction_noise']}")
    missing = await zgierz.get("/zgloszenia/ZG-2026-999999")
    foreign = await api.client("nieporet").get(f"/zgloszenia/{made['pothole']}")
    assert hidden.status_code == missing.status_code == foreign.status_code == 404
    assert _main(hidden.text) == _main(missing.text)
    assert (await zgierz.get("/zgloszenia?status=closed")).text.count(made["pothole"]) == 0


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


async def test_following_records_a_follower_once(api: Api) -> None:
    client = api.client("zgierz")
    number = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    token, _ = await _token(client, f"/zgloszenia/{number}")
    headers = {"Origin": "http://zgierz.localhost"}
    bad = await client.post(f"/zgloszenia/{number}/obserwuj", data={"csrf_token": token, "email": "zly"},
                            headers=headers)
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    for _ in range(2):
        done = await client.post(f"/zgloszenia/{number}/obserwuj",
                                 data={"csrf_token": token, "email": "sasiad@example.pl"}, headers=headers)
        assert done.status_code == 303
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    ticket = await scope.get_ticket(number)
    followers = await scope.followers().filter(ticket_id=ticket.id)
    assert len(followers) == 1
    assert (await scope.reporter_contacts().get(id=followers[0].contact_id)).email == "sasiad@example.pl"  # type: ignore[attr-defined]
    assert (await scope.audit_events().filter(ticket_id=ticket.id, action="follow").count()) == 1
    page = await client.get(f"/zgloszenia/{number}")
    assert "sasiad@example.pl" not in page.text
    other = await api.client("nieporet").post(f"/zgloszenia/{number}/obserwuj",
                                              data={"csrf_token": token, "email": "x@example.pl"},
                                              headers={"Origin": "http://nieporet.localhost"})
    assert other.status_code in (403, 404)


async def test_nearby_open_reports_of_the_category(api: Api) -> None:
    client = api.client("zgierz")
    number = (await client.post("/api/v1/tickets", json=report(lat=51.8561, lon=19.4062))).json()["number"]
    near = await client.get("/zglos/podobne?category=pothole&lat=51.8565&lon=19.4062", headers={"X-Fragment": "1"})
    assert number in near.text and "<html" not in near.text
    far = await client.get("/zglos/podobne?category=pothole&lat=51.8800&lon=19.4400", headers={"X-Fragment": "1"})
    assert number not in far.text
    other_category = await client.get("/zglos/podobne?category=litter&lat=51.8561&lon=19.4062")
    assert number not in other_category.text and "<html" in other_category.text


async def test_an_unknown_key_is_fine_and_a_fresh_form_gets_a_fresh_key(api: Api) -> None:
    client = api.client("zgierz")
    _, one = await _token(client)
    _, two = await _token(client)
    assert one != two and uuid.UUID(one)


#: How to call each portal page with a path parameter (the report pages: web/portal/public_pages.py).
PAGES = {("GET", "/zgloszenia/{number}"): {}, ("POST", "/zgloszenia/{number}/obserwuj"): {"email": "a@example.pl"},
         ("GET", "/t/{number}"): {}}
MINE = ("/zglos", "/zgloszenia", "/mapa", "/t/")


async def test_another_city_s_numbers_are_unknown_on_every_report_page(api: Api) -> None:
    routes = sorted((m, p) for m, p in page_routes(api.app, MINE) if path_params(p))
    assert routes == sorted(PAGES), f"portal pages with path parameters this table does not cover: {routes}"
    theirs = (await api.client("nieporet").post("/api/v1/tickets", json={
        "category": "pothole", "description": "Nieporęt: dziura", "lat": 52.43, "lon": 21.03,
        "attributes": {"size": "small"}})).json()["number"]
    client = api.client("zgierz")
    token, _ = await _token(client)
    scope = TenantScope((await ensure_tenant("nieporet")).id)
    followers = await scope.followers().count()
    for method, template in routes:
        answers = []
        for number in (theirs, "NP-2026-000001", "ZG-2026-999999", "nie-numer"):
            form = {"csrf_token": token, **PAGES[(method, template)]} if method == "POST" else None
            answer = await client.request(method, fill(template, number=number), data=form,
                                          headers={"Origin": "http://zgierz.localhost"}, follow_redirects=True)
            assert answer.status_code == 404, (method, template, number, answer.text[:300])
            answers.append(_main(answer.text))
        assert len(set(answers)) == 1, (method, template)  # the same page for all: nothing tells them apart
        assert "Nieporęt" not in answers[0]
    assert await scope.followers().count() == followers
