"""One set of Polish queries over one town of tickets: the same tickets on SQLite and PostgreSQL.

The expected results are written here, not computed, so the SQLite run and the
PostgreSQL run check against the very same lists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from search_dataset import NP, TICKETS, ZG, Town, file_tickets, number, open_town, staff

#: query → the sequence numbers of the Zgierz tickets it finds (ZG-2026-0000NN)
EXPECTED: dict[str, set[int]] = {
    # diacritics folded both ways, any case
    "zolw": {4, 40},
    "Żółw": {4, 40},
    "ŻÓŁWIA": {40},
    "labedz": {31},
    "Łabędź": {31},
    # ł/Ł, which Unicode does not decompose
    "lodzka": {1, 25, 27},
    "ŁÓDŹ": {1, 25, 27},
    "Źródł": {8},
    # every word a prefix, all words required
    "dluga": {2, 28, 37},
    "Długa 5": {2, 37},
    "swieci latarnia": {7, 8},
    "szkl strzyk": {23},
    "dzi": {1, 2, 9, 10, 30, 40},
    "wysyp": {9, 10, 24},
    "rowerow": {29},
    "park": {16, 22, 36},  # 22: "Illegally parked vehicle", the category's English name
    # attribute values: by code and by their Polish and English labels
    "huśtawka": {16},
    "swing": {16},
    "opony": {9},
    "tyres": {9},
    "pieszych": {22},
    # edits, reclassification and public comments are searchable at once
    "podstaw": {3},
    "chodnik koleiny": {42},
    "jezdni koleiny": set(),
    "zarowk": {7},
    "należy zarządcy": {26},
    # never internal notes, messages to the reporter, or the reporter's contact data
    "kowalczyk": set(),
    "poufne": set(),
    "dziekujemy": set(),
    "tajemniczy": set(),
    "zdzislaw": set(),
    "poczta": set(),
    "600 100": set(),
    # ticket numbers: exact lookup, any case, with or without the zero padding
    "ZG-2026-7": {7},
    "zg-2026-000040": {40},
    " ZG-2026-0042 ": {42},
    "NP-2026-1": set(),
    "000007": {7},
    # what looks like search syntax is only words
    '"': set(),
    "*": set(),
    ":": set(),
    "NEAR(": set(),
    "AND": {17},  # ul. Andrzeja
    "dziura:*": {1, 2, 40},
    '"dziura" OR "kot"': set(),
    "dziura AND jezdni": set(),
    "NOT dziura": set(),
    "document:zolw": set(),
    "'; DROP TABLE tickets; --": set(),
    "\\ % _ ( ) { } ^ -": set(),
}


@pytest.fixture
async def town(db: str) -> AsyncIterator[Town]:
    """Both towns' tickets, filed through the API on a clean database."""
    made = open_town()
    try:
        await file_tickets(made)
        yield made
    finally:
        await made.close()


async def test_polish_queries_find_the_same_tickets_on_every_database(town: Town) -> None:
    assert len(TICKETS) >= 40 and len(EXPECTED) >= 15
    found = {}
    for q in EXPECTED:
        numbers = await town.search(ZG, q)
        assert len(numbers) == len(set(numbers)), q
        found[q] = {int(n.rsplit("-", 1)[1]) for n in numbers}
        assert all(n.startswith("ZG-") for n in numbers), (q, numbers)
    assert found == EXPECTED


async def test_a_city_never_finds_another_citys_tickets(town: Town) -> None:
    assert await town.search(NP, "zolw") == [number(1, "NP")]
    assert await town.search(NP, "łódzkiej") == [number(2, "NP")]
    assert await town.search(NP, "ZG-2026-000004") == []
    assert await town.search(NP, "swing") == []
    # the same words in Zgierz: only Zgierz's tickets
    assert set(await town.search(ZG, "martwy")) == {number(4)}
    assert set(await town.search(ZG, "plaży")) == set()


async def test_search_stays_within_what_the_user_may_see(town: Town) -> None:
    roads = await staff(ZG, "drogi@zgierz.pl", "drogi:worker")  # sees the roads department's tickets
    assert set(await town.search(ZG, "zolw", roads)) == {number(40)}  # not 4, a dead animal
    assert set(await town.search(ZG, "park", roads)) == set()
    # and within the structured filters
    assert set(await town.search(ZG, "zolw", category="dead_animal")) == {number(4)}
    assert set(await town.search(ZG, "dluga", unit="drogi", category="pothole")) == {number(2)}


async def test_search_pages_by_cursor_in_either_order(town: Town) -> None:
    everything = set(await town.search(ZG, "dzi"))
    assert len(everything) == 6
    for sort in ("created", "due"):
        pages = await town.search(ZG, "dzi", sort=sort, limit=2)
        assert len(pages) == len(set(pages)) and set(pages) == everything
    newest_first = await town.search(ZG, "dzi", limit=4)
    assert newest_first == sorted(newest_first, reverse=True)


async def test_a_cursor_of_another_sort_is_refused(town: Town) -> None:
    client = town.clients[ZG]
    r = await client.get("/api/v1/tickets", params={"q": "dzi", "limit": 2}, headers=town.dispatcher[ZG])
    cursor = r.json()["next_cursor"]
    assert cursor
    r = await client.get("/api/v1/tickets", params={"q": "dzi", "limit": 2, "sort": "due", "cursor": cursor},
                         headers=town.dispatcher[ZG])
    assert r.status_code == 422
    assert r.json()["field"] == "cursor"
    r = await client.get("/api/v1/tickets", params={"cursor": "nonsense!"}, headers=town.dispatcher[ZG])
    assert r.status_code == 422
