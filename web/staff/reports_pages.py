"""The reports (`/staff/reports`, `/staff/reports/<name>`, its XLSX) and the dashboard (`/staff/dashboard`).

Who may open a report is the report's `roles` (`engine/reports/compute.may_read`);
everyone else — a clerk, another city's staff, a name that does not exist —
gets the same 404 page, so a report does not even say it exists. The
dashboard opens for whoever may read one of its tiles. Every number is
computed for the reader: only the tickets they may see count.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from komunikator.engine.reports import compute
from komunikator.engine.reports.open_map import open_clusters
from komunikator.engine.service.apply import audit
from komunikator.engine.store.transactions import transaction
from komunikator.web.staff import nav
from komunikator.web.staff.admin_access import NotForYou
from komunikator.web.staff.i18n import localized, translations
from komunikator.web.staff.rendering import render, tile_source
from komunikator.web.staff.report_export import workbook
from komunikator.web.staff.report_view import ReportView, build, people
from komunikator.web.staff.session import Page, StaffPage

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def report_entries(page: Page) -> list[nav.NavEntry]:
    """"Pulpit" and "Raporty" for those who may read them."""
    if page.view is None:
        return []
    t = translations(page.language)
    entries = []
    if compute.dashboard_tiles(page.tenant, page.view):
        entries.append(nav.NavEntry("dashboard", t.gettext("Dashboard"), "/staff/dashboard", order=20))
    if compute.readable(page.tenant, page.view):
        entries.append(nav.NavEntry("reports", t.gettext("Statistics"), "/staff/reports", order=70))
    return entries


nav.add_provider(report_entries)


#: A dashboard tile links each number to its list up to this many rows (a longer table: the tile's list, and
#: the report's page links every number): a page of a few tens of kilobytes, not hundreds.
TILE_LINKS = 40


async def _view(page: Page, name: str, max_links: int | None = None) -> ReportView:
    assert page.view is not None  # noqa: S101  (signed-in staff only)
    if not compute.may_read(page.tenant, page.view, name):
        raise NotForYou(page)
    result = await compute.run(page.scope, page.tenant, name, page.view, page.now)
    return build(page.tenant, result, page.language, await people(page.scope, result), max_links)


@router.get("/staff/reports", response_class=HTMLResponse)
async def reports(page: StaffPage) -> Response:
    """The reports the signed-in member may read."""
    assert page.view is not None  # noqa: S101
    names = compute.readable(page.tenant, page.view)
    if not names:
        raise NotForYou(page)
    t = translations(page.language)
    items = [(n, localized(page.tenant.reports[n].name, page.language),
              localized(page.tenant.reports[n].description, page.language)
              if page.tenant.reports[n].description else "") for n in names]
    items.sort(key=lambda item: item[1])
    return await render(page, "reports.html", title=t.gettext("Statistics"), current="reports", items=items)


@router.get("/staff/reports/{name}", response_class=HTMLResponse)
async def report(page: StaffPage, name: str) -> Response:
    """One report: its chart, its table (the chart's accessible form) and a link to its XLSX."""
    view = await _view(page, name)
    return await render(page, "report.html", title=view.title, current="reports", view=view,
                        chart_json=_chart_json(view))


@router.get("/staff/reports/{name}/export.xlsx")
async def report_xlsx(page: StaffPage, name: str) -> Response:
    """The report's table as an XLSX workbook (audited: a workload report names people)."""
    view = await _view(page, name)
    assert page.view is not None  # noqa: S101
    async with transaction():
        await audit(page.scope, None, page.view, "report_export", {}, {"report": name, "rows": len(view.rows)},
                    page.now)
    content = workbook(view, page.tenant, page.language, page.now)
    stamp = page.now.strftime("%Y%m%d-%H%M")
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.xlsx"', "Cache-Control": "no-store"})


def _chart_json(view: ReportView) -> str | None:
    return json.dumps(view.chart, ensure_ascii=False, separators=(",", ":")) if view.chart else None


@router.get("/staff/dashboard", response_class=HTMLResponse)
async def dashboard(page: StaffPage) -> Response:
    """Heads' and management's overview: each tile a report, each number a link to its list; a map of open tickets."""
    assert page.view is not None  # noqa: S101
    names = compute.dashboard_tiles(page.tenant, page.view)
    if not names:
        raise NotForYou(page)
    t = translations(page.language)
    # the tiles' statements run side by side on PostgreSQL (each in its own transaction, on its own connection);
    # SQLite's one connection takes them in turn
    views = await asyncio.gather(*(_view(page, name, TILE_LINKS) for name in names))
    tiles = [(view, _chart_json(view)) for view in views]
    clusters = await open_clusters(page.scope, page.tenant, page.view)
    tiles_url, attribution = tile_source(page)
    config = page.tenant.config.map
    markers = json.dumps([[round(c.lat, 6), round(c.lon, 6), c.count, *c.bounds()[0], *c.bounds()[1]]
                          for c in clusters], separators=(",", ":"))
    open_list = "/staff/lists/tickets?filter=" + _quote({"match": "all", "conditions": [
        {"field": "public_status", "op": "eq", "value": "open"}]})
    return await render(page, "dashboard.html", title=t.gettext("Dashboard"), current="dashboard", tiles=tiles,
                        clusters=clusters[:10], cluster_total=sum(c.count for c in clusters), markers=markers,
                        map_center=config.center, map_zoom=config.zoom, tiles_url=tiles_url,
                        attribution=attribution, open_list=open_list)


def _quote(document: dict[str, object]) -> str:
    return quote(json.dumps(document, separators=(",", ":")), safe="")


__all__ = ["router"]
