"""`GET /api/v1/lists/<list>` and its exports over HTTP, on a seeded town (both databases).

The API walks a nested filter with a two-column sort page by page and returns
what the model of the lists says each user may see; mistakes are 422s naming
the parameter or the filter's JSON path; the CSV and the XLSX hold exactly the
view (read back cell for cell, the XLSX with openpyxl), a formula in a
description is neutralised in the CSV, and every export is audited.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import openpyxl
import pytest
from lists_model import EVERYONE, NOW, expected, seeded_town, spec, zgierz

from komunikator.engine.lists.view import cell, cell_text
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.service import accounts
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

pytestmark = pytest.mark.anyio

NESTED = {"match": "all", "conditions": [
    {"field": "public_status", "op": "eq", "value": "open"},
    {"match": "any", "conditions": [
        {"field": "priority", "op": "in", "value": ["high", "urgent"]},
        {"field": "overdue", "op": "eq", "value": True},
        {"field": "created_at", "op": "between", "value": ["2026-03-01", "2026-04-30"]}]}]}


@pytest.fixture
async def world(db: str) -> AsyncIterator[dict[str, Any]]:
    town = await seeded_town()
    scope: TenantScope = town["scope"]
    tenant = zgierz()
    app = create_app(TenantRegistry.load(Settings.from_env()), init_database=False, clock=lambda: NOW)
    headers = {}
    for who, unit, role in (("bom", "bom", "dispatcher"), ("drogi", "drogi", "worker")):
        user = await accounts.create_user(scope, f"{who}-lists@zgierz.pl", who)
        await accounts.grant(scope, tenant, user, unit, role)
        raw, _ = await accounts.create_token(scope, user, "tests")
        headers[who] = {"Authorization": f"Bearer {raw}"}
        town[f"{who}_id"] = str(user.id)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                               headers={"Host": "zgierz.localhost"})
    try:
        yield {**town, "client": client, "headers": headers}
    finally:
        await client.aclose()


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], name: str, params: dict[str, str],
                limit: int = 6) -> tuple[list[int], list[dict[str, Any]], dict[str, Any]]:
    ids: list[int] = []
    rows: list[dict[str, Any]] = []
    first: dict[str, Any] = {}
    after = None
    while True:
        r = await client.get(f"/api/v1/lists/{name}", params={**params, "limit": str(limit),
                                                             **({"after": after} if after else {})}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        first = first or body
        ids += [row["id"] for row in body["rows"]]
        rows += body["rows"]
        after = body["next_cursor"]
        if after is None:
            return ids, rows, first


async def test_the_api_pages_a_nested_filter_and_two_column_sort_as_the_model_says(world: dict[str, Any]) -> None:
    client, headers = world["client"], world["headers"]
    params = {"filter": json.dumps(NESTED), "sort": "-priority,due_at", "columns": "number,priority,due_at,unit"}
    sort = [("priority", True), ("due_at", False)]
    ids, rows, first = await _walk(client, headers["bom"], "tickets", params)
    assert ids == expected("tickets", world["tickets"], EVERYONE, NESTED, sort)
    assert 0 < len(ids) < len(world["tickets"])
    assert first["total"] == len(ids) and first["total_estimated"] is False
    assert [c["key"] for c in first["columns"]] == ["number", "priority", "due_at", "unit"]
    assert first["filter_description"].startswith("Status publiczny = otwarte ORAZ (Priorytet jest jednym z")
    assert set(rows[0]["values"]) == {"number", "priority", "due_at", "unit"}
    worker = UserView(world["drogi_id"], (Membership("drogi", "worker"),), "staff", "x")
    theirs, _, _ = await _walk(client, headers["drogi"], "tickets", params)
    assert theirs == expected("tickets", world["tickets"], worker, NESTED, sort)
    assert set(theirs) < set(ids)  # a worker sees less, with the same filter
    tasks, _, _ = await _walk(client, headers["drogi"], "tasks", {"sort": "unit,-due_at"})
    assert tasks == expected("tasks", world["tasks"], worker, {}, [("unit", False), ("due_at", True)])


BAD = [
    ({"filter": '{"conditions": [{"field": "priority", "op": "gt", "value": 1}]}'}, "filter.conditions[0].op"),
    ({"filter": '{"conditions": [{"match": "any", "conditions": [{"field": "x", "op": "eq"}]}]}'},
     "filter.conditions[0].conditions[0].field"),
    ({"filter": "{" * 50}, "filter"),
    ({"filter": "x" * 5000}, "filter"),
    ({"filter": '{"conditions": [{"field": "address", "op": "contains", "value": "a\x00"}]}'}, "filter"),
    ({"sort": "description"}, "sort"),
    ({"sort": "nope,-nope"}, "sort"),
    ({"columns": "number,nope"}, "columns"),
    ({"after": "garbage"}, "after"),
    ({"limit": "0"}, "limit"),
]


@pytest.mark.parametrize(("params", "field"), BAD)
async def test_mistakes_are_422_naming_where(world: dict[str, Any], params: dict[str, str], field: str) -> None:
    r = await world["client"].get("/api/v1/lists/tickets", params=params, headers=world["headers"]["bom"])
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()


async def test_who_opens_which_list(world: dict[str, Any]) -> None:
    client, headers = world["client"], world["headers"]
    assert (await client.get("/api/v1/lists/users", headers=headers["drogi"])).status_code == 403
    assert (await client.get("/api/v1/lists/users/export", headers=headers["drogi"])).status_code == 403
    assert (await client.get("/api/v1/lists/tickets")).status_code == 401
    assert (await client.get("/api/v1/lists/nothing", headers=headers["bom"])).status_code == 404
    r = await client.get("/api/v1/lists/audit", params={"sort": "-at"}, headers=headers["bom"])
    assert r.status_code == 200 and r.json()["rows"]


async def test_exports_hold_exactly_the_view_and_are_audited(world: dict[str, Any]) -> None:
    client, headers, scope = world["client"], world["headers"], world["scope"]
    tenant = zgierz()
    first = await scope.tickets().filter(public_status="open").order_by("id").first()
    assert first is not None
    await scope.tickets().filter(id=first.id).update(description='=HYPERLINK("http://zly.example","kliknij")',
                                                     priority="urgent")
    params = {"filter": json.dumps(NESTED), "sort": "-priority,due_at",
              "columns": "number,description,priority,due_at,attr.size,unit"}
    _, rows, page = await _walk(client, headers["bom"], "tickets", params, limit=200)
    columns = [spec("tickets").column(c["key"]) for c in page["columns"]]
    assert first.id in {r["id"] for r in rows}

    def typed(row: dict[str, Any], column: Any) -> Any:
        value = row["values"][column.key]
        return datetime.fromisoformat(value) if column.render == "datetime" and value else value

    r = await client.get("/api/v1/lists/tickets/export", params={**params, "format": "csv"}, headers=headers["bom"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["Numer", "Opis", "Priorytet", "Termin", "Wielkość ubytku", "Jednostka"]
    assert len(table) == len(rows) + 1
    for line, row in zip(table[1:], rows, strict=True):
        want = []
        for column in columns:
            value = typed(row, column)
            if column.render == "datetime" and value:
                want.append(cell(column, value, tenant, "pl").strftime("%Y-%m-%d %H:%M:%S"))
            else:
                shown = cell_text(column, value, tenant, "pl")
                want.append("'" + shown if shown[:1] in ("=", "+", "-", "@") else shown)
        assert line == want
    injected = next(line for line in table[1:] if line[0] == first.number)
    assert injected[1] == "'=HYPERLINK(\"http://zly.example\",\"kliknij\")"

    r = await client.get("/api/v1/lists/tickets/export", params={**params, "format": "xlsx", "lang": "en"},
                         headers=headers["bom"])
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == ["Number", "Description", "Priority", "Deadline", "Size of the hole", "Unit"]
    assert len(values) == len(rows) + 1
    for got, row in zip(values[1:], rows, strict=True):
        assert list(got) == [cell(c, typed(row, c), tenant, "en") for c in columns]
    about = dict(book.worksheets[1].iter_rows(values_only=True))
    assert about["Rows"] == len(rows) and about["List"] == "Tickets"
    assert about["Filter"].startswith("Public status = open AND (Priority is one of (high, urgent) OR Overdue OR")
    events = await scope.audit_events().filter(action="list_export").order_by("id")
    assert [(e.after["format"], e.after["rows"], e.after["list"], e.after["complete"]) for e in events] == [
        ("csv", len(rows), "tickets", True), ("xlsx", len(rows), "tickets", True)]
    assert events[0].after["filter"] == NESTED and events[0].actor_user_id is not None
