"""A fixed town of tickets for the search tests, filed through the API, and the client that files them.

Ticket numbers follow the order of `TICKETS` (ZG-2026-000001 is the first), so
the expected results name tickets by that sequence number on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.service import accounts
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

ZG, NP = "zgierz", "nieporet"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET_REPORTER = {"name": "Zdzisław Tajemniczy", "email": "zdzislaw.tajemniczy@poczta.pl", "phone": "+48 600 100 200"}

# (category, description, address, attributes); ticket n is TICKETS[n - 1]
TICKETS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("pothole", "Głęboka dziura na ulicy Łódzkiej przy przystanku", "ul. Łódzka 12", {"size": "large"}),
    ("pothole", "Wyrwa w asfalcie, samochody ją omijają", "ul. Długa 5", {"size": "small", "lane_blocked": "fully"}),
    ("pavement_damage", "Zapadnięte płyty chodnikowe przed szkołą", "ul. Szkolna 3", {"surface": "slabs"}),
    ("dead_animal", "Na poboczu leży martwy żółw", "ul. Leśna 40", {"species": "other"}),
    ("dead_animal", "Potrącony kot na jezdni", "al. Jana Pawła II", {"species": "cat", "size": "small"}),
    ("stray_dog", "Agresywny pies biega po osiedlu Rudunki", "os. Rudunki", {}),
    ("streetlight_out", "Nie świeci latarnia od tygodnia", "ul. Łęczycka 7", {"lamps": 2, "pole_number": "L-123"}),
    ("streetlight_out", "Ciemno na całej ulicy, trzy lampy zgaszone", "ul. Źródłowa 1", {"lamps": 3}),
    ("illegal_dumping", "Gruz i opony w lesie za cmentarzem", "ul. Piątkowska",
     {"waste_type": ["construction", "tyres"]}),
    ("illegal_dumping", "Worki ze śmieciami przy zagajniku", "Las Krogulec",
     {"waste_type": ["household"], "volume": "bags"}),
    ("fallen_tree", "Złamany konar blokuje chodnik po burzy", "ul. Żeromskiego 2", {"blocking": "pavement"}),
    ("fallen_tree", "Drzewo przewróciło się na linię energetyczną", "ul. Ozorkowska 101", {"blocking": "power_line"}),
    ("graffiti", "Obraźliwe napisy na ścianie przychodni", "ul. Dąbrowskiego 21",
     {"content": "offensive", "area_m2": 4}),
    ("night_noise", "Głośna muzyka z lokalu do 3 w nocy", "ul. Błonie 8", {"source": "venue"}),
    ("water_leak", "Woda wycieka spod studzienki, łąka zalana", "ul. Łąkowa 9", {}),
    ("playground_damage", "Zepsuta huśtawka na placu zabaw", "Park Miejski", {"equipment": "swing"}),
    ("playground_damage", "Ostre krawędzie zjeżdżalni", "plac zabaw przy ul. Andrzeja 4", {"equipment": "slide"}),
    ("icy_pavement", "Ślisko, oblodzony chodnik przy aptece", "ul. Chełmska 14", {}),
    ("snow_on_road", "Nieodśnieżona droga dojazdowa do szpitala", "ul. Parzęczewska 35", {}),
    ("sewer_overflow", "Nieprzyjemny odór z kanalizacji", "ul. Słowackiego 30", {}),
    ("abandoned_vehicle", "Wrak auta bez tablic od miesięcy", "ul. Mielczarskiego", {"vehicle_type": "car"}),
    ("illegal_parking", "Samochód zastawia przejście dla pieszych", "ul. Dubois 15", {"obstruction": "crossing"}),
    ("litter", "Stłuczone szkło i strzykawki na trawniku", "ul. Konstantynowska", {"kind": ["glass", "syringes"]}),
    ("overflowing_bin", "Kosz przepełniony, śmieci wysypują się na chodnik", "Stary Rynek", {}),
    ("traffic_light_failure", "Sygnalizacja miga na żółto", "skrzyżowanie Łódzka / Piłsudskiego",
     {"fault": "flashing"}),
    ("sign_damaged", "Przewrócony znak stopu", "ul. Wschodnia", {"sign_code": "B-20"}),
    ("road_markings", "Wytarte pasy na przejściu", "ul. Łódzka 50", {}),
    ("manhole_cover", "Brak pokrywy studzienki — niebezpiecznie!", "ul. Długa 40", {}),
    ("cycle_path_damage", "Korzenie podniosły nawierzchnię ścieżki rowerowej wzdłuż Bzury", "bulwar nad Bzurą",
     {"surface": "asphalt"}),
    ("wild_animal", "Dziki ryją trawnik przy blokach", "os. Przybyłów", {"species": "boar", "count": 5}),
    ("injured_animal", "Ranny łabędź przy stawie", "Malinka", {}),
    ("tree_hazard", "Pochylona topola grozi upadkiem", "ul. Spacerowa", {}),
    ("neglected_greenery", "Wysoka trawa zasłania widoczność", "ul. Rembowskiego", {}),
    ("lamp_post_damaged", "Słup oświetleniowy pochylony po kolizji", "ul. Aleksandrowska", {}),
    ("construction_noise", "Hałas z budowy w niedzielę o 6 rano", "ul. Kurak", {"hours": "6:00–8:00"}),
    ("damaged_property", "Zniszczona ławka w parku", "Park Miejski", {"object": "bench"}),
    ("blocked_drain", "Zalana jezdnia po deszczu, niedrożna kratka", "ul. Długa 5", {}),
    ("bulky_waste_dumped", "Stara kanapa i szafa przy altanie", "ul. Sosnowa 3", {}),
    ("missed_collection", "Nie odebrano odpadów segregowanych", "ul. Leśna 2", {"fractions": ["paper", "glass"]}),
    ("pothole", "ŻÓŁW na drodze?! Nie, to dziura w kształcie żółwia", "ul. ŁOKIETKA 1", {"size": "medium"}),
    ("pavement_damage", "Kostka brukowa wystaje", "ul. Mickiewicza", {"surface": "cobbles"}),
    ("pothole", "Koleiny", "ul. Zgierska", {"size": "small"}),
]

#: Nieporęt's tickets share words with Zgierz's: a search in one city never finds the other's.
NIEPORET_TICKETS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("dead_animal", "Martwy żółw na plaży", "ul. Długa 1", {}),
    ("pothole", "Dziura na ulicy Łódzkiej w Nieporęcie", "ul. Łódzka 3", {"size": "large"}),
]


@cache
def registry() -> TenantRegistry:
    """The shipped tenants, compiled once."""
    return TenantRegistry.load(Settings.from_env())


def compiled(slug: str) -> CompiledTenant:
    """A shipped tenant's compiled configuration."""
    return registry().tenants[slug]


