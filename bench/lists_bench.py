"""The universal list engine on PostgreSQL: a deep page and an XLSX export, each against a hand-written twin, one run.

    .venv/bin/python bench/lists_bench.py                         # 200,000 tickets, 30 timed pages
    .venv/bin/python bench/lists_bench.py --tickets 1000000 --repeat 50 --json

A dedicated database is created (`--admin-url`), migrated and filled by the
dashboard benchmark's set-based seed (`dashboard_bench.seed`: Zgierz's
categories, units and processes, tasks and history), plus a `size` attribute
on every pothole; then `ANALYZE`. Signed-in user: a dispatcher (sees every
ticket; visibility adds nothing to the statement, as for a city-wide role).

(a) page 10 of `tickets` through the engine (`query.page`, no count): the
    filter `public_status = open AND (priority = high OR unit = drogi OR
    attr.size = large)` (two levels), sorted `unit, -created_at` (two columns,
    keyset after page 9's cursor), 50 rows, default columns;
(b) the same page written by hand in SQL (asyncpg, the same cursor values);
(c) the count of that view as the page shows it (exact up to 10,000, else the planner's estimate);
(d) XLSX export of every ticket (default columns, newest first) through
    `export.write_xlsx` (keyset batches of 1,000, xlsxwriter constant_memory);
(e) bare xlsxwriter constant_memory writing the same cells from one
    hand-written keyset query in batches of 1,000.

(a)/(b) p95 and median; (d)/(e) time and Python peak memory (tracemalloc), same run.
Targets (#14): (a)/(b) ≤ 1.5 and (a) p95 ≤ 50 ms; (d)/(e) ≤ 1.5 and (d) peak ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import xlsxwriter
from dashboard_bench import _with_database, seed

from komunikator.engine.lists import filters, query
from komunikator.engine.lists.declared import list_spec
from komunikator.engine.lists.export import write_xlsx
from komunikator.engine.lists.view import View, open_view
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

DISPATCHER = UserView("bench", (Membership("bom", "dispatcher"),), "staff", "bench")
DOCUMENT = {"match": "all", "conditions": [
    {"field": "public_status", "op": "eq", "value": "open"},
    {"match": "any", "conditions": [{"field": "priority", "op": "eq", "value": "high"},
                                    {"field": "unit", "op": "eq", "value": "drogi"},
                                    {"field": "attr.size", "op": "eq", "value": "large"}]}]}
COLUMNS = "t.id, t.number, t.category, t.state, t.responsible_unit, t.priority, t.created_at, t.due_at, t.address"
HAND_PAGE = f"""
SELECT {COLUMNS} FROM tickets t
WHERE t.tenant_id = $1 AND t.public_status = 'open'
  AND (t.priority = 'high' OR t.responsible_unit = 'drogi'
       OR (SELECT a.value->>'value' FROM ticket_attributes a
           WHERE a.tenant_id = t.tenant_id AND a.ticket_id = t.id AND a.name = 'size') = 'large')
  AND (t.responsible_unit COLLATE "C" > $2
       OR (t.responsible_unit = $2 AND (t.created_at < $3 OR (t.created_at = $3 AND t.id > $4))))
ORDER BY t.responsible_unit COLLATE "C", t.created_at DESC, t.id
LIMIT 50
"""  # noqa: S608 - constants only
HAND_EXPORT = f"""
SELECT {COLUMNS} FROM tickets t
WHERE t.tenant_id = $1 AND t.created_at >= $4 AND (t.created_at, t.id) < ($2, $3)
ORDER BY t.created_at DESC, t.id DESC LIMIT 1000
"""  # noqa: S608 - constants only


async def _attributes(connection: asyncpg.Connection, tenant_id: int) -> int:
    await connection.execute(
        """
        INSERT INTO ticket_attributes (tenant_id, ticket_id, name, value)
        SELECT $1::int, id, 'size', jsonb_build_object('value', (ARRAY['small', 'medium', 'large'])[1 + id % 3])
        FROM tickets WHERE tenant_id = $1 AND category = 'pothole'
        """, tenant_id)
    await connection.execute("ANALYZE ticket_attributes")
    return int(await connection.fetchval("SELECT count(*) FROM ticket_attributes"))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _export_since(raw: asyncpg.Connection, tenant_id: int, rows: int, zone: ZoneInfo) -> date:
    """The first local day of the export's filter `created_at after <day before>`: about `rows` newest tickets."""
    moment = await raw.fetchval("SELECT created_at FROM tickets WHERE tenant_id = $1 ORDER BY created_at DESC "
                                "OFFSET $2 LIMIT 1", tenant_id, max(rows - 1, 0))
    if moment is None:
        return date(2000, 1, 1)
    return moment.astimezone(zone).date() + timedelta(days=1)


