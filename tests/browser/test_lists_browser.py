"""The universal list page in Chromium: a nested filter and a two-column sort, a view shared with a unit,
the exports read back, axe-core and screenshots (desktop and phone).

The expected rows are worked out here in Python over the seeded city (the
runtime's `sees_ticket` for who reads what), apart from the engine's SQL.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from browser_helpers import PASSWORD, World, axe_violations, open_tab, shoot, sign_in

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.schema.categories import PRIORITIES
from komunikator.engine.service import accounts
from komunikator.engine.service.row_views import ticket_view, unpack_attribute, user_view

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ZONE = ZoneInfo("Europe/Warsaw")


def _document(start: str, end: str) -> dict[str, Any]:
    return {"match": "all", "conditions": [
        {"field": "created_at", "op": "between", "value": [start, end]},
        {"match": "any", "conditions": [
            {"field": "attr.size", "op": "in", "value": ["small", "large"]},
            {"field": "priority", "op": "in", "value": ["high", "urgent"]},
            {"field": "unit", "op": "eq", "value": "zielen"}]}]}


async def _expected(world: World, who: str, start: str, end: str) -> list[str]:
    """Numbers the view shows `who`, in the view's order (priority descending, then oldest first)."""
    scope = world.scope
    assert scope is not None and world.registry is not None
    tenant = world.registry.tenants["zgierz"]
    user = await user_view(scope, await accounts.get_user(scope, world.emails[who]))
    low = datetime.fromisoformat(start).replace(tzinfo=ZONE).astimezone(UTC)
    high = (datetime.fromisoformat(end) + timedelta(days=1)).replace(tzinfo=ZONE).astimezone(UTC)
    kept = []
    for t in await scope.tickets():
        view = await ticket_view(scope, t)
        size = {a.name: unpack_attribute(a.value) for a in await scope.ticket_attributes().filter(ticket_id=t.id)}
        if not (sees_ticket(tenant, user, view) and low <= t.created_at < high):
            continue
        if size.get("size") in ("small", "large") or t.priority in ("high", "urgent") or t.responsible_unit == "zielen":
            kept.append(t)
    kept.sort(key=lambda t: (-PRIORITIES.index(t.priority), t.created_at, -t.id))
    return [t.number for t in kept]


