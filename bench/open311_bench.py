"""Open311 `GET requests` returning 1,000 requests with all fields, against a hand-written SQL query of the same rows.

Run from the repository root:

    .venv/bin/python bench/open311_bench.py                  # SQLite in a temporary folder
    .venv/bin/python bench/open311_bench.py --database-url postgres://postgres@127.0.0.1:5432/kbench_o311
    .venv/bin/python bench/open311_bench.py --runs 30 --json

It migrates a fresh database and files 1,000 Zgierz reports through the intake (every tenth with a
public update and a public photo, some verified), then times, interleaved in the same process:

  endpoint — `GET /open311/v2/requests.json?page_size=1000` (and `.xml`) over the app in-process
             (httpx's ASGI transport, no sockets): parameters, the ORM queries, the public fields,
             the encoder, the HTTP answer;
  SQL      — one hand-written statement selecting the same 1,000 rows with the latest public update
             and the first public photo as subqueries, turned into the same fields by the same
             function and serialised by the same encoder (`web/open311/render.py`).

Both answers are checked to be the same document before timing. The issue's target: endpoint ≤ 2 × SQL
(JSON); the XML figures are reported too. A PostgreSQL database named by `--database-url` is created
and dropped (it must not exist).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.open311 import fields
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts, intake, tickets
from komunikator.engine.service.row_views import user_view
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.models import Attachment
from komunikator.engine.store.outbox_queue import dialect
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app
from komunikator.web.open311.render import encode_json, encode_xml

RATIO_TARGET = 2.0
COUNT = 1000
BASE = "http://zgierz.localhost"


async def _seed(registry: TenantRegistry) -> TenantScope:
    tenant = registry.tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz", "Zgierz")).id)
    user = await accounts.create_user(scope, "bom@zgierz.localhost", "bom")
    await accounts.grant(scope, tenant, user, "bom", "dispatcher")
    dispatcher = await user_view(scope, user)
    start = datetime.now(UTC) - timedelta(days=30)
    for i in range(COUNT):
        now = start + timedelta(minutes=30 * i)
        body = intake.Submission(category="pothole", description=f"Dziura nr {i} przy ul. Długiej",
                                 lat=51.85 + (i % 50) / 1000, lon=19.40 + (i % 40) / 1000, address=f"ul. Długa {i}",
                                 attributes={"size": "medium"})
        ticket, _ = await intake.submit(scope, tenant, body, channel="open311",
                                        actor=UserView("anonymous", (), "resident"), reporter_user_id=None, now=now)
        assert ticket is not None  # noqa: S101
        if i % 10 == 0:
            await tickets.act(scope, tenant, ticket.number, "verify", dispatcher, {}, now)
            await tickets.add_comment(scope, tenant, ticket.number, dispatcher, f"Zlecono naprawę ({i})", "public",
                                      now)
            await scope.create(Attachment, ticket=ticket, visibility="public", content_type="image/jpeg",
                               original_name="a.jpg", size=1, sha256="0" * 64, storage_key=f"bench/{i}.jpg",
                               created_at=now)
    return scope


def _sql(kind: str, hidden: list[str]) -> str:
    mark = (lambda n: f"${n}") if kind == "postgres" else (lambda n: "?")
    not_hidden = ", ".join(mark(3 + i) for i in range(len(hidden)))
    # placeholders and our own column names only
    return (
        "SELECT t.id, t.number, t.category, t.process, t.state, t.public_status, t.responsible_unit, t.lat, t.lon, "  # noqa: S608
        "t.address, t.created_at, t.updated_at, t.due_at, "
        "(SELECT c.body FROM comments c WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.id "
        "AND c.visibility = 'public' ORDER BY c.created_at DESC, c.id DESC LIMIT 1) AS note, "
        "(SELECT a.id FROM attachments a WHERE a.tenant_id = t.tenant_id AND a.ticket_id = t.id "
        "AND a.visibility = 'public' AND a.hidden_at IS NULL ORDER BY a.created_at, a.id LIMIT 1) AS photo "
        f"FROM tickets t WHERE t.tenant_id = {mark(1)} AND t.created_at >= {mark(2)} "
        + (f"AND t.category NOT IN ({not_hidden}) " if hidden else "")
        + f"ORDER BY t.created_at DESC, t.id DESC LIMIT {COUNT}"
    )


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _by_sql(scope: TenantScope, tenant: CompiledTenant, kind: str) -> list[dict[str, Any]]:
    """The same 1,000 requests from one hand-written statement, formatted by the same function."""
    hidden = fields.hidden_categories(tenant)
    rows = await db.connection().execute_query_dict(
        _sql(kind, hidden), [scope.tenant_id, datetime.now(UTC) - fields.DEFAULT_WINDOW, *hidden])
    zone = ZoneInfo(tenant.config.time_zone)
    out = []
    for row in rows:
        for name in ("created_at", "updated_at", "due_at"):
            row[name] = _moment(row[name])
        out.append(fields._request(tenant, row, "pl", zone, row["note"], row["photo"], BASE))
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="komunikator-open311-bench-"))
    url = args.database_url or f"sqlite://{folder / 'bench.sqlite3'}"
    admin = None
    if url.startswith("postgres"):
        import asyncpg  # type: ignore[import-untyped]

        base, name = url.rsplit("/", 1)
        admin = await asyncpg.connect((base + "/postgres").replace("postgres://", "postgresql://", 1))
        await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await db.upgrade(url)
        await db.close()
        await db.init(url)
        registry = TenantRegistry.load(Settings.from_env())
        tenant = registry.tenants["zgierz"]
        started = time.perf_counter()
        scope = await _seed(registry)
        seeded = time.perf_counter() - started
        kind = dialect()
        app = create_app(registry, init_database=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers={"Host": "zgierz.localhost"}) as client:
            path = "/open311/v2/requests.{}?page_size=1000"
            served = await client.get(path.format("json"))
            by_sql = await _by_sql(scope, tenant, kind)
            assert len(served.json()) == COUNT, len(served.json())  # noqa: S101
            assert served.content == encode_json(by_sql), "the two answers differ"  # noqa: S101
            served_xml = await client.get(path.format("xml"))
            assert served_xml.content == encode_xml("service_requests", by_sql)  # noqa: S101
            times: dict[str, list[float]] = {"endpoint_json": [], "sql_json": [], "endpoint_xml": [], "sql_xml": []}
            for run in range(args.warmup + args.runs):
                timed: dict[str, float] = {}
                for fmt in ("json", "xml"):
                    t0 = time.perf_counter()
                    answer = await client.get(path.format(fmt))
                    timed[f"endpoint_{fmt}"] = time.perf_counter() - t0
                    assert answer.status_code == 200  # noqa: S101
                    t0 = time.perf_counter()
                    rows = await _by_sql(scope, tenant, kind)
                    body = encode_json(rows) if fmt == "json" else encode_xml("service_requests", rows)
                    timed[f"sql_{fmt}"] = time.perf_counter() - t0
                    assert len(body) > 0  # noqa: S101
                if run >= args.warmup:
                    for key, value in timed.items():
                        times[key].append(value)
        await db.close()
    finally:
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            await admin.close()
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "database": "postgresql" if kind == "postgres" else "sqlite", "requests": COUNT, "runs": args.runs,
        "seed_s": round(seeded, 1),
        **{f"{k}_median_ms": round(1000 * v, 1) for k, v in medians.items()},
        "ratio_json": round(medians["endpoint_json"] / medians["sql_json"], 2),
        "ratio_xml": round(medians["endpoint_xml"] / medians["sql_xml"], 2),
        "json_bytes": len(served.content), "xml_bytes": len(served_xml.content), "target": RATIO_TARGET,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _print(r: dict[str, Any]) -> None:
    print(f"Open311 GET requests, {r['requests']} requests with all fields, on {r['database']}, {r['runs']} "
          f"interleaved runs (load average {r['load_average'][0]}; seeding took {r['seed_s']} s)")
    for fmt in ("json", "xml"):
        print(f"  {fmt.upper():4} endpoint {r[f'endpoint_{fmt}_median_ms']:7.1f} ms   hand-written SQL + same "
              f"encoder {r[f'sql_{fmt}_median_ms']:7.1f} ms   ratio {r[f'ratio_{fmt}']:.2f}   "
              f"({r[f'{fmt}_bytes']} B)")
    verdict = "within" if r["ratio_json"] <= r["target"] else "OVER"
    print(f"  JSON endpoint/SQL = {r['ratio_json']:.2f} ({verdict} the target ≤ {r['target']:.0f}×)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL of a database to create and drop")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    result = asyncio.run(main(options))
    print(json.dumps(result, indent=2)) if options.json else _print(result)
