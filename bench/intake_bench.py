"""Intake throughput on PostgreSQL: the service path against hand-written asyncpg, same run.

    .venv/bin/python bench/intake_bench.py                      # 16 concurrent clients, 3 rounds × 600 each
    .venv/bin/python bench/intake_bench.py --rounds 5 --per-round 1000 --json
    .venv/bin/python bench/intake_bench.py --profile 25         # also cProfile one service round

A dedicated database is created on the server (`--admin-url`, default
postgres://postgres@127.0.0.1:5432/postgres), migrated with
`komunikator.engine.store.db.upgrade` and dropped at the end.

(a) service: `intake.submit` — validate, number, insert, initial effects
    (timer, notifications to the outbox), audit, search row — through
    Tortoise, one transaction per report;
(b) baseline: one asyncpg transaction per report issuing the same
    statements the service issues (captured from PostgreSQL's side; see
    `BASELINE_SQL`), values computed in plain Python.

Both run as `--concurrency` coroutines on one event loop, each with a pool of
that many connections; rounds alternate (a, b, a, b …) so machine load hits
both alike. Reported: submissions per second (median over rounds) and a/b.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import intake
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

ANONYMOUS = UserView("anonymous", (), "resident", "anonymous")
DESCRIPTIONS = ("Duża dziura w jezdni przy przystanku", "Ubytek w asfalcie na skrzyżowaniu",
                "Głęboka wyrwa przy przejściu dla pieszych", "Zapadnięta nawierzchnia koło szkoły")

#: What `intake.submit` sends for a pothole with one attribute and a reporter's contact (PostgreSQL, in order).
BASELINE_SQL = {
    "version_insert": 'INSERT INTO "definition_versions" ("version","summary","created_at","tenant_id") '
                      "VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING \"id\"",
    "version_select": 'SELECT "version","tenant_id","summary","id","created_at" FROM "definition_versions" '
                      'WHERE "tenant_id"=$1 AND "version"=$2 LIMIT $3',
    "contact": 'INSERT INTO "reporter_contacts" ("name","email","phone","created_at","erased_at","tenant_id") '
               'VALUES ($1,$2,$3,$4,$5,$6) RETURNING "id"',
    "counter_insert": "INSERT INTO ticket_counters (tenant_id, year, value) VALUES ($1, $2, 0) "
                      "ON CONFLICT (tenant_id, year) DO NOTHING",
    "counter_update": "UPDATE ticket_counters SET value = value + 1 WHERE tenant_id = $1 AND year = $2 RETURNING value",
    "ticket": 'INSERT INTO "tickets" ("number","category","process","state","public_status","responsible_unit",'
              '"priority","step","description","lat","lon","address","channel","state_entered_at","closed_at",'
              '"due_at","sla_paused_at","version","created_at","updated_at","definition_version_id",'
              '"duplicate_of_id","reporter_contact_id","reporter_user_id","tenant_id") VALUES ($1,$2,$3,$4,$5,$6,'
              '$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25) RETURNING "id"',
    "number": 'UPDATE "tickets" SET "number"=$1,"updated_at"=$2 WHERE "tenant_id"=$3 AND "id"=$4',
    "attribute": 'INSERT INTO "ticket_attributes" ("name","value","tenant_id","ticket_id") VALUES ($1,$2,$3,$4) '
                 'RETURNING "id"',
    "audit": 'INSERT INTO "audit_events" ("actor_kind","action","before","after","reason","at","actor_user_id",'
             '"reporter_contact_id","tenant_id","ticket_id") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING "id"',
    "tasks": 'SELECT "ticket_id","step","unit","tenant_id","title","updated_at","state","id","created_in","due_at",'
             '"assignee_id","key","created_at" FROM "tasks" WHERE "tenant_id"=$1 AND "ticket_id"=$2',
    "timer": 'INSERT INTO "timers" ("timer_name","state","status","fire_at","fired_at","cancelled_at","tenant_id",'
             '"ticket_id") VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING "id"',
    "outbox": 'INSERT INTO "outbox" ("kind","channel","dedupe_key","payload","status","attempts","claimed_until",'
              '"last_error","next_attempt_at","created_at","sent_at","tenant_id","ticket_id") VALUES ($1,$2,$3,$4,'
              '$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING "id"',




    "search_insert": 'INSERT INTO "ticket_search" ("document","updated_at","tenant_id","ticket_id") '
                     'VALUES ($1,$2,$3,$4) RETURNING "id"',
}


def _submission(i: int) -> intake.Submission:
    return intake.Submission(
        category="pothole", description=f"{DESCRIPTIONS[i % len(DESCRIPTIONS)]} ({i})",
        attributes={"size": ("small", "medium", "large")[i % 3]}, lat=51.85 + (i % 50) / 10000, lon=19.40,
        address=f"ul. Długa {i % 120 + 1}", reporter=intake.ReporterIn(name="Jan Nowak", email=f"jan{i}@example.pl"),
    )


async def _service_round(scope: TenantScope, tenant: Any, start: int, count: int, concurrency: int) -> float:
    counter = iter(range(start, start + count))

    async def client() -> None:
        for i in counter:
            await intake.submit(scope, tenant, _submission(i), channel="public", actor=ANONYMOUS,
                                reporter_user_id=None, now=datetime.now(UTC))

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return count / (time.perf_counter() - began)


class Baseline:
    """The same statements, hand-written on asyncpg."""

    def __init__(self, pool: asyncpg.Pool, tenant_id: int, tenant: Any) -> None:
        self.pool, self.tenant_id, self.tenant = pool, tenant_id, tenant
        self.summary = json.dumps({"processes": {n: sorted(p.states) for n, p in tenant.processes.items()},
                                   "categories": sorted(tenant.categories)}, separators=(",", ":"))

    async def submit(self, i: int) -> None:
        t, sql, now = self.tenant_id, BASELINE_SQL, datetime.now(UTC)
        sub = _submission(i)
        async with self.pool.acquire() as con, con.transaction():
            await con.executemany(sql["version_insert"], [(self.tenant.version, self.summary, now, t)])
            version_id = (await con.fetch(sql["version_select"], t, self.tenant.version, 2))[0]["id"]
            contact = await con.fetchval(sql["contact"], "Jan Nowak", f"jan{i}@example.pl", None, now, None, t)
            provisional = f"~{uuid.uuid4().hex[:24]}"  # the number is taken last, as the service does
            ticket = await con.fetchval(sql["ticket"], provisional, "pothole", "simple_fix", "new", "open", "drogi",
                                        "normal", 0, sub.description, sub.lat, sub.lon, sub.address, "public", now,
                                        None, None, None, 1, now, now, version_id, None, contact, None, t)
            await con.fetchval(sql["attribute"], "size", json.dumps({"value": sub.attributes["size"]}), t, ticket)
            after = {"category": "pothole", "description": sub.description, "lat": sub.lat, "lon": sub.lon,
                     "address": sub.address, "attributes": sub.attributes, "channel": "public",
                     "reporter_contact": contact}
            await con.fetchval(sql["audit"], "user", "submit", "{}", json.dumps(after), None, now, None, None, t,
                               ticket)
            await con.fetch(sql["tasks"], t, ticket)
            await con.fetchval(sql["timer"], "remind_dispatcher", "new", "armed", now + timedelta(days=1), None, None,
                               t, ticket)
            year = now.year
            await con.execute(sql["counter_insert"], t, year)
            value = (await con.fetch(sql["counter_update"], t, year))[0]["value"]
            number = f"{self.tenant.config.number_prefix}-{year:04d}-{value:06d}"
            await con.execute(sql["number"], number, now, t, ticket)
            for n, channel in enumerate(("email", "inbox"), 1):
                payload = {"template": "ticket_received", "event": "ticket_created", "recipients": ["reporter"],
                           "ticket": number, "task": None, "locale": "pl"}
                await con.fetchval(sql["outbox"], "ticket_received", channel, f"{number}:v1:{n}:{channel}",
                                   json.dumps(payload), "pending", 0, None, None, None, now, None, t, ticket)
            document = " ".join((number.replace("-", " "), "Pothole Dziura w jezdni", sub.description,
                                 (sub.address or "").replace(".", ""), "small up to 30 cm"))
            await con.fetchval(sql["search_insert"], document, now, t, ticket)

    async def round(self, start: int, count: int, concurrency: int) -> float:
        counter = iter(range(start, start + count))

        async def client() -> None:
            for i in counter:
                await self.submit(i)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return count / (time.perf_counter() - began)


def _with_database(url: str, name: str, query: str = "") -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}", query=query))


async def _profile(work: Callable[[], Awaitable[float]], top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        await work()
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    name = f"komunikator_bench_{os.getpid()}"
    admin = await asyncpg.connect(args.admin_url.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(args.admin_url, name)
    try:
        await db.upgrade(url)
        await db.close()
        size = args.concurrency
        await db.init(_with_database(args.admin_url, name, f"minsize={size}&maxsize={size}"))
        tenant = TenantRegistry.load(Settings.from_env()).tenants["zgierz"]
        row = await ensure_tenant("zgierz", "Zgierz")
        scope = TenantScope(row.id)
        pool = await asyncpg.create_pool(url.replace("postgres://", "postgresql://", 1), min_size=size, max_size=size)
        baseline = Baseline(pool, row.id, tenant)
        # warm-up: prepared statements, caches, the counter row
        await _service_round(scope, tenant, 0, size * 4, size)
        await baseline.round(10**6, size * 4, size)
        service, hand = [], []
        for r in range(args.rounds):
            service.append(await _service_round(scope, tenant, (r + 1) * 10**5, args.per_round, size))
            hand.append(await baseline.round(10**6 + (r + 1) * 10**5, args.per_round, size))
        profile = None
        if args.profile:
            profile = await _profile(lambda: _service_round(scope, tenant, 9 * 10**6, args.per_round, size),
                                     args.profile)
        await pool.close()
        await db.close()
        a, b = statistics.median(service), statistics.median(hand)
        return {"concurrency": size, "rounds": args.rounds, "per_round": args.per_round,
                "service_per_s": [round(x, 1) for x in service], "baseline_per_s": [round(x, 1) for x in hand],
                "service_median": round(a, 1), "baseline_median": round(b, 1), "ratio": round(a / b, 3),
                "statements_per_submission": 21, "load_average": os.getloadavg(), "profile": profile}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _print(result: dict[str, Any]) -> None:
    print(f"intake on PostgreSQL, {result['concurrency']} concurrent clients on one event loop, "
          f"{result['rounds']} rounds × {result['per_round']} submissions (load average now "
          f"{result['load_average'][0]:.1f})")
    print(f"  (a) service  intake.submit      {result['service_median']:8.1f} /s   rounds {result['service_per_s']}")
    print(f"  (b) baseline asyncpg, same SQL  {result['baseline_median']:8.1f} /s   rounds {result['baseline_per_s']}")
    print(f"  a/b = {result['ratio']:.2f}   (targets: a/b ≥ 0.5 and a ≥ 100/s)")
    if result["profile"]:
        print(result["profile"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=600)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N hottest functions")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    outcome = asyncio.run(main(options))
    if options.json:
        print(json.dumps({k: v for k, v in outcome.items() if k != "profile"}, indent=2))
    else:
        _print(outcome)
