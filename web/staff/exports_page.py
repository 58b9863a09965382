"""Big exports in the browser: asked for on a list page, followed on their own page, downloaded by their requester.

    POST /staff/lists/<list>/exports      the view (filter, sort, columns) + format → a background export → 303
    GET  /staff/exports/<id>               its progress (htmx re-reads the status box every 2 s while it runs)
    GET  /staff/exports/<id>/file          the file: its requester only (404 for anyone else), 410 once expired

The job that writes them, and the settings, are `engine/lists/jobs.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from komunikator.engine.delivery import bell
from komunikator.engine.delivery.render import format_when
from komunikator.engine.lists import jobs
from komunikator.engine.lists.declared import list_spec
from komunikator.engine.lists.filters import text_in
from komunikator.engine.lists.view import open_view, size
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.models import ListExport
from komunikator.engine.store.transactions import transaction
from komunikator.web.staff.i18n import translations
from komunikator.web.staff.lists_page import list_url
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import CheckedStaffPage, Page, StaffPage

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8"}


async def _refused(page: Page, error: ServiceError) -> Response:
    t = translations(page.language)
    title = {404: t.gettext("Page not found"), 422: t.gettext("The form has mistakes")}.get(
        error.status, t.gettext("No access"))
    return await render(page, "error.html", status_code=error.status, title=title, heading=title,
                        message=error.message)


@router.post("/staff/lists/{name}/exports")
async def ask(page: CheckedStaffPage, name: str) -> Response:
    """Have the view written by the background job; on to the export's page."""
    assert page.view is not None  # noqa: S101
    form = {k: v for k, v in (await page.request.form()).items() if isinstance(v, str)}
    try:
        view = open_view(page.tenant, page.view, name, filter_text=form.get("filter") or None,
                         sort=form.get("sort") or None, columns=form.get("columns") or None)
        counted = await size(page.scope, page.tenant, page.view, view, page.now)
        async with transaction():
            row = await jobs.request_export(page.scope, page.tenant, page.view, view, form.get("format", ""),
                                            page.language, page.now, counted.total)
    except ServiceError as error:
        return await _refused(page, error)
    bell.ring()  # the embedded runner starts at once; Celery's beat rings `exports` every few seconds
    return RedirectResponse(f"/staff/exports/{row.id}", status_code=303)


async def _readable(page: Page, export_id: int) -> ListExport:
    assert page.view is not None  # noqa: S101
    return await jobs.readable_export(page.scope, page.view, export_id)


@router.get("/staff/exports/{export_id}", response_class=HTMLResponse)
async def status(page: StaffPage, export_id: int) -> Response:
    """Where the export is: waiting, being written (rows so far), ready (the link), failed or expired."""
    try:
        row = await _readable(page, export_id)
    except ServiceError as error:
        return await _refused(page, error)
    spec = list_spec(page.tenant, row.list_name)
    list_name = text_in(spec.label, page.language) if spec is not None else row.list_name
    back = list_url(row.list_name, {"filter": _filter_text(row), "sort": row.sort, "columns": row.columns})
    t = translations(page.language)
    return await render(
        page, "export.html", title=t.gettext("Export of the list %(name)s") % {"name": list_name}, current="lists",
        row=row, list_name=list_name, back=back, waiting=row.status in ("pending", "running"),
        expired=jobs.expired(row, page.now), expires_at=format_when(row.expires_at, page.tenant, page.language),
        total=max(row.total or 0, row.rows, 1), max_attempts=jobs.max_attempts(),
        gave_up=row.status == "failed" and row.attempts >= jobs.max_attempts())


def _filter_text(row: ListExport) -> str:
    return json.dumps(row.filter_document, ensure_ascii=False, separators=(",", ":")) if row.filter_document else ""


@router.get("/staff/exports/{export_id}/file")
async def download(page: StaffPage, export_id: int) -> Response:
    """The written file, to its requester; 410 once its time is up."""
    try:
        row = await _readable(page, export_id)
    except ServiceError as error:
        return await _refused(page, error)
    t = translations(page.language)
    if jobs.expired(row, page.now):
        title = t.gettext("The export has expired")
        return await render(page, "error.html", status_code=410, title=title, heading=title, message=t.gettext(
            "The file was deleted when its time was up. Export the list again."))
    path: Path | None = jobs.file_path(row) if row.status == "done" else None
    if path is None:
        return await _refused(page, ServiceError(404, "not_found", t.gettext("The file is not ready yet.")))
    stamp = row.created_at.strftime("%Y%m%d-%H%M")
    spec = list_spec(page.tenant, row.list_name)
    label = text_in(spec.label, page.language) if spec is not None else row.list_name
    ascii_name = f"{row.list_name}-{stamp}.{row.format}"
    return FileResponse(path, media_type=MEDIA.get(row.format, "application/octet-stream"), headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(f'{label}-{stamp}.{row.format}')}",
        "Cache-Control": "no-store"})


__all__ = ["router"]
