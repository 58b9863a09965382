"""Open311 GET requests: filters, defaults, paging, sync by updated_*, the status rule, privacy, idempotency."""

from __future__ import annotations

import io
from typing import Any

import pytest
from open311_helpers import ZGIERZ, api_key, plain, xml
from PIL import Image
from web_helpers import Api

from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio

ZG = "zgierz"


async def _post(api: Api, key: str, slug: str = ZG, **form: str) -> str:
    pothole = {} if "service_code" in form else {"service_code": "pothole", "attribute[size]": "small"}
    body = {"api_key": key, **pothole, **ZGIERZ, "description": "Dziura", **form}
    r = await api.client(slug).post("/open311/v2/requests.json", data=body)
    assert r.status_code == 201, r.text
    return str(r.json()[0]["service_request_id"])


def _ids(answer: Any) -> list[str]:
    return [r["service_request_id"] for r in answer.json()]


async def test_filters_defaults_and_paging(api: Api) -> None:
    client = api.client(ZG)
    key = await api_key(api, ZG)
    old = await _post(api, key)  # 2026-12-01 09:00 UTC
    api.clock.advance(days=100)
    numbers = [await _post(api, key) for _ in range(3)]
    lights = await _post(api, key, service_code="streetlight_out", **{"attribute[lamps]": "2"})
    everything = _ids(await client.get("/open311/v2/requests.json"))
    assert everything == [lights, *reversed(numbers)]  # newest first, the last 90 days only
    assert old not in everything
    assert _ids(await client.get("/open311/v2/requests.json", params={"service_code": "streetlight_out"})) == [lights]
    both = _ids(await client.get("/open311/v2/requests.json", params={"service_code": "streetlight_out,pothole"}))
    assert both == everything
    by_ids = await client.get("/open311/v2/requests.json", params={"service_request_id": f"{old},{lights}"})
    assert _ids(by_ids) == [lights, old]  # ids override the 90-day default
    window = {"start_date": "2026-11-30T00:00:00+01:00", "end_date": "2026-12-02T00:00:00Z"}
    assert _ids(await client.get("/open311/v2/requests.json", params=window)) == [old]
    assert _ids(await client.get("/open311/v2/requests.json", params={"status": "closed"})) == []
    assert _ids(await client.get("/open311/v2/requests.json", params={"status": "open,closed"})) == everything
    pages = [_ids(await client.get("/open311/v2/requests.json", params={"page_size": "3", "page": str(p)}))
             for p in (1, 2, 3)]
    assert pages == [everything[:3], everything[3:], []]
    as_xml = plain(xml((await client.get("/open311/v2/requests.xml", params={"page_size": "2"})).content))
    assert [r["service_request_id"] for r in as_xml] == everything[:2]


async def test_sync_by_updated_after(api: Api) -> None:
    client = api.client(ZG)
    key = await api_key(api, ZG)
    first, second = await _post(api, key), await _post(api, key)
    scope = TenantScope((await ensure_tenant(ZG)).id)
    rows = {t.number: t for t in await scope.tickets().all()}
    cut = max(t.updated_at for t in rows.values())
    assert _ids(await client.get("/open311/v2/requests.json", params={"updated_after": cut.isoformat()})) == []
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    r = await client.post(f"/api/v1/tickets/{first}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    changed = _ids(await client.get("/open311/v2/requests.json", params={"updated_after": cut.isoformat()}))
    assert changed == [first]
    before = _ids(await client.get("/open311/v2/requests.json", params={"updated_before": cut.isoformat()}))
    assert second not in before or rows[second].updated_at < cut


async def test_status_follows_the_process_with_public_notes(api: Api) -> None:
    client = api.client(ZG)
    key = await api_key(api, ZG)
    number = await _post(api, key)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    worker = await api.staff(ZG, "drogi@zgierz.pl", "drogi:worker")
    r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    [read] = (await client.get(f"/open311/v2/requests/{number}.json")).json()
    assert (read["status"], read["status_notes"]) == ("open", "W realizacji")
    assert read["expected_datetime"] is not None and read["expected_datetime"].endswith("+01:00")
    assert read["service_notice"].startswith("Planowany termin załatwienia: ")
    r = await client.post(f"/api/v1/tickets/{number}/comments", json={"body": "Ekipa wyjedzie jutro",
                                                                      "visibility": "public"}, headers=dispatcher)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/tickets/{number}/comments", json={"body": "tajna notatka",
                                                                      "visibility": "internal"}, headers=dispatcher)
    assert r.status_code == 201, r.text
    [read] = (await client.get(f"/open311/v2/requests/{number}.json")).json()
    assert read["status_notes"] == "W realizacji: Ekipa wyjedzie jutro"
    english = (await client.get(f"/open311/v2/requests/{number}.json", params={"locale": "en"})).json()[0]
    assert english["status_notes"] == "In progress: Ekipa wyjedzie jutro"
    r = await client.post(f"/api/v1/tickets/{number}/tasks/T1/complete", json={}, headers=worker)
    assert r.status_code == 200, r.text
    [read] = (await client.get(f"/open311/v2/requests/{number}.json")).json()
    assert (read["status"], read["status_notes"]) == ("closed", "Załatwione: Ekipa wyjedzie jutro")
    assert read["service_notice"] is None
    assert "tajna" not in (await client.get("/open311/v2/requests.json")).text


