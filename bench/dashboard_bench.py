"""The staff dashboard over a big city on PostgreSQL: its load time, and a ratio to one bare query, same run.

    .venv/bin/python bench/dashboard_bench.py                    # 1,000,000 tickets, 5 timed loads
    .venv/bin/python bench/dashboard_bench.py --tickets 200000 --repeat 9 --json

A dedicated database is created on the server (`--admin-url`, default
postgres://postgres@127.0.0.1:5432/postgres), migrated with
`komunikator.engine.store.db.upgrade`, filled by set-based SQL
(`generate_series`, not the ORM: a million tickets through the service
would take hours) and dropped at the end. The city is Zgierz (its shipped
YAML): tickets over two years in its categories, units, processes and map
box, most verified (a `verify` history row), most closed, one task each with
its hops (created, completed, some delegated or withdrawn). Then `ANALYZE`.

Timed, alternating so machine load hits all alike, median of `--repeat`:

(a) page: `GET /staff/dashboard` through the app in-process, signed in as the
    city's management (sees every ticket): every tile's SQL, the map's
    clusters, rendering, navigation;
(b) data: the same tiles and map computed without HTTP or templates
    (`engine/reports/compute.run` per tile + `open_map.open_clusters`);
(c) baseline: one hand-written aggregate reading every ticket of the city
    once — `SELECT responsible_unit, count(*) FILTER (WHERE closed_at IS NULL)
    FROM tickets WHERE tenant_id = $1 GROUP BY 1` — what "looking at all the
    tickets" costs at all.

The issue's target: (a) under 1 s at 1,000,000 tickets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from komunikator.engine.reports import compute
from komunikator.engine.reports.open_map import open_clusters
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.service import accounts
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

PASSWORD = "bench-haslo-123"  # noqa: S105 - a throw-away account of a throw-away database
MANAGEMENT = UserView("bench", (Membership("bom", "management"),), "staff", "bench")

#: One row per ticket: its category (1-based index), dates and fates, drawn once.
SEED_SQL = """
CREATE TEMP TABLE seed AS
SELECT g,
       1 + floor(random() * $2)::int AS k,
       created,
       verified,
       CASE WHEN verified THEN created + random() * interval '48 hours' END AS verified_at,
       closed,
       CASE WHEN closed THEN least(created + random() * interval '48 hours'
                                   + random() * random() * interval '30 days', $3::timestamptz) END AS closed_at,
       51.815 + random() * 0.09 AS lat, 19.33 + random() * 0.16 AS lon,
       (ARRAY['public', 'public', 'public', 'staff', 'open311'])[1 + floor(random() * 5)::int] AS channel,
       random() AS fate
FROM (SELECT g, created,
             random() < CASE WHEN created < $3::timestamptz - interval '30 days' THEN 0.92 ELSE 0.40 END AS closed,
             random() < 0.97 AS verified
      FROM (SELECT g, $3::timestamptz - random() * interval '730 days' AS created
            FROM generate_series(1, $1) AS g) dated) fated
