"""The universal lists in the JSON API: `GET /api/v1/lists/<list>` and its CSV / XLSX export.

One route per declared list (`engine/lists/declared.py`), each answering
with the same rows as the staff page `/staff/lists/<list>`:

    GET /api/v1/lists/tickets?filter={"conditions":[…]}&sort=-priority,due_at&columns=number,state&after=…
    GET /api/v1/lists/tickets/export?format=xlsx&filter=…&sort=…&columns=…

`filter` is the JSON filter document (`engine/lists/filters.py`); a mistake
in it is a 422 naming its JSON path (`filter.conditions[1].op`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists import export, jobs, query
from komunikator.engine.lists.declared import LISTS
from komunikator.engine.lists.filters import MAX_TEXT, description, text_in
from komunikator.engine.lists.view import View, label, open_view, size
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.scope import TenantScope
from komunikator.web.actors import StaffActor
from komunikator.web.deps import Now, PreferredLocale, Scope
from komunikator.web.openapi import ERROR_RESPONSES
from komunikator.web.tenancy import Tenant

router = APIRouter(prefix="/api/v1/lists", responses=ERROR_RESPONSES, tags=["lists"])

FilterParam = Annotated[str | None, Query(max_length=MAX_TEXT, description="the JSON filter document")]
SortParam = Annotated[str | None, Query(max_length=300, description="columns, `-` for descending: `-priority,due_at`")]
ColumnsParam = Annotated[str | None, Query(max_length=3000, description="columns in order: `number,state,attr.size`")]
LanguageParam = Annotated[Literal["pl", "en"] | None, Query(description="labels' language (else Accept-Language)")]


class ListColumn(BaseModel):
    """A column of the answer: its key, heading and how it is shown."""

    key: str
    label: str
    render: str


class ListRow(BaseModel):
    """A row: its id and the chosen columns' values (codes, numbers, ISO moments)."""

    id: int
    values: dict[str, Any]


class ListPage(BaseModel):
    """A page of a list, the way to the next one, and the total."""

    name: str
    columns: list[ListColumn]
    sort: str
    filter_description: str
    rows: list[ListRow]
    next_cursor: str | None
    total: int | None
    #: the total is the database's estimate (above 10 000 rows on PostgreSQL)
    total_estimated: bool


def language_for(tenant: CompiledTenant, lang: str | None, preferred: str | None) -> str:
    """The labels' language: asked for, else the request's Accept-Language, else the city's; pl or en."""
    wanted = lang or preferred or tenant.config.locale
    return wanted if wanted in ("pl", "en") else "pl"


async def list_page(tenant: CompiledTenant, scope: TenantScope, actor: Any, now: datetime, name: str,
                    view: View, language: str, after: str | None, limit: int) -> ListPage:
    """A page of `view` as the API answers it (the staff page reads the same `query.page`)."""
    result = await query.page(scope, tenant, actor.view, view.spec, view.filter, view.sort, view.columns,
                              after=after, limit=limit, now=now)
    return ListPage(
        name=name,
        columns=[ListColumn(key=c.key, label=label(c, language), render=c.render) for c in view.columns],
        sort=query.sort_text(view.sort),
        filter_description=description(view.filter, tenant, language),
        rows=[ListRow(id=r.id, values={c.key: v for c, v in zip(view.columns, r.values, strict=True)})
              for r in result.rows],
        next_cursor=result.next_cursor, total=result.total, total_estimated=result.estimated,
    )


def _page_route(name: str) -> Callable[..., Coroutine[Any, Any, ListPage]]:
    async def route(
        tenant: Tenant, scope: Scope, actor: StaffActor, now: Now, preferred: PreferredLocale,
        filter: FilterParam = None, sort: SortParam = None, columns: ColumnsParam = None,  # noqa: A002
        after: Annotated[str | None, Query(max_length=2000, description="`next_cursor` of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50, lang: LanguageParam = None,
    ) -> ListPage:
        view = open_view(tenant, actor.view, name, filter_text=filter, sort=sort, columns=columns)
        return await list_page(tenant, scope, actor, now, name, view, language_for(tenant, lang, preferred), after,
                               limit)

    return route


def _export_route(name: str) -> Callable[..., Coroutine[Any, Any, StreamingResponse]]:
    async def route(
        tenant: Tenant, scope: Scope, actor: StaffActor, now: Now, preferred: PreferredLocale,
        format: Literal["csv", "xlsx"] = "xlsx",  # noqa: A002
        filter: FilterParam = None, sort: SortParam = None, columns: ColumnsParam = None,  # noqa: A002
        lang: LanguageParam = None,
    ) -> StreamingResponse:
        view = open_view(tenant, actor.view, name, filter_text=filter, sort=sort, columns=columns)
        counted = await size(scope, tenant, actor.view, view, now)
        if (counted.total or 0) > jobs.inline_max_rows():
            raise ServiceError(409, "export_too_big", f"the view has {'about ' if counted.estimated else ''}"
                               f"{counted.total} rows, more than {jobs.inline_max_rows()} exported at once: export it "
                               f"in the background (POST /api/v1/lists/{name}/exports)")
        return export_response(tenant, scope, actor, now, view, format, language_for(tenant, lang, preferred))

    return route


def export_response(tenant: CompiledTenant, scope: TenantScope, actor: Any, now: datetime, view: View,
                    kind: str, language: str) -> StreamingResponse:
    """The view as a streamed download (CSV or XLSX), audited when it ends."""
    stamp = now.strftime("%Y%m%d-%H%M")
    filename = f"{text_in(view.spec.label, language)}-{stamp}.{kind}"
    if kind == "csv":
        body = export.csv_stream(scope, tenant, actor.view, view, now, language)
        media = "text/csv; charset=utf-8"
    else:
        body = export.xlsx_stream(scope, tenant, actor.view, view, now, language)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ascii_name = f"{view.spec.name}-{stamp}.{kind}"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string",
                                                                                    "format": "binary"}}},
    "description": "the view as a file"}}

for _name, _build in LISTS.items():
    _label = _build.__doc__ or _name
    router.add_api_route(f"/{_name}", _page_route(_name), methods=["GET"], response_model=ListPage,
                         summary=f"The list {_name}", description=f"{_label} Filter, sort, columns and keyset "
                         "pages as on the staff page; only rows the user may read.",
                         operation_id=f"list_{_name}")
    router.add_api_route(f"/{_name}/export", _export_route(_name), methods=["GET"], response_class=StreamingResponse,
                         responses=_EXPORT_RESPONSES, summary=f"Export the list {_name}",
                         description=f"{_label} The current view (filter, sort, columns) as CSV or XLSX, streamed; "
                         "every export is audited. A view of more rows than KOMUNIKATOR_EXPORT_INLINE_MAX_ROWS "
                         "(10,000) is refused with 409 `export_too_big`: export it in the background "
                         "(`POST /api/v1/lists/{name}/exports`).", operation_id=f"export_{_name}")


__all__ = ["ListPage", "export_response", "language_for", "list_page", "router"]