@dataclass
class Town:
    """The app with a client per tenant, and a dispatcher's headers in each."""

    clients: dict[str, httpx.AsyncClient]
    dispatcher: dict[str, dict[str, str]]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def search(self, slug: str, q: str | None = None, headers: dict[str, str] | None = None,
                     **params: Any) -> list[str]:
        """Every number the list returns for `q`, following cursors."""
        numbers: list[str] = []
        query: dict[str, Any] = {"limit": 200, **params}
        if q is not None:
            query["q"] = q
        while True:
            r = await self.clients[slug].get("/api/v1/tickets", params=query,
                                             headers=headers or self.dispatcher[slug])
            assert r.status_code == 200, (q, r.text)
            numbers += [item["number"] for item in r.json()["items"]]
            if not r.json()["next_cursor"]:
                return numbers
            query["cursor"] = r.json()["next_cursor"]


async def staff(slug: str, email: str, *memberships: str) -> dict[str, str]:
    """A staff member with memberships `unit:role`; their auth header."""
    scope = TenantScope((await ensure_tenant(slug)).id)
    user = await accounts.create_user(scope, email, email.split("@")[0], password=None)
    for membership in memberships:
        unit, role = membership.split(":")
        await accounts.grant(scope, compiled(slug), user, unit, role)
    raw, _ = await accounts.create_token(scope, user, "tests")
    return {"Authorization": f"Bearer {raw}"}


def open_town() -> Town:
    """The app on the test database (Tortoise already initialised by the `db` fixture)."""
    app = create_app(registry(), init_database=False, clock=lambda: NOW)
    clients = {
        slug: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                headers={"Host": f"{slug}.localhost"})
        for slug in registry().tenants
    }
    return Town(clients, {})


def _body(slug: str, category: str, description: str, address: str, attributes: dict[str, Any],
          reporter: dict[str, str] | None = None) -> dict[str, Any]:
    center = compiled(slug).config.map.center
    return {"category": category, "description": description, "address": address, "attributes": attributes,
            "lat": center.lat, "lon": center.lon,
            "reporter": reporter or {"name": "Jan Kowalski", "email": "jan.kowalski@example.pl"}}


async def file_tickets(town: Town) -> None:
    """File every ticket of both towns, then the changes the queries look for."""
    town.dispatcher[ZG] = await staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    town.dispatcher[NP] = await staff(NP, "urzad@nieporet.pl", "urzad:dispatcher")
    zg = town.clients[ZG]
    for n, (category, description, address, attributes) in enumerate(TICKETS, start=1):
        reporter = SECRET_REPORTER if n == 1 else None
        r = await zg.post("/api/v1/tickets", json=_body(ZG, category, description, address, attributes, reporter))
        assert r.status_code == 201, (n, r.text)
        assert r.json()["number"] == number(n)
    for category, description, address, attributes in NIEPORET_TICKETS:
        r = await town.clients[NP].post("/api/v1/tickets", json=_body(NP, category, description, address, attributes))
        assert r.status_code == 201, r.text

    headers = town.dispatcher[ZG]

    async def post(path: str, body: dict[str, Any]) -> None:
        r = await zg.post(path, json=body, headers=headers)
        assert r.status_code in (200, 201), (path, r.text)

    r = await zg.patch(f"/api/v1/tickets/{number(3)}",
                       json={"description": "Zapadnięte płyty chodnikowe przed szkołą podstawową nr 5"},
                       headers=headers)
    assert r.status_code == 200, r.text
    await post(f"/api/v1/tickets/{number(7)}/comments",
               {"body": "Ekipa wymieni żarówkę w czwartek", "visibility": "public"})
    await post(f"/api/v1/tickets/{number(8)}/comments",
               {"body": "Sprawca: sąsiad Kowalczyk, poufne", "visibility": "internal"})
    await post(f"/api/v1/tickets/{number(9)}/comments",
               {"body": "Dziękujemy, sprawdzimy teren", "visibility": "to_reporter"})
    await post(f"/api/v1/tickets/{number(42)}/actions/reclassify", {"category": "pavement_damage"})
    # a transition with a public comment: the comment is searchable once the action commits
    await post(f"/api/v1/tickets/{number(26)}/actions/reject",
               {"public_comment": "Znak należy do zarządcy drogi krajowej"})


def number(n: int, prefix: str = "ZG") -> str:
    """The number of the n-th ticket filed in 2026."""
    return f"{prefix}-2026-{n:06d}"