_FETCH = """async (url) => {
  const answer = await fetch(url, {credentials: "same-origin"});
  if (!answer.ok) throw new Error("download failed: " + answer.status);
  const bytes = new Uint8Array(await answer.arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""


async def _download(page: Any, href: str | None) -> bytes:
    """A download as the signed-in page fetches it (the browser's own session)."""
    assert href is not None
    return base64.b64decode(await page.evaluate(_FETCH, href))


async def _numbers(page: Any) -> list[str]:
    """Every number the list shows, following "next page" to the end."""
    found: list[str] = []
    while True:
        found += await page.locator("#list-table tbody tr td:first-child a").all_inner_texts()
        following = page.locator("#next-page")
        if not await following.count():
            return found
        await following.click()
        await page.wait_for_load_state("load")


async def test_a_nested_filter_a_shared_view_and_the_exports(world: World, browser: Any) -> None:
    scope = world.scope
    assert scope is not None and world.registry is not None
    tenant = world.registry.tenants["zgierz"]
    now = datetime.now(UTC)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=45, seed=11, end=now, months=2)
    boss = await accounts.create_user(scope, "szef@zgierz.localhost", "Zofia Szefowa", password=PASSWORD)
    for unit in ("drogi", "zielen"):
        await accounts.grant(scope, tenant, boss, unit, "unit_head")
    world.emails["boss"] = "szef@zgierz.localhost"
    start = (now - timedelta(days=45)).astimezone(ZONE).date().isoformat()
    end = now.astimezone(ZONE).date().isoformat()
    doc = _document(start, end)
    columns = "number,priority,created_at,unit,attr.size,description"
    path = f"/staff/lists/tickets?filter={quote(json.dumps(doc))}&sort=-priority,created_at&columns={columns}"

    # the head of two units: the nested filter and the two-column sort, exactly the expected rows
    tab = await open_tab(browser)
    await sign_in(tab, world, "boss", "/staff/lists/tickets")
    page = tab.page
    await page.goto(world.url(path))
    assert "Przyjęto od" in await page.locator("#filter-description").inner_text()
    assert "LUB" in await page.locator("#filter-description").inner_text()
    boss_rows = await _expected(world, "boss", start, end)
    assert await _numbers(page) == boss_rows
    injected = await scope.tickets().filter(responsible_unit="zielen", number__in=boss_rows).order_by("id").first()
    assert injected is not None  # a greenery ticket the road worker below may not see
    await scope.tickets().filter(id=injected.id).update(description="=SUM(1+1)*cmd|' /C calc'!A0")
    # the builder round trip: a condition added without a script, then removed again, the filter kept
    await page.goto(world.url(path))
    await page.locator("details.panel > summary").click()  # the builder folds away under the chips
    await page.locator("#builder-tree button[name=add][value=r]").click()
    await page.wait_for_load_state("load")
    assert await page.locator("#node-r\\.2").count() == 1
    await page.locator("details.panel > summary").click()
    await page.locator("#node-r\\.2 button[name=remove]").click()
    await page.wait_for_load_state("load")
    assert await _numbers(page) == boss_rows
    await page.goto(world.url(path))
    assert await axe_violations(tab) == []
    await shoot(tab, "lists-tickets-nested")
    await page.locator("details.panel > summary").click()  # the builder, open: two levels of groups
    assert await page.locator("#builder-tree fieldset.builder__group--2").count() == 1
    assert await axe_violations(tab) == []
    await shoot(tab, "lists-tickets-builder")
    # saved, shared with the unit drogi
    await page.fill("#view-name", "Pilne i duże")
    await page.check("#share-unit-drogi")
    await page.locator(".saved-views__form button[type=submit]").click()
    await page.wait_for_load_state("load")
    assert "Pilne i duże" in await page.locator("h1").inner_text()
    assert tab.csp_violations() == []

    # a colleague in the unit opens it: still only what they may see
    colleague = await open_tab(browser)
    await sign_in(colleague, world, "worker", "/staff/lists/tickets")
    other = colleague.page
    await other.goto(world.url("/staff/lists/tickets"))
    link = other.locator(".saved-views__list a", has_text="Pilne i duże")
    await link.click()
    await other.wait_for_load_state("load")
    theirs = await _numbers(other)
    assert theirs == await _expected(world, "worker", start, end)
    assert set(theirs) < set(boss_rows)  # the zielen tickets stay hidden from a road worker
    assert injected.number not in theirs

    # the exports of the head's view hold exactly what the page shows
    await page.goto(world.url(path))
    shown = [[await c.inner_text() for c in await row.locator("td").all()]
             for row in await page.locator("#list-table tbody tr").all()]
    xlsx_href = await page.locator(".list-exports a", has_text="XLSX").get_attribute("href")
    csv_href = await page.locator(".list-exports a", has_text="CSV").get_attribute("href")
    book = openpyxl.load_workbook(io.BytesIO(await _download(page, xlsx_href)))
    cells = list(book.worksheets[0].iter_rows(values_only=True))
    headings = [t.strip() for t in await page.locator("#list-table thead th").all_inner_texts()]
    assert list(cells[0]) == headings

    def as_shown(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%d.%m.%Y %H:%M")
        return str(value)

    assert len(cells) == len(boss_rows) + 1
    assert [[as_shown(v) for v in row] for row in cells[1:51]] == shown  # the first page, cell for cell
    table = list(csv.reader(io.StringIO((await _download(page, csv_href)).decode("utf-8-sig"))))
    assert table[0] == headings and len(table) == len(cells)
    for line, row in zip(table[1:], cells[1:], strict=True):
        for text, value in zip(line, row, strict=True):
            if isinstance(value, datetime):
                assert text == value.strftime("%Y-%m-%d %H:%M:%S")
            elif isinstance(value, str) and value[:1] in "=+-@":
                assert text == "'" + value
            else:
                assert text == as_shown(value)
    bad = next(line for line in table[1:] if line[0] == injected.number)
    assert bad[-1] == "'=SUM(1+1)*cmd|' /C calc'!A0"
    events = await scope.audit_events().filter(action="list_export")
    assert sorted(e.after["format"] for e in events) == ["csv", "xlsx"]
