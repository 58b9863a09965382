"""The city's addresses and boundary (#15) on both databases: import, search, nearest, the boundary at intake,
the district of a ticket, and each city seeing only its own addresses."""

from __future__ import annotations

from pathlib import Path

import pytest
from open311_helpers import api_key
from web_helpers import Api, registry, report

from komunikator.engine.geo.projection import wgs84_to_puwg1992
from komunikator.engine.service import addresses
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import AddressPoint
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
ZG, NP = "zgierz", "nieporet"
HEADER = "PA_IIP_IDENTYFIKATOR;MIEJSCOWOSC;ULICA;NUMER_PORZADKOWY;KOD_POCZTOWY;STATUS;X;Y\n"


def _row(ident: str, street: str, number: str, lat: float, lon: float, place: str = "Zgierz",
         postcode: str = "95-100", status: str = "istniejący") -> str:
    x, y = wgs84_to_puwg1992(lat, lon)
    return f"{ident};{place};{street};{number};{postcode};{status};{x:.2f};{y:.2f}\n"


#: A small register of Zgierz: ul. Długa with numbers in an order a string sort would get wrong.
ZGIERZ = HEADER + "".join([
    _row("a1", "ul. Długa", "2", 51.8590, 19.4103),
    _row("a2", "ul. Długa", "10", 51.8592, 19.4110),
    _row("a3", "ul. Długa", "10A", 51.8593, 19.4112),
    _row("a4", "ul. Długa", "1", 51.8589, 19.4101),
    _row("a5", "ul. Łęczycka", "5", 51.8601, 19.3902),
    _row("a6", "ul. Dąbrowskiego", "7", 51.8575, 19.4170),
    _row("a7", "ul. Długa", "99", 51.8600, 19.4150, status="prognozowany"),  # not an existing address: skipped
])


async def _scope(slug: str) -> TenantScope:
    return TenantScope((await ensure_tenant(slug)).id)


async def test_import_search_and_nearest(api: Api, db: str) -> None:
    scope = await _scope(ZG)
    result = await addresses.import_addresses(scope, registry().tenants[ZG], ZGIERZ)
    assert (result.imported, result.replaced, result.in_districts) == (6, 0, 6)
    client = api.client(ZG)
    r = await client.get("/api/v1/addresses", params={"q": "dluga"})
    assert r.status_code == 200, r.text
    assert [i["label"] for i in r.json()["items"]] == [
        "ul. Długa 1, Zgierz", "ul. Długa 2, Zgierz", "ul. Długa 10, Zgierz", "ul. Długa 10A, Zgierz"]
    r = await client.get("/api/v1/addresses", params={"q": "ul. Długa 10"})
    assert [i["number"] for i in r.json()["items"]] == ["10", "10A"]
    r = await client.get("/api/v1/addresses", params={"q": "ŁĘCZ"})
    [hit] = r.json()["items"]
    assert (hit["street"], hit["number"], hit["postcode"], hit["district"]) == ("ul. Łęczycka", "5", "95-100",
                                                                               registry().tenants[ZG].geography
                                                                               .district_at(51.8601, 19.3902).key)
    assert abs(hit["lat"] - 51.8601) < 1e-6 and abs(hit["lon"] - 19.3902) < 1e-6  # PUWG 1992 there and back
    assert (await client.get("/api/v1/addresses", params={"q": "Piotrkowska"})).json() == {"items": []}
    r = await client.get("/api/v1/addresses/nearest", params={"lat": 51.85925, "lon": 19.41105})
    assert r.status_code == 200, r.text
    near = r.json()["address"]
    assert near["label"] == "ul. Długa 10, Zgierz" and 0 < near["distance_m"] < 10
    far = await client.get("/api/v1/addresses/nearest", params={"lat": 51.83, "lon": 19.35})
    assert far.json() == {"address": None}  # nothing within a kilometre
    for bad in ({"q": "d"}, {"q": "x" * 101}, {"q": "dluga", "limit": 0}, {}):
        assert (await client.get("/api/v1/addresses", params=bad)).status_code == 422, bad
    assert (await client.get("/api/v1/addresses/nearest", params={"lat": 95, "lon": 19})).status_code == 422


async def test_each_city_searches_only_its_own_addresses(api: Api, db: str) -> None:
    await addresses.import_addresses(await _scope(ZG), registry().tenants[ZG], ZGIERZ)
    np = api.client(NP)
    assert (await np.get("/api/v1/addresses", params={"q": "dluga"})).json() == {"items": []}
    assert (await np.get("/api/v1/addresses/nearest", params={"lat": 51.8592, "lon": 19.4110})).json() == {
        "address": None}


