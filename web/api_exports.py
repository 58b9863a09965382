"""Background list exports in the JSON API: ask for one, follow it, download it (engine/lists/jobs.py).

    POST /api/v1/lists/<list>/exports?format=xlsx&filter=…&sort=…&columns=…   202 {id, status, status_url}
    GET  /api/v1/exports/{id}                                                   where it is; `download_url` when ready
    GET  /api/v1/exports/{id}/file                                              the file (410 once it expired)

The same parameters as the inline export (`GET /api/v1/lists/<list>/export`),
which refuses a view above `KOMUNIKATOR_EXPORT_INLINE_MAX_ROWS` with 409
`export_too_big`. Only the requester sees their export: anyone else, or
another city, gets 404 as if there were none.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse
from pydantic import BaseModel

from komunikator.engine.delivery import bell
from komunikator.engine.lists import jobs
from komunikator.engine.lists.declared import LISTS, list_spec
from komunikator.engine.lists.filters import text_in
from komunikator.engine.lists.view import open_view, size
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.models import ListExport
from komunikator.engine.store.transactions import transaction
from komunikator.web.actors import StaffActor
from komunikator.web.api_lists import ColumnsParam, FilterParam, LanguageParam, SortParam, language_for
from komunikator.web.deps import Now, PreferredLocale, Scope
from komunikator.web.openapi import ERROR_RESPONSES
from komunikator.web.tenancy import Tenant

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES, tags=["lists"])
ExportId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8"}


class ExportStatus(BaseModel):
    """A background export: where it is, and its file's address once written."""

    id: int
    list: str
    format: str
    #: pending, running, done, failed; `expired` is true once a done export's file was deleted
    status: str
    expired: bool
    rows: int
    total: int | None
    attempts: int
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    status_url: str
    #: the file (`GET`, the same credentials) while it is there
    download_url: str | None
    #: why it failed
    error: str | None


def _status(row: ListExport, now: datetime) -> ExportStatus:
    expired = jobs.expired(row, now)
    gave_up = row.status == "failed" and row.attempts >= jobs.max_attempts()
    return ExportStatus(
        id=row.id, list=row.list_name, format=row.format, status=row.status, expired=expired, rows=row.rows,
        total=row.total, attempts=row.attempts, created_at=row.created_at, finished_at=row.finished_at,
        expires_at=row.expires_at, status_url=f"/api/v1/exports/{row.id}",
        download_url=f"/api/v1/exports/{row.id}/file" if row.status == "done" and not expired else None,
        error=(f"failed after {row.attempts} attempts" if gave_up else row.error) if row.status == "failed" else None)


def _ask_route(name: str) -> Callable[..., Coroutine[Any, Any, ExportStatus]]:
    async def route(
        tenant: Tenant, scope: Scope, actor: StaffActor, now: Now, preferred: PreferredLocale,
        format: Literal["csv", "xlsx"] = "xlsx",  # noqa: A002
        filter: FilterParam = None, sort: SortParam = None, columns: ColumnsParam = None,  # noqa: A002
        lang: LanguageParam = None,
    ) -> ExportStatus:
        view = open_view(tenant, actor.view, name, filter_text=filter, sort=sort, columns=columns)
        counted = await size(scope, tenant, actor.view, view, now)
        async with transaction():
            row = await jobs.request_export(scope, tenant, actor.view, view, format,
                                            language_for(tenant, lang, preferred), now, counted.total)
        bell.ring()  # the embedded runner starts at once; Celery's beat rings `exports` every few seconds
        return _status(row, now)

    return route


for _name in LISTS:
    router.add_api_route(
        f"/lists/{_name}/exports", _ask_route(_name), methods=["POST"], status_code=202, response_model=ExportStatus,
        summary=f"Export the list {_name} in the background", operation_id=f"export_{_name}_in_background",
        description="The view (filter, sort, columns, format as for the inline export) written by the background "
        "job for this user, whatever its size (the inline export refuses one above "
        "KOMUNIKATOR_EXPORT_INLINE_MAX_ROWS with 409 `export_too_big`). 202 with the export's id and its "
        "`status_url`; the rows are read with the user's rights when the file is written; audited "
        "(`list_export_requested`, then `list_export`); the link is e-mailed to the user too.")


@router.get("/exports/{export_id}", response_model=ExportStatus, summary="A background export's status")
async def status(export_id: ExportId, scope: Scope, actor: StaffActor, now: Now) -> ExportStatus:
    """Where the export is; `download_url` once written (until it expires). Someone else's: 404."""
    return _status(await jobs.readable_export(scope, actor.view, export_id), now)


@router.get("/exports/{export_id}/file", response_class=FileResponse, summary="A background export's file",
            responses={200: {"content": {MEDIA["csv"]: {"schema": {"type": "string"}},
                                         MEDIA["xlsx"]: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "the written file"}})
async def download(export_id: ExportId, tenant: Tenant, scope: Scope, actor: StaffActor, now: Now,
                   preferred: PreferredLocale) -> FileResponse:
    """The written file, to its requester; 404 before it is written, 410 once its time is up."""
    row = await jobs.readable_export(scope, actor.view, export_id)
    if jobs.expired(row, now):
        raise ServiceError(410, "gone", "the export expired and its file was deleted: export the list again")
    path = jobs.file_path(row) if row.status == "done" else None
    if path is None:
        raise ServiceError(404, "not_found", "the export's file is not ready yet")
    stamp = row.created_at.strftime("%Y%m%d-%H%M")
    spec = list_spec(tenant, row.list_name)
    label = text_in(spec.label, language_for(tenant, row.language, preferred)) if spec is not None else row.list_name
    return FileResponse(path, media_type=MEDIA.get(row.format, "application/octet-stream"), headers={
        "Content-Disposition": f"attachment; filename=\"{row.list_name}-{stamp}.{row.format}\"; "
                               f"filename*=UTF-8''{quote(f'{label}-{stamp}.{row.format}')}",
        "Cache-Control": "no-store"})


__all__ = ["ExportStatus", "router"]
