"""Open311 GeoReport v2 server: every method in XML and JSON, the spec's shapes, the status rule, privacy."""

from __future__ import annotations

import pytest
from open311_helpers import (
    ATTRIBUTE_FIELDS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    ZGIERZ,
    api_key,
    plain,
    xml,
)
from web_helpers import Api, registry

pytestmark = pytest.mark.anyio


async def test_discovery_in_both_formats(api: Api) -> None:
    client = api.client("zgierz")
    as_json = (await client.get("/open311/v2/discovery.json")).json()
    assert set(as_json) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = as_json["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://zgierz.localhost/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    answer = await client.get("/open311/v2/discovery.xml")
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    document = xml(answer.content)
    assert document.tag == "discovery"
    assert plain(document)["endpoints"] == [{**{k: str(v) for k, v in endpoint.items() if k != "formats"},
                                             "formats": endpoint["formats"]}]


async def test_services_list_public_categories_in_polish_by_default(api: Api) -> None:
    client = api.client("zgierz")
    tenant = registry().tenants["zgierz"]
    services = (await client.get("/open311/v2/services.json")).json()
    public = [c for c in tenant.categories.values() if "public" in c.spec.intake]
    assert [s["service_code"] for s in services] == [c.name for c in public]
    pothole = next(s for s in services if s["service_code"] == "pothole")
    assert tuple(pothole) == SERVICE_FIELDS
    assert pothole["service_name"] == "Dziura w jezdni"
    assert pothole["metadata"] is True
    assert pothole["group"] == tenant.category_groups["roads"].name["pl"]
    english = (await client.get("/open311/v2/services.json", params={"locale": "en"})).json()
    assert next(s for s in english if s["service_code"] == "pothole")["service_name"] == "Pothole"
    by_header = (await client.get("/open311/v2/services.json", headers={"Accept-Language": "en"})).json()
    assert by_header == english
    as_xml = plain(xml((await client.get("/open311/v2/services.xml")).content))
    assert [s["service_code"] for s in as_xml] == [s["service_code"] for s in services]
    assert next(s for s in as_xml if s["service_code"] == "pothole")["metadata"] == "true"


async def test_service_definition_gives_every_datatype(api: Api) -> None:
    client = api.client("zgierz")
    lights = (await client.get("/open311/v2/services/streetlight_out.json")).json()
    assert lights["service_code"] == "streetlight_out"
    lamps, pole = lights["attributes"]
    assert tuple(lamps) == ATTRIBUTE_FIELDS
    assert (lamps["code"], lamps["datatype"], lamps["required"], lamps["order"]) == ("lamps", "number", True, 1)
    assert "od 1 do 100" in lamps["datatype_description"]
    assert (pole["datatype"], pole["required"], pole["order"]) == ("string", False, 2)
    pothole = (await client.get("/open311/v2/services/pothole.json")).json()
    size = pothole["attributes"][0]
    assert size["datatype"] == "singlevaluelist"
    assert size["values"][0] == {"key": "small", "name": "mała (do 30 cm)"}
    litter = (await client.get("/open311/v2/services/litter.json")).json()
    assert litter["attributes"][0]["datatype"] == "multivaluelist"
    document = xml((await client.get("/open311/v2/services/pothole.xml")).content)
    assert document.tag == "service_definition"
    values = document.findall("./attributes/attribute[1]/values/value")
    assert [v.findtext("key") for v in values] == ["small", "medium", "large"]


async def test_post_then_read_back_in_both_formats(api: Api) -> None:
    client = api.client("zgierz")
    key = await api_key(api, "zgierz")
    posted = await client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "streetlight_out", **ZGIERZ, "address_string": "ul. Długa 5",
        "description": "Nie świeci od tygodnia", "email": "jan@example.pl", "first_name": "Jan",
        "last_name": "Kowalski", "attribute[lamps]": "3", "attribute[pole_number]": "A-17",
    })
    assert posted.status_code == 201, posted.text
    [receipt] = posted.json()
    number = receipt["service_request_id"]
    assert number.startswith("ZG-")
    assert set(receipt) == {"service_request_id", "token", "service_notice", "account_id"}
    token = (await client.get(f"/open311/v2/tokens/{receipt['token']}.json")).json()
    assert token == [{"token": receipt["token"], "service_request_id": number}]
    [read] = (await client.get(f"/open311/v2/requests/{number}.json")).json()
    assert tuple(read) == REQUEST_FIELDS
    assert read["status"] == "open"
    assert read["status_notes"] == "Przyjęte"
    assert read["service_code"] == "streetlight_out"
    assert read["agency_responsible"] == registry().tenants["zgierz"].units["inwestycje"].name["pl"]
    assert read["requested_datetime"] == "2026-12-01T10:00:00+01:00"
    assert read["lat"] == 51.855 and read["long"] == 19.406
    assert read["address"] == "ul. Długa 5"
    text = (await client.get(f"/open311/v2/requests/{number}.json")).text
    for private in ("jan@example.pl", "Kowalski", "Nie świeci od tygodnia"):
        assert private not in text
    as_xml = xml((await client.get(f"/open311/v2/requests/{number}.xml")).content)
    assert as_xml.tag == "service_requests"
    assert plain(as_xml)[0] == {k: (None if v is None else str(v)) for k, v in read.items()}