async def test_a_bad_file_writes_nothing_and_a_good_one_replaces(api: Api, db: str) -> None:
    scope = await _scope(ZG)
    tenant = registry().tenants[ZG]
    await addresses.import_addresses(scope, tenant, ZGIERZ)
    bad = HEADER + "".join([
        _row("b1", "ul. Długa", "3", 51.8591, 19.4104),
        _row("b2", "ul. Długa", "trzy", 51.8591, 19.4104),
        _row("b3", "ul. Długa", "5", 51.8591, 19.4104, postcode="95100"),
        _row("b4", "ul. Długa", "3", 51.8591, 19.4105),
        _row("b5", "ul. Piotrkowska", "1", 51.7709, 19.4594, place="Łódź"),
        _row("b6", "ul. Rogatka", "1", 51.8160, 19.3310),  # inside the map's bounds, outside the boundary
    ])
    with pytest.raises(addresses.AddressImportRefused) as refused:
        await addresses.import_addresses(scope, tenant, bad)
    assert [(b.line, b.message) for b in refused.value.bad] == [
        (3, "'trzy' is not a house number (12, 12A, 12/14)"),
        (4, "'95100' is not a postcode (NN-NNN)"),
        (5, "ul. Długa 3, Zgierz is given twice (first on line 2)"),
        (6, "ul. Piotrkowska 1 lies outside the city (51.77090, 19.45940)"),
        (7, "ul. Rogatka 1 lies outside the city (51.81600, 19.33100)"),
    ]
    assert await scope.query(AddressPoint).count() == 6  # nothing written, nothing removed
    good = HEADER + _row("c1", "ul. Nowa", "1", 51.8550, 19.4060)
    result = await addresses.import_addresses(scope, tenant, good)
    assert (result.imported, result.replaced) == (1, 6)
    assert [p.street for p in await scope.query(AddressPoint).all()] == ["ul. Nowa"]
    assert await (await _scope(NP)).query(AddressPoint).count() == 0


async def test_wgs84_columns_and_a_village_without_streets(api: Api, db: str) -> None:
    scope = await _scope(NP)
    text = ("MIEJSCOWOSC,ULICA,NUMER_PORZADKOWY,KOD_POCZTOWY,SZEROKOSC,DLUGOSC\n"
            "Rynia,,12,05-126,\"52,4605\",\"21,0160\"\n"
            "Nieporęt,ul. Dworcowa,3/5,05-126,52.4275,21.0350\n")
    result = await addresses.import_addresses(scope, registry().tenants[NP], text)
    assert result.imported == 2
    client = api.client(NP)
    [village] = (await client.get("/api/v1/addresses", params={"q": "ryni 1"})).json()["items"]
    assert (village["label"], village["street"], village["district"]) == ("Rynia 12", None, "rynia")
    [street] = (await client.get("/api/v1/addresses", params={"q": "dworcowa 3/"})).json()["items"]
    assert street["label"] == "ul. Dworcowa 3/5, Nieporęt"


async def test_the_demo_registers_import_inside_their_boundaries(api: Api, db: str) -> None:
    for slug in (ZG, NP):
        path = Settings.from_env().tenants_dir / slug / "adresy.csv"
        result = await addresses.import_addresses(await _scope(slug), registry().tenants[slug],
                                                  Path(path).read_text(encoding="utf-8"))
        assert result.imported > 300 and result.in_districts == result.imported


async def test_intake_refuses_a_pin_outside_the_boundary_and_marks_the_district(api: Api, db: str) -> None:
    client = api.client(ZG)
    tenant = registry().tenants[ZG]
    assert tenant.config.map.bounds.south < 51.816 and tenant.config.map.bounds.west < 19.331
    r = await client.post("/api/v1/tickets", json=report(lat=51.816, lon=19.331))  # a corner of the map's bounds
    assert r.status_code == 422, r.text
    assert r.json() == {"error": "outside_tenant", "field": "lat",
                        "message": "the location lies outside the city's boundary: the city takes reports only "
                                   "within it"}
    r = await client.post("/api/v1/tickets", json=report())
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    scope = await _scope(ZG)
    assert (await scope.get_ticket(number)).district == tenant.geography.district_at(51.855, 19.406).key == "centrum"
    # a dispatcher moves the pin to another district: the ticket follows, and the history says so
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    r = await client.patch(f"/api/v1/tickets/{number}", json={"lat": 51.8835, "lon": 19.4010}, headers=dispatcher)
    assert r.status_code == 200, r.text
    ticket = await scope.get_ticket(number)
    assert ticket.district == "rudunki"
    edit = await scope.audit_events().filter(ticket_id=ticket.id, action="edit").first()
    assert edit is not None and (edit.before["district"], edit.after["district"]) == ("centrum", "rudunki")
    r = await client.patch(f"/api/v1/tickets/{number}", json={"lat": 51.816, "lon": 19.331}, headers=dispatcher)
    assert r.status_code == 422 and r.json()["error"] == "outside_tenant"


