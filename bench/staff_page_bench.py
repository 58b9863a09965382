"""The staff ticket page rendered by the server against the JSON of `GET /api/v1/tickets/{number}`, same run.

Run from the repository root:

    .venv/bin/python bench/staff_page_bench.py                  # SQLite in a temporary folder
    .venv/bin/python bench/staff_page_bench.py --database-url postgres://postgres@127.0.0.1:5432/kbench_x
    .venv/bin/python bench/staff_page_bench.py --runs 300 --json

It migrates a fresh database, seeds Zgierz's dispatcher and one worked ticket (verified, two
units' tasks, a hop, internal notes, a photo — what a page usually shows), then times, interleaved
in the same process over the app in-process (httpx's ASGI transport, no sockets):

  page — `GET /staff/tickets/{number}` as the signed-in dispatcher: the read models, `capabilities`,
         the history, the generated forms and the Jinja2 template;
  JSON — `GET /api/v1/tickets/{number}` with the dispatcher's API token: the same ticket detail.

and reports the medians, p95 and the ratio page/JSON (the issue's target: ≤ 2), with the SQL
statements each request runs (`engine/store/statements.count_statements`). A PostgreSQL database
named by `--database-url` is created and dropped (it must not exist).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts, attachments, intake, tickets
from komunikator.engine.service.row_views import user_view
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.store.statements import count_statements
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

RATIO_TARGET = 2.0
PASSWORD = "haslo-bench-123"  # noqa: S105 - a throw-away database's account


async def _seed(registry: TenantRegistry, media: Path) -> tuple[str, str]:
    """Zgierz's dispatcher, a worker and one worked ticket; the ticket's number and the dispatcher's API token."""
    tenant = registry.tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz", "Zgierz")).id)
    people = {}
    for email, memberships in [("bom@zgierz.localhost", ["bom:dispatcher"]), ("zielen@zgierz.localhost",
                                                                                ["zielen:worker"])]:
        user = await accounts.create_user(scope, email, email.split("@")[0], password=PASSWORD)
        for membership in memberships:
            unit, role = membership.split(":")
            await accounts.grant(scope, tenant, user, unit, role)
        people[email] = await user_view(scope, user)
    dispatcher, worker = people["bom@zgierz.localhost"], people["zielen@zgierz.localhost"]
    now = datetime.now(UTC)
    body = intake.Submission(category="fallen_tree", description="Drzewo przewrócone na jezdnię przy ul. Długiej.",
                             lat=51.8561, lon=19.4062, address="ul. Długa 5", attributes={"blocking": "road"},
                             reporter=intake.ReporterIn(name="Jan Kowalski", email="jan@example.pl"))
    ticket, _ = await intake.submit(scope, tenant, body, channel="public", actor=UserView("anonymous", (), "resident"),
                                    reporter_user_id=None, now=now)
    number = ticket.number
    await tickets.act(scope, tenant, number, "verify", dispatcher, {}, now)
    await tickets.act_on_task(scope, tenant, number, "T1", "take", worker, {}, now)
    await tickets.act_on_task(scope, tenant, number, "T1", "delegate", worker,
                              {"to_unit": "gospodarka_komunalna", "reason": "Za duże dla zieleni."}, now)
    for i in range(3):
        await tickets.add_comment(scope, tenant, number, dispatcher, f"Notatka dyspozytora nr {i}.", "internal", now)
    picture = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 110, 40)).save(picture, "JPEG")
    await attachments.add(scope, tenant, number, dispatcher, attachments.Upload(picture.getvalue(), "drzewo.jpg"),
                          storage=LocalStorage(media), now=now)
    raw, _ = await accounts.create_token(scope, await accounts.get_user(scope, "bom@zgierz.localhost"), "bench")
    return number, raw


async def _sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None  # noqa: S101
    signed = await client.post("/staff/login", data={"csrf_token": token.group(1), "email": "bom@zgierz.localhost",
                                                      "password": PASSWORD, "next": "/staff/"},
                               headers={"Origin": "http://zgierz.localhost"})
    assert signed.status_code == 303, signed.text  # noqa: S101


async def _time(client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    r = await client.get(path, headers=headers)
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text[:500]  # noqa: S101
    return elapsed


async def main(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="komunikator-staff-bench-"))
    url = args.database_url or f"sqlite://{folder / 'bench.sqlite3'}"
    os.environ["KOMUNIKATOR_MEDIA_DIR"] = str(folder / "media")
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
        number, token = await _seed(registry, folder / "media")
        app = create_app(registry, init_database=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                     headers={"Host": "zgierz.localhost"}) as pages, \
                httpx.AsyncClient(transport=transport, base_url="http://test",
                                  headers={"Host": "zgierz.localhost"}) as api:
            await _sign_in(pages)
            page_path, json_path = f"/staff/tickets/{number}", f"/api/v1/tickets/{number}"
            bearer = {"Authorization": f"Bearer {token}"}
            for _ in range(args.warmup):
                await _time(pages, page_path)
                await _time(api, json_path, bearer)
            with count_statements() as page_sql:
                page_bytes = len((await pages.get(page_path)).content)
            with count_statements() as json_sql:
                json_bytes = len((await api.get(json_path, headers=bearer)).content)
            page_times, json_times = [], []
            for _ in range(args.runs):
                page_times.append(await _time(pages, page_path))
                json_times.append(await _time(api, json_path, bearer))
        await db.close()
    finally:
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            await admin.close()

    def ms(values: list[float], q: float) -> float:
        return round(1000 * (statistics.quantiles(values, n=100)[int(q) - 1] if q < 100 else max(values)), 2)

    page_median, json_median = statistics.median(page_times), statistics.median(json_times)
    return {
        "database": "postgresql" if url.startswith("postgres") else "sqlite", "runs": args.runs,
        "page_median_ms": round(1000 * page_median, 2), "page_p95_ms": ms(page_times, 95),
        "json_median_ms": round(1000 * json_median, 2), "json_p95_ms": ms(json_times, 95),
        "ratio": round(page_median / json_median, 2), "target": RATIO_TARGET,
        "page_statements": page_sql.count, "json_statements": json_sql.count,
        "page_bytes": page_bytes, "json_bytes": json_bytes, "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _print(r: dict[str, Any]) -> None:
    print(f"staff ticket page vs GET /api/v1/tickets/{{number}} on {r['database']}, {r['runs']} interleaved runs "
          f"(load average {r['load_average'][0]})")
    print(f"  page  median {r['page_median_ms']:7.2f} ms  p95 {r['page_p95_ms']:7.2f} ms  "
          f"{r['page_statements']:3d} SQL statements  {r['page_bytes']} B")
    print(f"  JSON  median {r['json_median_ms']:7.2f} ms  p95 {r['json_p95_ms']:7.2f} ms  "
          f"{r['json_statements']:3d} SQL statements  {r['json_bytes']} B")
    verdict = "within" if r["ratio"] <= r["target"] else "OVER"
    print(f"  page/JSON = {r['ratio']:.2f}  ({verdict} the target ≤ {r['target']:.0f}×)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL of a database to create and drop")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    result = asyncio.run(main(options))
    print(json.dumps(result, indent=2)) if options.json else _print(result)