"""


def _with_database(url: str, name: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, query, ""))


async def seed(connection: asyncpg.Connection, tenant_id: int, tenant: Any, tickets: int, now: datetime) -> float:
    """Fill the city; return the seconds it took."""
    began = time.perf_counter()
    cats = sorted(tenant.categories)
    names, units = list(cats), [tenant.categories[c].unit for c in cats]
    processes = [tenant.categories[c].process for c in cats]
    version = await connection.fetchval(
        "INSERT INTO definition_versions (tenant_id, version, summary, created_at) VALUES ($1, 'bench', '{}', $2) "
        "RETURNING id", tenant_id, now)
    await connection.execute("SELECT setseed(0.42)")
    await connection.execute(SEED_SQL, tickets, len(cats), now)
    await connection.execute(
        """
        INSERT INTO tickets (tenant_id, number, category, process, state, public_status, responsible_unit, priority,
                             step, description, lat, lon, address, channel, state_entered_at, closed_at, due_at,
                             version, created_at, updated_at, definition_version_id)
        SELECT $1::int, 'ZG-B-' || s.g, ($2::text[])[s.k], ($3::text[])[s.k],
               CASE WHEN s.closed THEN 'resolved' WHEN s.verified THEN 'in_progress' ELSE 'new' END,
               CASE WHEN s.closed THEN 'closed' ELSE 'open' END, ($4::text[])[s.k],
               CASE WHEN s.fate < 0.05 THEN 'high' ELSE 'normal' END, CASE WHEN s.verified THEN 1 ELSE 0 END,
               'Zgłoszenie testowe ' || s.g, s.lat, s.lon, 'ul. Testowa ' || (s.g % 200), s.channel,
               coalesce(s.closed_at, s.verified_at, s.created), s.closed_at,
               CASE WHEN s.verified THEN s.verified_at + interval '14 days' ELSE s.created + interval '1 day' END,
               1, s.created, coalesce(s.closed_at, s.verified_at, s.created), $5
        FROM seed s ORDER BY s.g
        """, tenant_id, names, processes, units, version)
    await connection.execute("CREATE TEMP TABLE seeded AS SELECT s.*, t.id AS ticket_id, t.responsible_unit AS unit "
                             "FROM seed s JOIN tickets t ON t.tenant_id = $1 AND t.number = 'ZG-B-' || s.g",
                             tenant_id)
    await connection.execute(
        """
        INSERT INTO audit_events (tenant_id, ticket_id, actor_kind, action, before, after, at)
        SELECT $1::int, ticket_id, 'system', 'submit', '{}'::jsonb, jsonb_build_object('channel', channel), created
        FROM seeded
        UNION ALL
        SELECT $1::int, ticket_id, 'user', 'verify', '{"state": "new"}'::jsonb, '{"state": "in_progress"}'::jsonb,
               verified_at FROM seeded WHERE verified
        UNION ALL
        SELECT $1::int, ticket_id, 'system', 'resolve', '{"state": "in_progress"}'::jsonb,
               '{"state": "resolved"}'::jsonb, closed_at FROM seeded WHERE closed
        """, tenant_id)
    await connection.execute(
        """
        INSERT INTO tasks (tenant_id, ticket_id, key, step, created_in, unit, state, due_at, created_at, updated_at)
        SELECT $1::int, ticket_id, 'T1', 1, 'new', unit,
               CASE WHEN closed THEN 'done' WHEN fate < 0.5 THEN 'open' ELSE 'in_progress' END,
               verified_at + interval '14 days', verified_at, coalesce(closed_at, verified_at)
        FROM seeded WHERE verified
        """, tenant_id)
    other = sorted(tenant.units)
    await connection.execute(
        """
        INSERT INTO task_assignments (tenant_id, task_id, action, from_unit, to_unit, at)
        SELECT $1::int, k.id, 'create', NULL, k.unit, k.created_at FROM tasks k WHERE k.tenant_id = $1
        UNION ALL
        SELECT $1::int, k.id, 'complete', k.unit, k.unit, t.closed_at
        FROM tasks k JOIN tickets t ON t.id = k.ticket_id WHERE k.tenant_id = $1 AND k.state = 'done'
        UNION ALL
        SELECT $1::int, k.id, 'delegate', ($2::text[])[1 + (k.id % array_length($2::text[], 1))], k.unit,
               k.created_at + interval '1 day'
        FROM tasks k WHERE k.tenant_id = $1 AND k.id % 20 = 0
        UNION ALL
        SELECT $1::int, k.id, 'withdraw', k.unit, k.unit, k.created_at + interval '2 days'
        FROM tasks k WHERE k.tenant_id = $1 AND k.id % 50 = 7
        """, tenant_id, other)
    await connection.execute("ANALYZE")
    return time.perf_counter() - began


async def _sign_in(client: httpx.AsyncClient, email: str) -> None:
    page = await client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None  # noqa: S101
    done = await client.post("/staff/login", data={"csrf_token": token.group(1), "email": email,
                                                    "password": PASSWORD, "next": "/staff/dashboard"},
                             headers={"Origin": "http://zgierz.localhost"})
    assert done.status_code == 303, done.text[:300]  # noqa: S101


async def main(args: argparse.Namespace) -> dict[str, Any]:
    name = f"komunikator_dashboard_{os.getpid()}"
    admin = await asyncpg.connect(args.admin_url.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(args.admin_url, name)
    now = datetime.now(UTC)
    try:
        await db.upgrade(url)
        await db.close()
        await db.init(url)
        registry = TenantRegistry.load(Settings.from_env())
        tenant = registry.tenants["zgierz"]
        row = await ensure_tenant("zgierz", "Zgierz")
        scope = TenantScope(row.id)
        user = await accounts.create_user(scope, "burmistrz@bench.example.pl", "Burmistrz", password=PASSWORD)
        await accounts.grant(scope, tenant, user, "bom", "management")
        raw = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        seconds = await seed(raw, row.id, tenant, args.tickets, now)
        counts = {t: await raw.fetchval(f"SELECT count(*) FROM {t}")  # noqa: S608 - table names are constants
                  for t in ("tickets", "tasks", "task_assignments", "audit_events")}
        app = create_app(registry, init_database=False)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://zgierz.localhost",
                                   headers={"Host": "zgierz.localhost"}, timeout=120)
        await _sign_in(client, "burmistrz@bench.example.pl")
        baseline_sql = ("SELECT responsible_unit, count(*) FILTER (WHERE closed_at IS NULL) FROM tickets "
                        "WHERE tenant_id = $1 GROUP BY 1")

        async def page() -> None:
            answer = await client.get("/staff/dashboard")
            assert answer.status_code == 200 and "open-map" in answer.text, answer.status_code  # noqa: S101

        async def data() -> None:
            for tile in compute.dashboard_tiles(tenant, MANAGEMENT):
                await compute.run(scope, tenant, tile, MANAGEMENT, now)
            await open_clusters(scope, tenant, MANAGEMENT)

        async def baseline() -> None:
            await raw.fetch(baseline_sql, row.id)

        async def timed(job: Any) -> float:
            began = time.perf_counter()
            await job()
            return time.perf_counter() - began

        for job in (page, data, baseline):  # warm-up: caches, plans, the catalogs
            await job()
        times: dict[str, list[float]] = {"page": [], "data": [], "baseline": []}
        for _ in range(args.repeat):
            times["page"].append(await timed(page))
            times["data"].append(await timed(data))
            times["baseline"].append(await timed(baseline))
        per_tile: dict[str, float] = {}
        for tile in compute.dashboard_tiles(tenant, MANAGEMENT):
            began = time.perf_counter()
            await compute.run(scope, tenant, tile, MANAGEMENT, now)
            per_tile[tile] = round((time.perf_counter() - began) * 1000, 1)
        began = time.perf_counter()
        clusters = await open_clusters(scope, tenant, MANAGEMENT)
        per_tile["open_map"] = round((time.perf_counter() - began) * 1000, 1)
        await client.aclose()
        await raw.close()
        await db.close()
        medians = {k: statistics.median(v) for k, v in times.items()}
        return {
            "tickets": args.tickets, "rows": counts, "seed_seconds": round(seconds, 1), "repeat": args.repeat,
            "page_ms": round(medians["page"] * 1000, 1), "data_ms": round(medians["data"] * 1000, 1),
            "baseline_ms": round(medians["baseline"] * 1000, 1),
            "page_over_baseline": round(medians["page"] / medians["baseline"], 2),
            "data_over_baseline": round(medians["data"] / medians["baseline"], 2),
            "all_ms": {k: [round(x * 1000, 1) for x in v] for k, v in times.items()},
            "per_tile_ms": per_tile, "map_markers": len(clusters), "load_average": os.getloadavg(),
        }
    finally:
        if args.keep:
            print(f"kept the database {name}")
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _print(result: dict[str, Any]) -> None:
    rows = ", ".join(f"{k} {v:,}" for k, v in result["rows"].items())
    print(f"dashboard on PostgreSQL: {rows}; seeded in {result['seed_seconds']} s; "
          f"median of {result['repeat']} (load average now {result['load_average'][0]:.1f})")
    print(f"  (a) page  GET /staff/dashboard        {result['page_ms']:9.1f} ms   {result['all_ms']['page']}")
    print(f"  (b) data  tiles + map, no HTTP        {result['data_ms']:9.1f} ms   {result['all_ms']['data']}")
    print(f"  (c) baseline one count over tickets   {result['baseline_ms']:9.1f} ms   {result['all_ms']['baseline']}")
    print(f"  a/c = {result['page_over_baseline']:.2f}   b/c = {result['data_over_baseline']:.2f}   "
          "(target: a < 1000 ms at 1,000,000 tickets)")
    print("  per tile (ms): " + ", ".join(f"{k} {v}" for k, v in result["per_tile_ms"].items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database (to EXPLAIN its queries)")
    options = parser.parse_args()
    outcome = asyncio.run(main(options))
    if options.json:
        print(json.dumps(outcome, indent=2))
    else:
        _print(outcome)
