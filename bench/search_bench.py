"""How fast ticket search is on PostgreSQL with many tickets, against the same query written by hand.

Run from the repository root (PostgreSQL must be running):

    .venv/bin/python bench/search_bench.py                       # 1,000,000 tickets
    .venv/bin/python bench/search_bench.py --tickets 200000 --runs 200 --keep
    .venv/bin/python bench/search_bench.py --database komunikator_search_bench_xxxxxx   # measure again

It creates a dedicated database, migrates it (`db.upgrade`: tables, the
`unaccent` wrapper, the GIN index), loads N tickets of realistic Polish text
with COPY (the GIN index is dropped for the load and rebuilt by
`extras.install`, as `komunikator db upgrade` would), ANALYZEs, then times one
staff search — a full-text query with two structured filters — on its first
page and on a page at depth (reached by cursor), two ways, interleaved:

  service — `reading.list_tickets` → `ticket_list.page`: visibility, filters,
            full-text match and keyset cursor composed into one statement, run
            on a connection of the app's pool, rows as `ListedTicket`s;
  SQL     — the same query (same columns) written by hand for this search,
            one asyncpg `fetch` on a connection of its own.

Targets (issue 6): service ≤ 1.5 × SQL, and service p95 ≤ 50 ms. Parallel
plans are switched off on the bench database (`max_parallel_workers_per_gather
= 0`; `--parallel` keeps the server's setting): see bench/README.md. The
database is dropped at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.service import reading, search
from komunikator.engine.settings import Settings
from komunikator.engine.store import db, extras
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.tenants import TenantRegistry

DEFAULT_ADMIN_URL = os.environ.get("KOMUNIKATOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
RATIO_TARGET = 1.5
P95_TARGET_MS = 50.0
#: The search: what a dispatcher types, and the two filters set on the list.
QUERY = "latarnia łódzka"
FILTERS = reading.ListFilters(public_status="open", unit="inwestycje")
LIMIT = 50

STREETS = [
    "Łódzka", "Piłsudskiego", "Długa", "Parzęczewska", "Ozorkowska", "Aleksandrowska", "Konstantynowska",
    "Łęczycka", "Dąbrowskiego", "Żeromskiego", "Słowackiego", "Mickiewicza", "Sienkiewicza", "Narutowicza",
    "Kilińskiego", "Piątkowska", "Chełmska", "Szczawińska", "Gałczyńskiego", "Rembowskiego", "Mielczarskiego",
    "Dubois", "Wojska Polskiego", "Sadowa", "Leśna", "Łąkowa", "Źródłowa", "Spacerowa", "Sosnowa", "Kurak",
    "Barona", "Cezaka", "Popiełuszki", "Wyszyńskiego", "Jana Pawła II", "3 Maja", "1 Maja", "Kościuszki",
    "Struga", "Wschodnia", "Zachodnia", "Północna", "Południowa", "Rudunki", "Przybyłów", "Krzywie", "Proboszczewice",
]
PLACES = ["przy przystanku", "obok szkoły", "naprzeciwko sklepu", "koło kościoła", "przy wjeździe na osiedle",
          "przed przychodnią", "przy placu zabaw", "na skrzyżowaniu z ul. {other}", "na wysokości numeru {no}",
          "za blokiem nr {no}", "przy parkingu", "obok apteki", "przy przejściu dla pieszych"]
EXTRAS = ["", "", "Od tygodnia.", "Zagraża pieszym.", "Proszę o szybką interwencję.", "Problem się powtarza.",
          "Zgłaszam ponownie.", "Niebezpiecznie po zmroku.", "Dzieci chodzą tędy do szkoły."]
COMMENTS = ["Zlecono naprawę wykonawcy.", "Prace zaplanowano na przyszły tydzień.", "Sprawę przekazano do ZDM.",
            "Usterka usunięta, dziękujemy za zgłoszenie.", "Teren należy do prywatnego właściciela.",
            "Patrol straży miejskiej sprawdził zgłoszenie."]
#: category → (weight, what residents write); the rest of the text comes from the shared lists above
CATEGORIES: dict[str, tuple[int, list[str]]] = {
    "pothole": (14, ["Głęboka dziura w jezdni", "Wyrwa w asfalcie", "Dziura, samochody ją omijają",
                     "Zapadnięta nawierzchnia drogi"]),
    "pavement_damage": (9, ["Zapadnięte płyty chodnikowe", "Brakuje kostki w chodniku", "Wystający krawężnik"]),
    "streetlight_out": (7, ["Nie świeci latarnia", "Latarnia zgaszona od kilku dni", "Ciemno, lampa nie działa"]),
    "illegal_parking": (8, ["Samochód zastawia chodnik", "Auto parkuje na trawniku", "Pojazd blokuje wjazd"]),
    "litter": (7, ["Dużo śmieci na trawniku", "Potłuczone szkło na chodniku", "Zaśmiecony teren zielony"]),
    "overflowing_bin": (6, ["Przepełniony kosz na śmieci", "Kosz nieopróżniony od tygodnia"]),
    "illegal_dumping": (5, ["Dzikie wysypisko w lesie", "Ktoś wyrzucił gruz i opony", "Worki ze śmieciami w rowie"]),
    "fallen_tree": (4, ["Złamany konar na chodniku", "Drzewo przewróciło się po burzy"]),
    "neglected_greenery": (4, ["Wysoka trawa zasłania widoczność", "Nieprzycięte krzaki przy drodze"]),
    "dead_animal": (3, ["Martwy kot na jezdni", "Potrącona sarna na poboczu", "Martwy ptak przy przystanku"]),
    "stray_dog": (3, ["Bezpański pies biega po osiedlu", "Agresywny pies bez smyczy"]),
    "graffiti": (3, ["Napisy na ścianie budynku", "Wulgarne graffiti na przystanku"]),
    "night_noise": (3, ["Głośna muzyka w nocy", "Hałas z lokalu po 22"]),
    "water_leak": (2, ["Woda wycieka z hydrantu", "Awaria wodociągu, zalana ulica"]),
    "blocked_drain": (4, ["Niedrożna studzienka", "Zalana jezdnia po deszczu"]),
    "icy_pavement": (3, ["Oblodzony chodnik", "Ślisko, nieposypany chodnik"]),
    "road_markings": (2, ["Wytarte pasy na przejściu", "Nieczytelne oznakowanie"]),
    "sign_damaged": (3, ["Przewrócony znak drogowy", "Brak znaku stopu"]),
    "playground_damage": (2, ["Zepsuta huśtawka", "Uszkodzona zjeżdżalnia na placu zabaw"]),
}
TICKET_COLUMNS = ["id", "tenant_id", "number", "category", "process", "state", "public_status", "responsible_unit",
                  "priority", "step", "description", "lat", "lon", "address", "channel", "definition_version_id",
                  "state_entered_at", "closed_at", "due_at", "version", "created_at", "updated_at"]


@dataclass
class _Row:
    """What `search.ticket_document` reads of a ticket."""

    number: str
    category: str
    description: str
    address: str


def _database_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _choice_values(tenant: CompiledTenant, category: str, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in tenant.categories[category].spec.attributes.items():
        if spec.values and (spec.required or rng.random() < 0.5):
            options = sorted(spec.values)
            out[name] = [rng.choice(options)] if spec.type == "multichoice" else rng.choice(options)
    return out


def generate(tenants: list[tuple[int, str, CompiledTenant]], version_ids: dict[int, int], n: int, seed: int,
             batch: int) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Batches of (ticket rows, search rows): 90 % in the first city, created over three years, oldest first."""
    rng = random.Random(seed)
    offered = {tenant_id: [c for c in CATEGORIES if c in tenant.categories] for tenant_id, _, tenant in tenants}
    weights = {tenant_id: [CATEGORIES[c][0] for c in names] for tenant_id, names in offered.items()}
    street_weights = [1 / (i + 1) for i in range(len(STREETS))]  # Zipf: a few main roads, many side streets
    start = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)
    step = timedelta(days=3 * 365) / n
    counters: dict[tuple[int, int], int] = {}
    tickets: list[tuple[Any, ...]] = []
    documents: list[tuple[Any, ...]] = []
    for i in range(1, n + 1):
        tenant_id, prefix, tenant = tenants[0] if rng.random() < 0.9 else tenants[1]
        created = start + step * i + timedelta(seconds=rng.randint(0, 59))
        key = (tenant_id, created.year)
        counters[key] = counters.get(key, 0) + 1
        number = f"{prefix}-{created.year}-{counters[key]:06d}"
        category = rng.choices(offered[tenant_id], weights[tenant_id])[0]
        street = rng.choices(STREETS, street_weights)[0]
        place = rng.choice(PLACES).format(other=rng.choice(STREETS), no=rng.randint(1, 120))
        description = f"{rng.choice(CATEGORIES[category][1])} {place}. {rng.choice(EXTRAS)}".strip()
        address = f"ul. {street} {rng.randint(1, 150)}"
        age = (start + step * n - created).days
        closed = age > 30 and rng.random() < 0.85
        due = None if rng.random() < 0.3 else created + timedelta(days=rng.choice([1, 3, 14, 20]))
        compiled = tenant.categories[category]
        tickets.append((
            i, tenant_id, number, category, compiled.process,
            "resolved" if closed else rng.choice(["new", "in_progress"]), "closed" if closed else "open",
            compiled.unit, compiled.spec.priority, 1, description, None, None, address,
            "public", version_ids[tenant_id], created, created + timedelta(days=5) if closed else None, due, 1,
            created, created,
        ))
        comments = [rng.choice(COMMENTS)] if rng.random() < 0.3 else []
        row = cast(Ticket, _Row(number, category, description, address))
        document = search.ticket_document(tenant, row, _choice_values(tenant, category, rng), comments)
        documents.append((i, tenant_id, i, document, created))
        if len(tickets) == batch:
            yield tickets, documents
            tickets, documents = [], []
    if tickets:
        yield tickets, documents