async def _bare_export(raw: asyncpg.Connection, tenant_id: int, path: str, zone: ZoneInfo, since: datetime) -> int:
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False})
    sheet = book.add_worksheet("Zgłoszenia")
    when = book.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    for n, heading in enumerate(("Numer", "Kategoria", "Stan", "Jednostka", "Priorytet", "Przyjęto", "Termin",
                                 "Adres")):
        sheet.write_string(0, n, heading)
    count = 0
    after: tuple[datetime, int] = (datetime.max.replace(tzinfo=UTC), 2**31 - 1)
    while True:
        records = await raw.fetch(HAND_EXPORT, tenant_id, *after, since)
        for r in records:
            count += 1
            for n, key in enumerate(("number", "category", "state", "responsible_unit", "priority")):
                sheet.write_string(count, n, r[key])
            for n, key in ((5, "created_at"), (6, "due_at")):
                if r[key] is not None:
                    sheet.write_datetime(count, n, r[key].astimezone(zone).replace(tzinfo=None, microsecond=0),
                                         when)
            if r["address"] is not None:
                sheet.write_string(count, 7, r["address"])
        if len(records) < 1000:
            break
        after = (records[-1]["created_at"], records[-1]["id"])
    await asyncio.to_thread(book.close)
    return count


async def _measured(job: Any) -> tuple[float, float, Any]:
    """Seconds of one run of `job`, Python peak MB of another (tracemalloc slows what it watches), its result."""
    began = time.perf_counter()
    result = await job()
    seconds = time.perf_counter() - began
    tracemalloc.start()
    await job()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak, result


