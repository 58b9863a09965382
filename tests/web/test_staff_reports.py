"""The reports' and the dashboard's pages in-process: who may open them, what they show, the XLSX.

Numbers on the pages come from `engine/reports/compute` (held to a Python
model in tests/reports); here: every shipped report renders on both demo
cities for their management, the table's first numbers are the computed
ones, the XLSX holds the same rows, and a clerk gets the 404 page for each.
"""

from __future__ import annotations

import html
import io
import json
import re
from urllib.parse import unquote

import httpx
import openpyxl
import pytest
from web_helpers import Api, registry, staff_member, staff_session

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.reports import compute
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.web.staff.report_view import build, people

pytestmark = pytest.mark.anyio
MANAGEMENT = {"zgierz": "bom:management", "nieporet": "urzad:management"}
_CELL_LINK = re.compile(r'<a href="(/staff/lists/(tickets|tasks)\?filter=[^"]+)">')


async def _seed(api: Api, slug: str) -> TenantScope:
    scope = TenantScope((await ensure_tenant(slug)).id)
    await seed_tenant(scope, registry().tenants[slug], demo_staff(slug), count=30, seed=2, end=api.clock.now)
    return scope


@pytest.mark.parametrize("slug", ["zgierz", "nieporet"])
async def test_every_report_and_the_dashboard_render_for_management(api: Api, slug: str) -> None:
    scope = await _seed(api, slug)
    tenant = registry().tenants[slug]
    user = await staff_member(slug, f"szef@{slug}.example.pl", MANAGEMENT[slug])
    view_user = await user_view(scope, user)
    client = api.client(slug)
    await staff_session(client, f"szef@{slug}.example.pl")
    inbox = await client.get("/staff/")
    assert 'href="/staff/dashboard"' in inbox.text and 'href="/staff/reports"' in inbox.text
    listing = await client.get("/staff/reports")
    assert listing.status_code == 200
    names = compute.readable(tenant, view_user)
    assert len(names) == len(tenant.reports) >= 11
    for name in names:
        assert f'href="/staff/reports/{name}"' in listing.text
        page = await client.get(f"/staff/reports/{name}")
        assert page.status_code == 200, (name, page.text[:500])
        assert "content-security-policy" in page.headers
        result = await compute.run(scope, tenant, name, view_user, api.clock.now)
        view = build(tenant, result, "pl", await people(scope, result))
        text = html.unescape(page.text)
        assert view.title in text
        for row in view.rows[:3]:  # the page's rows are the computed ones, labelled and formatted
            assert row.labels[0] in text and all(cell.text in text for cell in row.cells), (name, row)
        if view.chart:
            chart = re.search(r'data-chart="([^"]+)"', page.text)
            assert chart is not None and json.loads(html.unescape(chart.group(1))) == view.chart
        xlsx = await client.get(f"/staff/reports/{name}/export.xlsx")
        assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxml")
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == view.dimensions + view.measures
        assert [list(r) for r in rows[1:]] == [row.labels + [c.number for c in row.cells] for row in view.rows]
        assert sheet.freeze_panes == "A2"
    dashboard = await client.get("/staff/dashboard")
    assert dashboard.status_code == 200
    for name in compute.dashboard_tiles(tenant, view_user):
        assert f'id="tile-{name}"' in dashboard.text
    assert 'id="open-map"' in dashboard.text and "data-markers=" in dashboard.text
    exports = await scope.audit_events().filter(action="report_export").count()
    assert exports == len(names)  # every export is in the history


async def test_a_clerk_gets_not_found_for_every_report_and_the_dashboard(api: Api) -> None:
    await _seed(api, "zgierz")
    await staff_member("zgierz", "urzednik@zgierz.example.pl", "drogi:worker")
    client = api.client("zgierz")
    await staff_session(client, "urzednik@zgierz.example.pl")
    inbox = await client.get("/staff/")
    assert "/staff/dashboard" not in inbox.text and "/staff/reports" not in inbox.text
    for path in ["/staff/reports", "/staff/dashboard", "/staff/reports/tickets_by_unit_and_month",
                 "/staff/reports/tickets_by_unit_and_month/export.xlsx", "/staff/reports/no_such_report"]:
        answer = await client.get(path)
        assert answer.status_code == 404, path


async def test_a_head_sees_their_units_only_and_another_city_sees_nothing(api: Api) -> None:
    scope = await _seed(api, "zgierz")
    await _seed(api, "nieporet")
    tenant = registry().tenants["zgierz"]
    head = await staff_member("zgierz", "kierownik@zgierz.example.pl", "gospodarka_komunalna:unit_head")
    client = api.client("zgierz")
    await staff_session(client, "kierownik@zgierz.example.pl")
    page = await client.get("/staff/reports/delegations_by_unit")
    assert page.status_code == 200
    mine = await compute.run(scope, tenant, "open_by_unit", await user_view(scope, head), api.clock.now)
    dashboard = html.unescape((await client.get("/staff/dashboard")).text)
    units = {row.keys[0] for row in mine.rows}
    assert units and units <= {"gospodarka_komunalna", "zielen"} | {u for u in tenant.units if tenant.units[u].external}
    assert "Zarząd Dróg Miejskich" not in dashboard.split('id="tile-open_by_unit"')[1].split("</section>")[0]
    # a city's own report (tenants/zgierz/reports.yaml) is not another city's, even for its management
    await staff_member("nieporet", "wojt@nieporet.example.pl", MANAGEMENT["nieporet"])
    nieporet = api.client("nieporet")
    await staff_session(nieporet, "wojt@nieporet.example.pl")
    assert (await nieporet.get("/staff/reports/dumping_by_area")).status_code == 404
    assert (await nieporet.get("/staff/reports/dumping_by_area/export.xlsx")).status_code == 404
    assert (await nieporet.get("/staff/reports/tickets_by_unit_and_month")).status_code == 200
    # the same session on another city's host is nobody there: the sign-in form, no numbers
    other = httpx.AsyncClient(transport=nieporet._transport, base_url="http://test",
                              headers={"Host": "nieporet.localhost"}, cookies=client.cookies)
    elsewhere = await other.get("/staff/dashboard")
    await other.aclose()
    assert elsewhere.status_code == 303 and "/staff/login" in elsewhere.headers["location"]


async def test_every_link_of_the_dashboard_is_a_list_filter_the_lists_accept(api: Api) -> None:
    filters = pytest.importorskip("komunikator.engine.lists.filters")
    declared = pytest.importorskip("komunikator.engine.lists.declared")
    await _seed(api, "zgierz")
    await staff_member("zgierz", "szef@zgierz.example.pl", MANAGEMENT["zgierz"])
    client = api.client("zgierz")
    await staff_session(client, "szef@zgierz.example.pl")
    dashboard = await client.get("/staff/dashboard")
    links = _CELL_LINK.findall(html.unescape(dashboard.text))
    assert len(links) > 20
    tenant = registry().tenants["zgierz"]
    specs = {"tickets": declared.tickets_list(tenant), "tasks": declared.tasks_list(tenant)}
    for url, kind in links:
        document = unquote(url.split("?filter=", 1)[1])
        filters.parse(specs[kind], tenant, document)  # raises (422) on a document the list would refuse
    for url, _kind in links[:3] + links[-3:]:  # and the list pages open them
        answer = await client.get(html.unescape(url))
        assert answer.status_code == 200, (url, answer.text[:300])