async def load(url: str, n: int, seed: int, registry: TenantRegistry) -> None:
    """Migrate, then COPY `n` tickets with their search rows; rebuild the GIN index; ANALYZE."""
    await db.upgrade(url)
    conn = await asyncpg.connect(_pg(url))
    try:
        await conn.execute(f"DROP INDEX {extras.PG_FTS_INDEX}")  # built once after the load, much faster
        tenants = []
        version_ids = {}
        for slug in ("zgierz", "nieporet"):
            tenant = registry.tenants[slug]
            tenant_id = await conn.fetchval("INSERT INTO tenants (slug, name, created_at) VALUES ($1, $1, now()) "
                                            "RETURNING id", slug)
            version_ids[tenant_id] = await conn.fetchval(
                "INSERT INTO definition_versions (tenant_id, version, summary, created_at) "
                "VALUES ($1, $2, '{}', now()) RETURNING id", tenant_id, tenant.version)
            tenants.append((tenant_id, tenant.config.number_prefix, tenant))
        started = time.perf_counter()
        for tickets, documents in generate(tenants, version_ids, n, seed, 50_000):
            await conn.copy_records_to_table("tickets", records=tickets, columns=TICKET_COLUMNS)
            await conn.copy_records_to_table("ticket_search", records=documents,
                                             columns=["id", "tenant_id", "ticket_id", "document", "updated_at"])
            print(f"  loaded {tickets[-1][0]:>9,} tickets  {time.perf_counter() - started:6.1f} s", flush=True)
        for table in ("tickets", "ticket_search"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        name = urlsplit(url).path.lstrip("/")
        await conn.execute(f'ALTER DATABASE "{name}" SET maintenance_work_mem = \'1GB\'')
    finally:
        await conn.close()
    await db.close()
    started = time.perf_counter()
    await db.upgrade(url)  # recreates the GIN index, as `komunikator db upgrade` would
    print(f"  GIN index built by db upgrade in {time.perf_counter() - started:.1f} s", flush=True)
    conn = await asyncpg.connect(_pg(url))
    try:
        await conn.execute("VACUUM ANALYZE tickets")
        await conn.execute("VACUUM ANALYZE ticket_search")
    finally:
        await conn.close()


HAND_WRITTEN = """
SELECT t.id, t.number, t.category, t.state, t.public_status, t.responsible_unit, t.priority, t.created_at, t.due_at
FROM tickets t
JOIN ticket_search s ON s.ticket_id = t.id
WHERE t.tenant_id = $1 AND t.public_status = $2 AND t.responsible_unit = $3
  AND s.tenant_id = $1
  AND s.document_vector @@ to_tsquery('simple', komunikator_unaccent($4))
  AND (t.created_at, t.id) < ($5, $6)
ORDER BY t.created_at DESC, t.id DESC
LIMIT $7
"""


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, runs: int, depth: int, registry: TenantRegistry) -> dict[str, Any]:
    """Time the search's first page and its page number `depth`, service and SQL interleaved."""
    await db.init(url)
    conn = await asyncpg.connect(_pg(url))
    try:
        tenant = registry.tenants["zgierz"]
        tenant_id = await conn.fetchval("SELECT id FROM tenants WHERE slug = 'zgierz'")
        scope = TenantScope(tenant_id)
        user = UserView("1", (Membership("bom", "dispatcher"),), "staff", "Dyspozytor")
        tsquery = "'latarnia':* & 'lodzka':*"  # QUERY, written by hand
        if tsquery != search.postgres_tsquery(search.query_tokens(QUERY)):
            raise SystemExit("the hand-written tsquery no longer matches QUERY")
        if search.LIST_COLUMNS != ("id", "number", "category", "state", "public_status", "responsible_unit",
                                   "priority", "created_at", "due_at"):
            raise SystemExit("the list's columns changed: update HAND_WRITTEN's select list")

        async def service(cursor: str | None) -> list[search.ListedTicket]:
            rows, _ = await reading.list_tickets(scope, tenant, user, FILTERS, cursor, LIMIT, q=QUERY)
            return rows

        async def by_hand(after: tuple[datetime, int]) -> list[Any]:
            return cast(list[Any], await conn.fetch(HAND_WRITTEN, tenant_id, FILTERS.public_status, FILTERS.unit,
                                                    tsquery, after[0], after[1], LIMIT + 1))

        # the cursor of page `depth`, by walking there
        cursor: str | None = None
        previous: list[search.ListedTicket] = []
        for _ in range(depth - 1):
            previous, cursor = await reading.list_tickets(scope, tenant, user, FILTERS, cursor, LIMIT, q=QUERY)
            if cursor is None:
                raise SystemExit(f"the search has fewer than {depth} pages: use a smaller --depth or more --tickets")
        total = await conn.fetchval(
            "SELECT count(*) FROM tickets t JOIN ticket_search s ON s.ticket_id = t.id WHERE t.tenant_id = $1 "
            "AND t.public_status = $2 AND t.responsible_unit = $3 AND s.tenant_id = $1 AND "
            "s.document_vector @@ to_tsquery('simple', komunikator_unaccent($4))",
            tenant_id, FILTERS.public_status, FILTERS.unit, tsquery)
        far = datetime(9999, 1, 1, tzinfo=UTC)
        pages = {"first page": (None, (far, 0)),
                 f"page {depth}": (cursor, (previous[-1].created_at, previous[-1].id) if previous else (far, 0))}
        results: dict[str, Any] = {"matches": total}
        for label, (page_cursor, after) in pages.items():
            mine = [t.id for t in await service(page_cursor)]
            theirs = [r["id"] for r in await by_hand(after)][:LIMIT]
            if mine != theirs:
                raise SystemExit(f"{label}: the service and the SQL return different tickets")
            times: dict[str, list[float]] = {"service": [], "sql": []}
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "service": lambda c=page_cursor: service(c), "sql": lambda a=after: by_hand(a)}
            for i in range(runs + 5):
                for name in ("service", "sql") if i % 2 else ("sql", "service"):
                    began = time.perf_counter()
                    await calls[name]()
                    if i >= 5:  # warm-up
                        times[name].append((time.perf_counter() - began) * 1000)
            row = {name: {"median_ms": statistics.median(t), "p95_ms": _percentile(t, 95)} for name, t in times.items()}
            row["ratio_median"] = row["service"]["median_ms"] / row["sql"]["median_ms"]
            row["ratio_p95"] = row["service"]["p95_ms"] / row["sql"]["p95_ms"]
            row["rows"] = len(mine)
            results[label] = row
        plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + HAND_WRITTEN, tenant_id, FILTERS.public_status,
                                FILTERS.unit, tsquery, far, 0, LIMIT + 1)
        results["plan"] = [r[0] for r in plan]
        return results
    finally:
        await conn.close()
        await db.close()