async def main(args: argparse.Namespace) -> dict[str, Any]:
    name = args.reuse or f"komunikator_lists_{os.getpid()}"
    admin = await asyncpg.connect(args.admin_url.replace("postgres://", "postgresql://", 1))
    if not args.reuse:
        await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(args.admin_url, name)
    now = datetime.now(UTC)
    try:
        await db.upgrade(url)
        await db.close()
        await db.init(url)
        tenant = TenantRegistry.load(Settings.from_env()).tenants["zgierz"]
        row = await ensure_tenant("zgierz", "Zgierz")
        scope = TenantScope(row.id)
        raw = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        if args.reuse:  # a kept database: new migrations applied above, the rows as they are
            seconds = 0.0
            args.tickets = int(await raw.fetchval("SELECT count(*) FROM tickets"))
            await raw.execute("ANALYZE")
            attributes = int(await raw.fetchval("SELECT count(*) FROM ticket_attributes"))
        else:
            seconds = await seed(raw, row.id, tenant, args.tickets, now)
            attributes = await _attributes(raw, row.id)
        spec = list_spec(tenant, "tickets")
        assert spec is not None  # noqa: S101
        view = open_view(tenant, DISPATCHER, "tickets", filter_text=json.dumps(DOCUMENT), sort="unit,-created_at",
                         columns=None)
        cursor = None
        for _ in range(9):  # to page 10
            result = await query.page(scope, tenant, DISPATCHER, spec, view.filter, view.sort, view.columns,
                                      after=cursor, limit=50, now=now, count=False)
            cursor = result.next_cursor
        assert cursor is not None  # noqa: S101
        values, last_id = query.decode_cursor(cursor, view.sort)

        async def engine_page() -> list[int]:
            found = await query.page(scope, tenant, DISPATCHER, spec, view.filter, view.sort, view.columns,
                                     after=cursor, limit=50, now=now, count=False)
            return [r.id for r in found.rows]

        async def hand_page() -> list[int]:
            return [r["id"] for r in await raw.fetch(HAND_PAGE, row.id, values[0], values[1], last_id)]

        async def count() -> tuple[int | None, bool]:
            found = await query.page(scope, tenant, DISPATCHER, spec, view.filter, view.sort, view.columns,
                                     after=None, limit=1, now=now)
            return found.total, found.estimated

        same = await engine_page() == await hand_page()
        for job in (engine_page, hand_page, count):
            await job()
        times: dict[str, list[float]] = {"engine": [], "hand": [], "count": []}
        pair = [("engine", engine_page), ("hand", hand_page)]
        for n in range(args.repeat):  # (a) and (b) alternate, taking turns to go first
            for key, job in pair if n % 2 == 0 else pair[::-1]:
                began = time.perf_counter()
                await job()
                times[key].append(time.perf_counter() - began)
        for _ in range(max(1, args.repeat // 5)):  # the count apart: 100x heavier, it would colour (a) and (b)
            began = time.perf_counter()
            await count()
            times["count"].append(time.perf_counter() - began)
        total, estimated = await count()

        zone = ZoneInfo(tenant.config.time_zone)
        first_day = await _export_since(raw, row.id, args.export_rows, zone)
        since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=zone).astimezone(UTC)
        recent = {"match": "all", "conditions": [
            {"field": "created_at", "op": "after", "value": (first_day - timedelta(days=1)).isoformat()}]}
        everything = View(spec, filters.parse(spec, tenant, json.dumps(recent)), query.parse_sort(spec, "-created_at"),
                          query.parse_columns(spec, None))
        with tempfile.TemporaryDirectory() as folder:
            ours, bare = os.path.join(folder, "ours.xlsx"), os.path.join(folder, "bare.xlsx")  # noqa: PTH118
            exports: dict[str, list[tuple[float, float]]] = {"engine": [], "bare": []}
            rows_written = {}
            for _ in range(args.export_repeat):
                t, peak, rows_written["engine"] = await _measured(
                    lambda: write_xlsx(ours, scope, tenant, DISPATCHER, everything, now, "pl"))
                exports["engine"].append((t, peak))
                t, peak, rows_written["bare"] = await _measured(lambda: _bare_export(raw, row.id, bare, zone, since))
                exports["bare"].append((t, peak))
            sizes = {"engine": os.path.getsize(ours), "bare": os.path.getsize(bare)}  # noqa: PTH202
        await raw.close()
        await db.close()
        med = {k: statistics.median(v) for k, v in times.items()}
        p95 = {k: _p95(v) for k, v in times.items()}
        export_time = {k: statistics.median(t for t, _ in v) for k, v in exports.items()}
        export_peak = {k: max(p for _, p in v) for k, v in exports.items()}
        return {
            "tickets": args.tickets, "attributes": attributes, "seed_seconds": round(seconds, 1),
            "repeat": args.repeat, "same_rows": same, "view_total": total, "total_estimated": estimated,
            "page_ms": {k: round(v * 1000, 2) for k, v in med.items()},
            "page_p95_ms": {k: round(v * 1000, 2) for k, v in p95.items()},
            "page_ratio_p95": round(p95["engine"] / p95["hand"], 2),
            "page_ratio_median": round(med["engine"] / med["hand"], 2),
            "export_rows": rows_written, "export_s": {k: round(v, 2) for k, v in export_time.items()},
            "export_peak_mb": {k: round(v, 1) for k, v in export_peak.items()},
            "export_ratio": round(export_time["engine"] / export_time["bare"], 2),
            "export_bytes": sizes, "load_average": os.getloadavg(),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        if args.keep or args.reuse:
            print(f"kept the database {name}", file=sys.stderr)
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _print(r: dict[str, Any]) -> None:
    print(f"lists on PostgreSQL: {r['tickets']:,} tickets, {r['attributes']:,} attributes; seeded in "
          f"{r['seed_seconds']} s; load average {r['load_average'][0]:.1f}")
    print(f"  view: two-level filter, sort unit,-created_at; total {r['view_total']:,}"
          f"{' (estimated)' if r['total_estimated'] else ''}; same rows as by hand: {r['same_rows']}")
    rows = (("engine", "(a) engine page 10  "), ("hand", "(b) hand-written SQL"), ("count", "(c) the view's count"))
    for key, what in rows:
        print(f"  {what}   median {r['page_ms'][key]:7.2f} ms   p95 {r['page_p95_ms'][key]:7.2f} ms")
    print(f"  a/b p95 = {r['page_ratio_p95']:.2f}, median = {r['page_ratio_median']:.2f}   "
          "(target ≤ 1.5, a p95 ≤ 50 ms)")
    print(f"  (d) XLSX export engine   {r['export_s']['engine']:7.2f} s   peak {r['export_peak_mb']['engine']:6.1f} MB"
          f"   {r['export_rows']['engine']:,} rows")
    print(f"  (e) bare xlsxwriter      {r['export_s']['bare']:7.2f} s   peak {r['export_peak_mb']['bare']:6.1f} MB"
          f"   {r['export_rows']['bare']:,} rows")
    print(f"  d/e = {r['export_ratio']:.2f}   (target ≤ 1.5, d peak ≤ 200 MB); the whole process's peak RSS "
          f"{r['process_max_rss_mb']:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--export-repeat", type=int, default=1)
    parser.add_argument("--export-rows", type=int, default=200_000,
                        help="about this many newest tickets exported (whole days: `created_at after`)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database (to EXPLAIN its queries)")
    parser.add_argument("--reuse", metavar="DATABASE", help="time a kept database again (migrated, not re-seeded)")
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments))
    print(json.dumps(outcome, indent=2, default=str)) if arguments.json else _print(outcome)
