"""The dashboard and a report in Chromium: charts drawn (uPlot), the map's clusters, no CSP violation,
axe-core without serious or critical findings, the XLSX downloaded; screenshots at desktop and phone size."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from browser_helpers import DESKTOP, PASSWORD, SCREENSHOTS, World, axe_violations, open_tab, shoot, sign_in

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.service import accounts

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def _management(world: World) -> None:
    assert world.scope is not None and world.registry is not None
    tenant = world.registry.tenants["zgierz"]
    await seed_tenant(world.scope, tenant, demo_staff("zgierz"), count=60, seed=4, end=datetime.now(UTC))
    user = await accounts.create_user(world.scope, "burmistrz@zgierz.localhost", "Burmistrz", password=PASSWORD)
    await accounts.grant(world.scope, tenant, user, "bom", "management")
    world.emails["management"] = "burmistrz@zgierz.localhost"


async def test_dashboard_and_a_report_in_the_browser(world: World, browser: Any) -> None:
    await _management(world)
    tab = await open_tab(browser, viewport=DESKTOP)
    page = tab.page
    await sign_in(tab, world, "management", "/staff/dashboard")
    assert page.url.endswith("/staff/dashboard")
    await page.wait_for_selector(".chart canvas")
    charts = await page.locator(".chart[data-chart]").count()
    drawn = await page.locator(".chart canvas").count()
    assert charts >= 4 and drawn >= charts  # every chart drew (uPlot: one canvas each)
    await page.wait_for_selector("#open-map .cluster")
    clusters = await page.locator("#open-map .cluster").count()
    assert clusters >= 3
    label = await page.locator("#open-map .cluster").first.get_attribute("aria-label")
    assert label and "zgłosze" in label  # „12 otwartych zgłoszeń”, named for screen readers
    # the heatmap: one shaded square per group, shown with its checkbox (the clusters stay until unticked)
    await page.get_by_label("Mapa ciepła").check()
    assert await page.locator("#open-map path.leaflet-interactive, #open-map svg path").count() >= clusters
    await page.get_by_label("Skupiska zgłoszeń").uncheck()
    assert await page.locator("#open-map .cluster").count() == 0
    await page.locator("#open-map").screenshot(path=str(SCREENSHOTS / "dashboard-heatmap.png"))
    await page.get_by_label("Skupiska zgłoszeń").check()
    assert await page.locator("nav a[aria-current=page]").inner_text() == "Pulpit"
    links = await page.locator("a[href^='/staff/lists/tickets?filter=']").count()
    assert links > 10  # the numbers link to the lists that explain them
    # the table fallback opens and reads the same numbers
    await page.locator(".tile__data summary").first.click()
    assert await page.locator(".tile__data table").first.is_visible()
    violations = await axe_violations(tab)
    assert violations == [], violations
    await shoot(tab, "dashboard")
    assert tab.csp_violations() == []

    await page.goto(world.url("/staff/reports"))
    await page.click("text=Zgłoszenia według jednostek i miesięcy")
    await page.wait_for_selector(".chart canvas")
    assert await page.locator("table.report-table tbody tr").count() > 3
    violations = await axe_violations(tab)
    assert violations == [], violations
    await shoot(tab, "report-tickets-by-unit-and-month")
    async with page.expect_download() as download_info:
        await page.click("text=Pobierz XLSX")
    download = await download_info.value
    book = openpyxl.load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("Miesiąc", "Komórka", "Liczba")
    assert len(rows) - 1 == await page.locator("table.report-table tbody tr").count()
    assert tab.csp_violations() == []


async def test_a_clerk_finds_no_dashboard(world: World, browser: Any) -> None:
    tab = await open_tab(browser)
    await sign_in(tab, world, "worker")
    assert await tab.page.locator("nav a[href='/staff/dashboard']").count() == 0
    answer = await tab.page.goto(world.url("/staff/dashboard"))
    assert answer is not None and answer.status == 404