async def test_privacy_hidden_blurred_photos(api: Api, tmp_path: Any) -> None:
    api.app.state.media_storage = LocalStorage(tmp_path / "media")
    client = api.client(ZG)
    key = await api_key(api, ZG)
    hidden = await _post(api, key, service_code="night_noise", email="jan@example.pl",
                         **{"attribute[source]": "flat"})
    blurred = await _post(api, key, service_code="illegal_parking", lat="51.85567", long="19.40649",
                          address_string="ul. Długa 5", **{"attribute[obstruction]": "pavement"})
    shown = await _post(api, key, media_url="https://example.org/zdjecie.jpg")
    assert (await client.get(f"/open311/v2/requests/{hidden}.json")).status_code == 404
    listed = (await client.get("/open311/v2/requests.json")).json()
    assert [r["service_request_id"] for r in listed] == [shown, blurred]
    parking = listed[1]
    assert (parking["lat"], parking["long"], parking["address"]) == (51.856, 19.406, None)
    assert listed[0]["media_url"] is None  # a client's media_url is no photo of ours: kept for staff only
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 20, 30)).save(picture, "JPEG")
    photos = []
    for visibility in ("internal", "public", "public"):
        r = await client.post(f"/api/v1/tickets/{shown}/attachments", headers=dispatcher, data={
            "visibility": visibility}, files={"file": ("a.jpg", picture.getvalue(), "image/jpeg")})
        assert r.status_code == 201, r.text
        photos.append(r.json()["id"])
    [read] = (await client.get(f"/open311/v2/requests/{shown}.json")).json()
    assert read["media_url"] == f"http://zgierz.localhost/api/v1/public/tickets/{shown}/photos/{photos[1]}"
    assert (await client.get(read["media_url"].removeprefix("http://zgierz.localhost"))).status_code == 200
    r = await client.post(f"/api/v1/tickets/{shown}/attachments/{photos[1]}/hide", json={"reason": "twarz"},
                          headers=dispatcher)
    assert r.status_code == 200, r.text
    [read] = (await client.get(f"/open311/v2/requests/{shown}.json")).json()
    assert read["media_url"].endswith(f"/photos/{photos[2]}")


async def test_another_citys_requests_and_tokens_are_unknown(api: Api) -> None:
    zg, np = api.client(ZG), api.client("nieporet")
    np_key = await api_key(api, "nieporet")
    r = await np.post("/open311/v2/requests.json", data={"api_key": np_key, "service_code": "pothole", "lat": "52.43",
                                                         "long": "21.03", "description": "Dziura",
                                                         "attribute[size]": "small"})
    assert r.status_code == 201, r.text
    theirs, token = r.json()[0]["service_request_id"], r.json()[0]["token"]
    assert theirs.startswith("NP-")
    missing = (await zg.get("/open311/v2/requests/NP-2026-999999.json")).json()
    assert (await zg.get(f"/open311/v2/requests/{theirs}.json")).json() == missing
    unknown = [{"code": 404, "description": "token not found"}]
    assert (await zg.get(f"/open311/v2/tokens/{token}.json")).json() == unknown
    assert (await zg.get("/open311/v2/requests.json", params={"service_request_id": theirs})).json() == []
    home = (await np.get(f"/open311/v2/tokens/{token}.json")).json()
    assert home == [{"token": token, "service_request_id": theirs}]


async def test_idempotency_key_and_a_multivaluelist(api: Api) -> None:
    client = api.client(ZG)
    key = await api_key(api, ZG)
    form = (f"api_key={key}&service_code=litter&lat=51.855&long=19.406&description=Szk%C5%82o"
            "&attribute%5Bkind%5D%5B%5D=glass&attribute%5Bkind%5D%5B%5D=syringes")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "aplikacja-42"}
    first = await client.post("/open311/v2/requests.json", content=form, headers=headers)
    again = await client.post("/open311/v2/requests.xml", content=form, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    [receipt] = first.json()
    assert plain(xml(again.content)) == [{k: (None if v is None else str(v)) for k, v in receipt.items()}]
    scope = TenantScope((await ensure_tenant(ZG)).id)
    tickets = await scope.tickets().all()
    assert [t.number for t in tickets] == [receipt["service_request_id"]]
    ticket: Ticket = tickets[0]
    assert ticket.channel == "open311"
    attributes = {a.name: a.value for a in await scope.ticket_attributes().filter(ticket_id=ticket.id)}
    assert attributes == {"kind": {"value": ["glass", "syringes"]}}
    changed = form.replace("Szk%C5%82o", "Inne")
    r = await client.post("/open311/v2/requests.json", content=changed, headers=headers)
    assert r.status_code == 400 and "Idempotency-Key" in r.json()[0]["description"]
    other = form.replace(key, await api_key(api, ZG, "inna aplikacja"))  # keys are each application's own
    r = await client.post("/open311/v2/requests.json", content=other, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()[0]["service_request_id"] != receipt["service_request_id"]