async def test_lookups_are_rate_limited(api: Api, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_ADDRESS_LOOKUPS_PER_MINUTE", "3")
    client = api.client(ZG)
    codes = [(await client.get("/api/v1/addresses", params={"q": "dluga"})).status_code for _ in range(3)]
    refused = await client.get("/api/v1/addresses/nearest", params={"lat": 51.85, "lon": 19.4})
    assert codes == [200, 200, 200] and refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    api.clock.advance(seconds=61)
    assert (await client.get("/api/v1/addresses", params={"q": "dluga"})).status_code == 200


async def test_the_registers_identifiers_are_kept_and_name_a_point_for_open311(api: Api, db: str) -> None:
    """PRG's PA_IIP_IDENTYFIKATOR stays with its point through re-imports, is shown as `ref`, and is what
    Open311's `address_id` names: the point is the pin (unless lat/long are given) and its label the address;
    an identifier the city does not have — another city's too — is a 400 that says so."""
    scope, tenant = await _scope(ZG), registry().tenants[ZG]
    await addresses.import_addresses(scope, tenant, ZGIERZ)
    client = api.client(ZG)
    [hit] = (await client.get("/api/v1/addresses", params={"q": "łęczycka 5"})).json()["items"]
    assert hit["ref"] == "a5"
    first_id = (await scope.query(AddressPoint).get(ref="a5")).id
    await addresses.import_addresses(scope, tenant, ZGIERZ)  # the register exported again: new rows, same refs
    assert (await scope.query(AddressPoint).get(ref="a5")).id != first_id
    assert (await addresses.by_ref(scope, " a5 ")).label == "ul. Łęczycka 5, Zgierz"  # type: ignore[union-attr]
    # an identifier given twice in one file is a bad row, like an address given twice
    twice = HEADER + _row("z1", "ul. Nowa", "1", 51.855, 19.406) + _row("z1", "ul. Nowa", "2", 51.855, 19.407)
    with pytest.raises(addresses.AddressImportRefused) as refused:
        await addresses.import_addresses(scope, tenant, twice)
    twice_said = "the identifier 'z1' is given twice (first on line 2)"
    assert [(b.line, b.message) for b in refused.value.bad] == [(3, twice_said)]
    await addresses.import_addresses(await _scope(NP), registry().tenants[NP],
                                     HEADER + _row("n1", "ul. Dworcowa", "3", 52.4275, 21.0350, place="Nieporęt"))

    key = await api_key(api, ZG)
    form = {"api_key": key, "service_code": "streetlight_out", "description": "Nie świeci",
            "attribute[lamps]": "1"}
    posted = await client.post("/open311/v2/requests.json", data={**form, "address_id": "a5"})
    assert posted.status_code == 201, posted.text
    ticket = await scope.get_ticket(posted.json()[0]["service_request_id"])
    assert (ticket.address, round(ticket.lat, 5), round(ticket.lon, 5)) == ("ul. Łęczycka 5, Zgierz", 51.8601,
                                                                           19.3902)
    # lat/long given too: they are the pin (in front of the house), the identifier names the address
    posted = await client.post("/open311/v2/requests.json",
                               data={**form, "address_id": "a5", "lat": "51.8603", "long": "19.3905"})
    ticket = await scope.get_ticket(posted.json()[0]["service_request_id"])
    assert (ticket.address, ticket.lat, ticket.lon) == ("ul. Łęczycka 5, Zgierz", 51.8603, 19.3905)
    for unknown in ("n1", "a99", "x" * 200):  # Nieporęt's point, none, too long
        refused_post = await client.post("/open311/v2/requests.json", data={**form, "address_id": unknown})
        assert refused_post.status_code == 400, unknown
        assert "is not an address of this city" in refused_post.text
