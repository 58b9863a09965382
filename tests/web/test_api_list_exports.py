"""Background list exports through the JSON API (web/api_exports.py), on both databases.

`POST /api/v1/lists/<list>/exports` takes the inline export's parameters and
answers 202 with the export's id and status URL, whatever the view's size
(the inline export of a view this big answers 409 `export_too_big`); the
job writes it; `GET /api/v1/exports/{id}` then gives the download URL, and
the file holds the view. Another user, or another city, gets 404.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from web_helpers import Api, registry

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.delivery.embedded import EmbeddedRunner
from komunikator.engine.jobs import all_jobs
from komunikator.engine.lists import jobs
from komunikator.engine.store.models import ListExport
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
FILTER = {"match": "all", "conditions": [{"field": "public_status", "op": "eq", "value": "open"}]}
PARAMS = {"format": "csv", "filter": json.dumps(FILTER), "sort": "unit,-created_at", "columns": "number,unit,state"}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(jobs.INLINE_ENV, "5")
    monkeypatch.setenv(jobs.DIR_ENV, str(tmp_path / "exports"))
    return tmp_path / "exports"


async def test_the_api_starts_and_follows_a_background_export(api: Api, folder: Path) -> None:
    tenant = registry().tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=20, seed=3, end=api.clock.now)
    me = await api.staff("zgierz", "eksport@zgierz.pl", "bom:dispatcher")
    colleague = await api.staff("zgierz", "kolega@zgierz.pl", "bom:dispatcher")
    stranger = await api.staff("nieporet", "urzad@nieporet.pl", "urzad:management")
    client = api.client("zgierz")

    inline = await client.get("/api/v1/lists/tickets/export", params=PARAMS, headers=me)
    assert inline.status_code == 409 and "/api/v1/lists/tickets/exports" in inline.json()["message"]
    asked = await client.post("/api/v1/lists/tickets/exports", params=PARAMS, headers=me)
    assert asked.status_code == 202, asked.text
    body = asked.json()
    export_id = body["id"]
    assert body["status"] == "pending" and body["status_url"] == f"/api/v1/exports/{export_id}"
    assert body["download_url"] is None
    requested = await scope.audit_events().filter(action="list_export_requested").order_by("-id").first()
    assert requested is not None and requested.after["export_id"] == export_id
    assert requested.after["filter"] == FILTER
    assert (await client.get(f"/api/v1/exports/{export_id}/file", headers=me)).status_code == 404  # not yet

    await EmbeddedRunner(registry(), clock=api.clock, jobs={"exports": all_jobs()["exports"]}).run_once()
    ready = (await client.get(body["status_url"], headers=me)).json()
    assert ready["status"] == "done" and ready["download_url"] == f"/api/v1/exports/{export_id}/file"
    got = await client.get(ready["download_url"], headers=me)
    assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
    lines = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    row = await scope.get(ListExport, id=export_id)
    assert len(lines) == row.rows + 1 == ready["rows"] + 1 and ready["rows"] > 5
    assert (row.sort, row.columns, row.format) == ("unit,-created_at", "number,unit,state", "csv")

    # someone else's, another city's, nobody's: 404 alike
    nobody = await client.get("/api/v1/exports/999999", headers=me)
    assert nobody.status_code == 404
    for other_client, who in ((client, colleague), (api.client("nieporet"), stranger)):
        for path in (body["status_url"], ready["download_url"]):
            answer = await other_client.get(path, headers=who)
            assert (answer.status_code, answer.json()) == (404, nobody.json()), path

    # mistakes: 4xx and no export
    before = await scope.query(ListExport).count()
    for params in ({**PARAMS, "format": "pdf"}, {**PARAMS, "sort": "-nope"}, {**PARAMS, "filter": "{"}):
        assert (await client.post("/api/v1/lists/tickets/exports", params=params, headers=me)).status_code == 422
    assert (await client.post("/api/v1/lists/tickets/exports", params=PARAMS)).status_code == 401
    assert await scope.query(ListExport).count() == before

    # expired: 410, no download URL
    api.clock.advance(hours=25)
    await EmbeddedRunner(registry(), clock=api.clock, jobs={"exports": all_jobs()["exports"]}).run_once()
    gone = (await client.get(body["status_url"], headers=me)).json()
    assert gone["expired"] is True and gone["download_url"] is None
    assert (await client.get(f"/api/v1/exports/{export_id}/file", headers=me)).status_code == 410


async def test_the_background_export_routes_are_in_the_openapi_schema(api: Api) -> None:
    schema = (await api.client("zgierz").get("/openapi.json")).json()
    assert "post" in schema["paths"]["/api/v1/lists/tickets/exports"]
    assert "202" in schema["paths"]["/api/v1/lists/tickets/exports"]["post"]["responses"]
    assert "get" in schema["paths"]["/api/v1/exports/{export_id}"]
    assert "get" in schema["paths"]["/api/v1/exports/{export_id}/file"]