async def _parallel(url: str, allowed: bool) -> None:
    """Allow parallel query plans on the bench database, or not (the default: see bench/README.md)."""
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(_pg(url))
    try:
        if allowed:
            await conn.execute(f'ALTER DATABASE "{name}" RESET max_parallel_workers_per_gather')
        else:
            await conn.execute(f'ALTER DATABASE "{name}" SET max_parallel_workers_per_gather = 0')
    finally:
        await conn.close()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    registry = TenantRegistry.load(Settings.from_env())
    if args.database:  # measure again on a database a `--keep` run left
        url = _database_url(args.admin_url, args.database)
        await _parallel(url, args.parallel)
        conn = await asyncpg.connect(_pg(url))
        tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        await conn.close()
        results = await measure(url, args.runs, args.depth, registry)
        results.update(tickets=tickets, runs=args.runs, load_s=0.0, query=QUERY, parallel=args.parallel,
                       filters={"public_status": FILTERS.public_status, "unit": FILTERS.unit}, database=args.database)
        return results
    name = f"komunikator_search_bench_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(_pg(args.admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _database_url(args.admin_url, name)
    print(f"database {name}: loading {args.tickets:,} tickets", flush=True)
    try:
        started = time.perf_counter()
        await load(url, args.tickets, args.seed, registry)
        loaded = time.perf_counter() - started
        await _parallel(url, args.parallel)
        results = await measure(url, args.runs, args.depth, registry)
        results.update(tickets=args.tickets, runs=args.runs, load_s=loaded, query=QUERY, parallel=args.parallel,
                       filters={"public_status": FILTERS.public_status, "unit": FILTERS.unit}, database=name)
        return results
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def report(results: dict[str, Any]) -> None:
    """Print the figures as a table, with the targets."""
    print(f"\n{results['tickets']:,} tickets (load {results['load_s']:.0f} s); q={results['query']!r}, "
          f"filters {results['filters']}; {results['matches']:,} matches; {results['runs']} runs each; "
          f"parallel plans {'on' if results['parallel'] else 'off'}\n")
    print("| page | service median | SQL median | × | service p95 | SQL p95 | × |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ok = True
    for label in [k for k in results if k.startswith(("first", "page"))]:
        row = results[label]
        s, q = row["service"], row["sql"]
        print(f"| {label} | {s['median_ms']:.1f} ms | {q['median_ms']:.1f} ms | {row['ratio_median']:.2f} | "
              f"{s['p95_ms']:.1f} ms | {q['p95_ms']:.1f} ms | {row['ratio_p95']:.2f} |")
        ok &= row["ratio_median"] <= RATIO_TARGET and s["p95_ms"] <= P95_TARGET_MS
    print(f"\ntargets: service ≤ {RATIO_TARGET} × SQL, service p95 ≤ {P95_TARGET_MS:.0f} ms: "
          f"{'met' if ok else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per page and way (after 5 warm-ups)")
    parser.add_argument("--depth", type=int, default=10, help="the deep page's number (pages of 50)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="a database on the server, to create ours")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--database", help="measure only, on this database left by an earlier --keep run")
    parser.add_argument("--parallel", action="store_true",
                        help="keep the server's parallel query setting (default: max_parallel_workers_per_gather=0)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--plan", action="store_true", help="print the first page's query plan")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    if args.plan:
        print("\n".join(results["plan"]))
    if args.json:
        print(json.dumps({k: v for k, v in results.items() if k != "plan"}, indent=2, default=str))
    else:
        report(results)


if __name__ == "__main__":
    main()
